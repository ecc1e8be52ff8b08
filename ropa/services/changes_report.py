"""What changed between two instants: the ledger entries in between, grouped by record.

Answers a DPO's "when did we start sending data to the US?" from the signed ledger itself.
The range (`from`, `to`] holds the entries a view `asOf: to` has and a view `asOf: from`
has not: seq from `size_at(from)` up to `size_at(to)` (exclusive). Every entry keeps its
seq and ts, so each change can be proven with an inclusion proof (RFC 9162 §2.1.3); the
states come from the entries' `before` and `after` (LEDGER-SPEC §2), never from the tables.

A record's changes are shown to those who may read the record (`access.may_read`: breaches
to the DPO, tokens to those who manage them); signing-key rotations to those who may read
the ledger itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ropa.errors import FieldError, ValidationError
from ropa.services import reads
from ropa.services.access import Action, Principal, authorize, can, may_read
from ropa.services.ledger_queries import EntryView, entry_view
from ropa.services.runtime import Runtime
from ropa.store import ledger_store

RECORD_TYPES = frozenset({
    "Organization", "PrivacyPolicy", "ProcessingActivity", "Processor", "ProcessorEngagement",
    "Transfer", "BreachIncident", "ApiToken",
})
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class FieldChange:
    """One field that differs; nested objects by dotted path (`retention.period`)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class EntryChange:
    """One ledger entry of a record, and the fields it changed."""

    seq: int
    ts: str
    op: str
    actor: dict[str, str]
    leaf_hash: str
    fields: list[FieldChange]


@dataclass
class RecordChange:
    """Every change to one record in the range: its state at either end and the entries."""

    entity_type: str
    entity_id: str
    name: str | None
    before: dict[str, Any] | None  # as it stood at `from` (None: did not exist yet)
    after: dict[str, Any] | None  # as it stands at `to` (None: deleted)
    entries: list[EntryChange] = field(default_factory=list)

    @property
    def fields(self) -> list[FieldChange]:
        """The net difference between `before` and `after`."""
        return diff(self.before, self.after)


@dataclass(frozen=True)
class ChangesReport:
    from_size: int
    to_size: int
    records: list[RecordChange]


def changes(
    rt: Runtime, principal: Principal, org_id: str, from_ts: str, to_ts: str,
    entity_type: str | None = None,
) -> ChangesReport:
    """The records of `org_id` changed after `from_ts` up to and including `to_ts`."""
    authorize(principal, Action.READ, org_id)
    reads.refuse_future("from", from_ts)
    reads.refuse_future("to", to_ts)
    if to_ts < from_ts:
        raise ValidationError(FieldError("to", "must not be before from"))
    visible = {t for t in RECORD_TYPES if may_read(principal, t)} | (
        {"SigningKey"} if can(principal, Action.READ_LEDGER) else set()
    )
    with rt.db.read() as conn:
        from_size = ledger_store.size_at(conn, org_id, from_ts)
        to_size = ledger_store.size_at(conn, org_id, to_ts)
        if to_size - from_size > MAX_ENTRIES:
            raise ValidationError(FieldError(
                "from", f"the range holds more than {MAX_ENTRIES} changes: narrow it",
            ))
        rows = ledger_store.entries(
            conn, org_id, after=from_size - 1, limit=to_size - from_size
        )
        found = [entry_view(r) for r in rows]
    wanted = (e for e in found if e.entity_type in visible
              and (entity_type is None or e.entity_type == entity_type))
    # transfers and engagements are named after the activities and processors they link
    view = reads.View(org_id, to_size)
    names = {
        s["id"]: s["name"] for t in ("ProcessingActivity", "Processor")
        for s in reads.all_records(rt, view, t)
    }
    return ChangesReport(from_size, to_size, group(wanted, names))


def group(entries: Iterable[EntryView], names: dict[str, str]) -> list[RecordChange]:
    """Entries by record, records in the order of their first change in the range."""
    records: dict[tuple[str, str], RecordChange] = {}
    names = dict(names)
    for e in entries:
        state = e.after if e.after is not None else e.before
        if state is not None and isinstance(state.get("name"), str):
            names[e.entity_id] = state["name"]
        key = (e.entity_type, e.entity_id)
        record = records.get(key)
        if record is None:
            record = records[key] = RecordChange(
                e.entity_type, e.entity_id, None, e.before, e.after
            )
        record.after = e.after
        record.entries.append(EntryChange(
            e.seq, e.ts, e.op, e.actor, e.leaf_hash, diff(e.before, e.after)
        ))
    for record in records.values():
        record.name = label(record.entity_type, record.after or record.before, names)
    return list(records.values())


def label(entity_type: str, state: dict[str, Any] | None, names: dict[str, str]) -> str | None:
    """A name a DPO recognises the record by."""
    if state is None:
        return None
    if entity_type == "BreachIncident":
        return state.get("title")
    if entity_type == "PrivacyPolicy":
        return f"version {state.get('version')}"
    if entity_type == "Transfer":
        recipient = state.get("recipientName") or names.get(
            state.get("recipientProcessorId") or "", "a processor"
        )
        return f"{state.get('fromCountry')} → {state.get('toCountry')}: {recipient}"
    if entity_type == "ProcessorEngagement":
        activity = names.get(state.get("activityId") or "", "an activity")
        processor = names.get(state.get("processorId") or "", "a processor")
        return f"{activity} → {processor}"
    if entity_type == "ApiToken":
        return f"{state.get('name')} ({state.get('role')})"
    name = state.get("name")
    return name if isinstance(name, str) else None


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """Field-level difference of two states; a created or deleted record lists its non-empty
    fields against null. Lists are compared whole, objects field by field."""
    return list(_diff(before, after, ""))


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _diff(before: Any, after: Any, prefix: str) -> Iterator[FieldChange]:
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    whole = before is None or after is None  # created or deleted: no "unchanged" side
    for key in [*new, *(k for k in old if k not in new)]:
        if not prefix and key == "id":
            continue
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if a == b or (whole and _empty(a) and _empty(b)):
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            yield from _diff(a, b, f"{path}.")
        else:
            yield FieldChange(path, a, b)
