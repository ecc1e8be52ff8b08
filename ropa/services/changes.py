"""What every change shares: opening the write path, building and validating states.

A use case (processors.py, activities.py, ...) authorises the caller, opens a
`Transaction` with `open_transaction`, builds the record's full state from the caller's
input with `new_state`/`patched`, has the domain validate it, checks references to other
records of the same organisation, and calls the transaction's create/update/delete.
"""

from __future__ import annotations

import typing
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from ropa.domain import validation
from ropa.domain.instants import parse_instant
from ropa.errors import (
    FieldError,
    NotFoundError,
    ReferenceNotFoundError,
    ValidationError,
)
from ropa.services import idempotency
from ropa.services.access import Action, Principal, authorize
from ropa.services.runtime import Runtime
from ropa.store.group_commit import Job
from ropa.store.ledger_store import Receipt
from ropa.store.tables import TABLE_BY_TYPE, VersionedRecord, snake
from ropa.store.write_path import Transaction

T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    """What a mutation returns: the record's state after the change and its receipt."""

    state: dict[str, Any] | None
    receipt: Receipt | None
    entity_type: str

    @property
    def record(self) -> dict[str, Any]:
        """The state: every change leaves (or, for a removal, names) a record."""
        assert self.state is not None
        return self.state


_recorded_at: ContextVar[str | None] = ContextVar("ropa_recorded_at", default=None)


@contextmanager
def recorded_at(ts: str) -> Iterator[None]:
    """Write the changes made inside at instant `ts` (LEDGER-SPEC §2 form) instead of now.

    For trusted system callers only (the demo loader, imports): a change made by any other
    principal inside is refused. The write path refuses a `ts` earlier than the ledger's
    last entry, so a history is written in chronological order.
    """
    token = _recorded_at.set(ts)
    try:
        yield
    finally:
        _recorded_at.reset(token)


def open_transaction(
    rt: Runtime, principal: Principal, org_id: str, *, creating_org: bool = False
) -> Transaction:
    ts = _recorded_at.get()
    if ts is not None:
        authorize(principal, Action.STATE_INSTANT)
    return Transaction(
        rt.db,
        org_id,
        principal.actor,
        rt.signing_key(),
        rt.settings.ledger_prefix,
        creating_org=creating_org,
        idempotency=idempotency.record_for(org_id),
        ts=ts,
    )


def run_change(
    rt: Runtime, principal: Principal, org_id: str, body: Callable[[Transaction], T]
) -> tuple[T, list[Receipt]]:
    """Apply `body` in a transaction of the write path and commit: its value and receipts.

    Concurrent changes to one organisation are grouped into one transaction and one
    checkpoint (`ropa.store.group_commit`), each with its own receipt and its own error.
    A change at an explicit instant (`recorded_at`) is written alone.
    """
    if _recorded_at.get() is not None:
        with open_transaction(rt, principal, org_id) as tx:
            value = body(tx)
            return value, tx.commit()
    job = Job(principal.actor, body, idempotency.record_for(org_id))
    return rt.writes.run(org_id, rt.signing_key(), job)


def new_id() -> str:
    return str(uuid.uuid4())


def _default(table: type[VersionedRecord], name: str) -> Any:
    annotation = table.model_fields[snake(name)].annotation
    origin = typing.get_origin(annotation)
    if origin is list or annotation is list:
        return []
    if annotation is bool:
        return False
    return None


def check_fields(entity_type: str, data: dict[str, Any], *, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError([FieldError(k, "unknown field") for k in unknown])


def new_state(entity_type: str, data: dict[str, Any], **fixed: Any) -> dict[str, Any]:
    """A full state: every field of the record type, defaults where `data` is silent."""
    table = TABLE_BY_TYPE[entity_type]
    check_fields(entity_type, data, allowed=set(table.state_fields))
    state: dict[str, Any] = {"id": new_id()}
    for name in table.state_fields:
        state[name] = data[name] if name in data else _default(table, name)
    state.update(fixed)
    return validated(entity_type, state)


def patched(row: VersionedRecord, data: dict[str, Any], **fixed: Any) -> dict[str, Any]:
    """The state after applying the given fields to the current version."""
    check_fields(row.entity_type, data, allowed=set(row.state_fields))
    state = row.to_state()
    state.update(data)
    state.update(fixed)
    return validated(row.entity_type, state)


def validated(entity_type: str, state: dict[str, Any]) -> dict[str, Any]:
    table = TABLE_BY_TYPE[entity_type]
    for name, value in state.items():
        # lists are never null: null in an input means "none"
        if value is None and name in table.state_fields and _default(table, name) == []:
            state[name] = []
    _VALIDATORS[entity_type](state)
    if entity_type == "ProcessingActivity":
        errors = validation.future_errors(state, recording_time())
        if errors:
            raise ValidationError(errors)
    return state


def recording_time() -> datetime:
    """The instant a change is being recorded at: now, or the system's `recorded_at`."""
    ts = _recorded_at.get()
    if ts is not None:
        try:
            return parse_instant(ts)
        except ValueError:
            pass  # the write path refuses it, naming the field
    return datetime.now(UTC)


_VALIDATORS = {
    "Organization": validation.validate_organization,
    "PrivacyPolicy": validation.validate_privacy_policy,
    "ProcessingActivity": validation.validate_processing_activity,
    "Processor": validation.validate_processor,
    "ProcessorEngagement": validation.validate_processor_engagement,
    "Transfer": validation.validate_transfer,
    "BreachIncident": validation.validate_breach_incident,
    "ApiToken": validation.validate_api_token,
}


def require(tx: Transaction, entity_type: str, record_id: str, field: str) -> VersionedRecord:
    """The current record `record_id` of this organisation, or NOT_FOUND naming `field`.

    Another organisation's record is not there either, and answers the same.
    """
    row = tx.current(TABLE_BY_TYPE[entity_type], record_id)
    if row is None:
        raise ReferenceNotFoundError(FieldError(field, f"no {entity_type} with this id"))
    return row


def existing(tx: Transaction, entity_type: str, record_id: str) -> VersionedRecord:
    """The record a mutation acts on, or NOT_FOUND (also for another organisation's)."""
    row = tx.current(TABLE_BY_TYPE[entity_type], record_id)
    if row is None:
        raise NotFoundError(f"{entity_type} not found")
    return row


def org_of(principal: Principal, org_id: str | None) -> str:
    """The organisation a change is made in: the token's own."""
    target = org_id or principal.org_id
    if target is None:
        raise ValidationError(FieldError("organization", "name the organization"))
    return target


def single(receipts: list[Receipt], entity_id: str) -> Receipt | None:
    for r in reversed(receipts):
        if r.entity_id == entity_id:
            return r
    return None


References = Callable[[Transaction, dict[str, Any]], None]


def _no_references(_tx: Transaction, _state: dict[str, Any]) -> None:
    return None


def create_record(
    rt: Runtime,
    principal: Principal,
    action: Action,
    entity_type: str,
    op: str,
    data: dict[str, Any],
    *,
    references: References = _no_references,
) -> Change:
    """The common shape of a use case that adds a record of the caller's organisation."""
    org_id = principal.org_id or ""
    authorize(principal, action, org_id)
    state = new_state(entity_type, data)

    def body(tx: Transaction) -> None:
        references(tx, state)
        tx.create(TABLE_BY_TYPE[entity_type], op, state)

    _, receipts = run_change(rt, principal, org_id, body)
    return Change(state, single(receipts, state["id"]), entity_type)


def update_record(
    rt: Runtime,
    principal: Principal,
    action: Action,
    entity_type: str,
    record_id: str,
    op: str,
    change: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]],
    *,
    references: References = _no_references,
    transition: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> Change:
    """The common shape of a use case that changes one record: `change` is the fields to
    set, or a function from the current state to the new one. No change, no entry."""
    org_id = principal.org_id or ""
    authorize(principal, action, org_id)

    def body(tx: Transaction) -> dict[str, Any]:
        row = existing(tx, entity_type, record_id)
        before = row.to_state()
        fields = change
        if callable(fields):
            after = fields(dict(before))
            fields = {k: v for k, v in after.items() if before.get(k) != v}
        state = patched(row, fields)
        if transition is not None:
            transition(before, state)
        if state != before:
            references(tx, state)
            tx.update(row, op, state)
        return state

    state, receipts = run_change(rt, principal, org_id, body)
    return Change(state, single(receipts, record_id), entity_type)


def delete_record(
    rt: Runtime,
    principal: Principal,
    action: Action,
    entity_type: str,
    record_id: str,
    op: str,
) -> Change:
    """The common shape of a use case that removes a record (its history stays)."""
    org_id = principal.org_id or ""
    authorize(principal, action, org_id)

    def body(tx: Transaction) -> dict[str, Any]:
        row = existing(tx, entity_type, record_id)
        before = row.to_state()
        tx.delete(row, op)
        return before

    before, receipts = run_change(rt, principal, org_id, body)
    return Change(before, single(receipts, record_id), entity_type)
