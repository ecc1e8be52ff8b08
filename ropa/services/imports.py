"""Bulk import: many changes of one organisation in ONE transaction of the write path.

For migrating an existing register (or building a benchmark's data) a change per
transaction costs a signed checkpoint and a commit each; an import writes every change
as its own signed ledger entry, exactly as the single use cases do (same validation, same
`Transaction.create`/`update`, same entries), and seals them with one checkpoint. Either
the whole import commits or none of it does.

Each step names the use case whose rules it follows: registerProcessor, updateProcessor,
createProcessingActivity, updateProcessingActivity, engageProcessor, recordTransfer,
reportBreach, updateBreach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ropa.errors import FieldError, NotFoundError, UserError, ValidationError
from ropa.services.access import Action, Principal, authorize
from ropa.services.changes import existing, new_state, open_transaction, patched, require
from ropa.services.runtime import Runtime
from ropa.store.ledger_store import Receipt
from ropa.store.tables import TABLE_BY_TYPE, VersionedRecord
from ropa.store.write_path import Transaction

# op -> (entity type, creates?, defaults of a new record)
_OPS: dict[str, tuple[str, bool, dict[str, Any]]] = {
    "registerProcessor": ("Processor", True, {"status": "ACTIVE"}),
    "updateProcessor": ("Processor", False, {}),
    "createProcessingActivity": (
        "ProcessingActivity", True, {"status": "ACTIVE", "role": "CONTROLLER"}
    ),
    "updateProcessingActivity": ("ProcessingActivity", False, {}),
    "engageProcessor": ("ProcessorEngagement", True, {}),
    "recordTransfer": ("Transfer", True, {}),
    "reportBreach": ("BreachIncident", True, {"status": "OPEN", "risk": "RISK"}),
    "updateBreach": ("BreachIncident", False, {}),
}
# the records a new record of this type refers to: field -> entity type
_REFERENCES = {
    "ProcessorEngagement": {"activityId": "ProcessingActivity", "processorId": "Processor"},
    "Transfer": {"activityId": "ProcessingActivity", "recipientProcessorId": "Processor"},
}


@dataclass(frozen=True)
class Step:
    """One change: `op` (a use case's name), its input, and the record it changes."""

    op: str
    data: dict[str, Any] = field(default_factory=dict)
    record_id: str | None = None  # for updates
    new_id: str | None = None  # for creates: the id to give the record (else a new UUID)


def import_changes(rt: Runtime, principal: Principal, steps: Iterable[Step]) -> list[Receipt]:
    """Apply every step in one transaction; one receipt per ledger entry written."""
    org_id = principal.org_id or ""
    steps = list(steps)
    for step in steps:
        if step.op not in _OPS:
            raise ValidationError(FieldError("op", f"unknown use case {step.op!r}"))
    authorize(principal, Action.WRITE_RECORDS, org_id)
    if any(_OPS[s.op][0] == "BreachIncident" for s in steps):
        authorize(principal, Action.WRITE_BREACHES, org_id)
    with open_transaction(rt, principal, org_id) as tx:
        touched: set[str] = set()
        created: set[str] = set()
        rows = _current_rows(tx, steps)
        for k, step in enumerate(steps):
            try:
                _apply(tx, step, touched, created, rows)
            except UserError as exc:
                raise StepRefused(k, exc) from None
        return tx.commit()


@dataclass(frozen=True)
class StepRefused(Exception):
    """Step `index` of an import was refused (`cause`); nothing of the import was written."""

    index: int
    cause: UserError

    def __str__(self) -> str:
        return str(self.cause)


def _current_rows(tx: Transaction, steps: list[Step]) -> dict[str, VersionedRecord]:
    """The current versions of every record the import updates, one query per type."""
    wanted: dict[str, set[str]] = {}
    for step in steps:
        entity_type, creates, _ = _OPS[step.op]
        if not creates and step.record_id is not None:
            wanted.setdefault(entity_type, set()).add(step.record_id)
    found: dict[str, VersionedRecord] = {}
    for entity_type, ids in wanted.items():
        table = TABLE_BY_TYPE[entity_type]
        stmt = select(table).where(
            table.org_id == tx.org_id,  # type: ignore[arg-type]
            table.valid_to.is_(None),  # type: ignore[union-attr]
            table.id.in_(ids),  # type: ignore[attr-defined]
        )
        found.update((r.id, r) for r in tx.read(stmt))
    return found


def _apply(
    tx: Transaction, step: Step, touched: set[str], created: set[str],
    rows: dict[str, VersionedRecord],
) -> None:
    entity_type, creates, defaults = _OPS[step.op]
    table = TABLE_BY_TYPE[entity_type]
    if creates:
        state = new_state(entity_type, {**defaults, **step.data})
        if step.new_id is not None:
            state["id"] = step.new_id
        for name, target in _REFERENCES.get(entity_type, {}).items():
            ref = state.get(name)
            if ref and ref not in created:
                require(tx, target, ref, name)
        tx.create(table, step.op, state)
        created.add(state["id"])
        touched.add(state["id"])
        return
    if step.record_id is None:
        raise ValidationError(FieldError("id", f"{step.op} names the record it changes"))
    if step.record_id in touched:
        # the record changed earlier in this import: read its newest version
        row = existing(tx, entity_type, step.record_id)
    else:
        found = rows.get(step.record_id)
        if found is None or found.entity_type != entity_type:
            raise NotFoundError(f"{entity_type} not found")
        row = found
    state = patched(row, step.data)
    if state != row.to_state():
        tx.update(row, step.op, state)
        touched.add(step.record_id)


# --- an import file: one change a line (JSON Lines) ------------------------------------


def step_from_json(obj: Any) -> Step:
    """A step from one line of an import file: {"op", "data", "id" (updates), "newId"}."""
    if not isinstance(obj, dict):
        raise ValidationError(FieldError("line", "a JSON object per line"))
    unknown = sorted(set(obj) - {"op", "data", "id", "newId"})
    if unknown:
        raise ValidationError([FieldError(k, "unknown member") for k in unknown])
    op, data = obj.get("op"), obj.get("data", {})
    if not isinstance(op, str) or op not in _OPS:
        raise ValidationError(FieldError("op", f"one of {', '.join(_OPS)}"))
    if not isinstance(data, dict):
        raise ValidationError(FieldError("data", "an object: the use case's input"))
    for name in ("id", "newId"):
        if obj.get(name) is not None and not isinstance(obj[name], str):
            raise ValidationError(FieldError(name, "a record id (UUID text)"))
    creates = _OPS[op][1]
    if not creates and obj.get("id") is None:
        raise ValidationError(FieldError("id", f"{op} names the record it changes"))
    return Step(op, data, record_id=obj.get("id"), new_id=obj.get("newId"))


@dataclass(frozen=True)
class ImportFailure(Exception):
    """A batch refused: nothing of it was written; the batches before it were."""

    line: int  # the refused line
    first: int  # the first line of its batch: where to resume
    imported: int  # lines written before that batch
    cause: Exception


def import_lines(
    rt: Runtime,
    principal: Principal,
    lines: Iterable[tuple[int, Step]],
    *,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Import numbered steps `batch` at a time, each batch one transaction (one checkpoint).

    Returns the number of entries written. A refused batch raises ImportFailure naming the
    refused line: the batches before it are committed, it and those after are not.
    """
    written, done = 0, 0
    numbers: list[int] = []
    pending: list[Step] = []
    for number, step in lines:
        numbers.append(number)
        pending.append(step)
        if len(pending) >= batch:
            written += _import_batch(rt, principal, pending, numbers, done)
            done += len(pending)
            numbers, pending = [], []
            if progress is not None:
                progress(done)
    if pending:
        written += _import_batch(rt, principal, pending, numbers, done)
        done += len(pending)
        if progress is not None:
            progress(done)
    return written


def _import_batch(
    rt: Runtime, principal: Principal, steps: list[Step], numbers: list[int], done: int
) -> int:
    try:
        return len(import_changes(rt, principal, steps))
    except StepRefused as exc:
        raise ImportFailure(numbers[exc.index], numbers[0], done, exc.cause) from None
