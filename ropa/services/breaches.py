"""Use cases for personal-data breaches (Art. 33, 34): report, update, notify, close.

The rules (the 72-hour clock, phased notifications, which status may follow which) live in
`ropa.domain.breach`; this module applies them inside the write path. Breaches are for
the DPO (and ADMIN) only. Errors about a notification or a communication name the field of
the mutation's input (`notifiedAt`, `phase`, `delayReasons`), not its place in the record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ropa.domain import breach as rules
from ropa.errors import FieldError, ValidationError
from ropa.services.access import Action, Principal, authorize
from ropa.services.changes import (
    Change,
    existing,
    new_state,
    open_transaction,
    patched,
    recording_time,
    require,
    single,
)
from ropa.services.runtime import Runtime
from ropa.store.tables import BreachIncident
from ropa.store.write_path import Transaction


def report_breach(rt: Runtime, principal: Principal, data: dict[str, Any]) -> Change:
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_BREACHES, org_id)
    state = new_state("BreachIncident", {"status": "OPEN", "risk": "RISK", **data})
    _refuse(rules.future_errors(state, recording_time()))
    with open_transaction(rt, principal, org_id) as tx:
        _check_references(tx, state)
        tx.create(BreachIncident, "reportBreach", state)
        receipts = tx.commit()
    return Change(state, single(receipts, state["id"]), "BreachIncident")


def update_breach(
    rt: Runtime, principal: Principal, breach_id: str, data: dict[str, Any]
) -> Change:
    return _change(rt, principal, breach_id, "updateBreach", lambda s: {**s, **data})


def notify_authority(
    rt: Runtime, principal: Principal, breach_id: str, notification: dict[str, Any]
) -> Change:
    """Record a notification to the supervisory authority (Art. 33(1); phased, 33(4))."""
    note = {"authority": None, "notifiedAt": None, "reference": None, "phase": "INITIAL",
            "delayReasons": None, **notification}
    added: list[int] = []

    def apply(state: dict[str, Any]) -> dict[str, Any]:
        _refuse(rules.new_notification_errors(state, note))
        added.append(len(state["authorityNotifications"]))
        return {**state, "authorityNotifications": [*state["authorityNotifications"], note]}

    def input_field(path: str) -> str:
        prefix = f"authorityNotifications.{added[0]}." if added else None
        return path.removeprefix(prefix) if prefix else path

    return _change(rt, principal, breach_id, "notifyAuthority", apply, input_field)


def notify_data_subjects(
    rt: Runtime, principal: Principal, breach_id: str, data: dict[str, Any]
) -> Change:
    """Record the communication to data subjects (Art. 34), or the Art. 34(3) exemption."""
    exemption = data.get("exemption")
    if exemption is not None and (data.get("notifiedAt") or data.get("channel")):
        raise ValidationError(FieldError(
            "exemption", "give either the communication (notifiedAt, channel) or the "
            "Art. 34(3) exemption that makes it unnecessary, not both",
        ))

    def apply(state: dict[str, Any]) -> dict[str, Any]:
        if exemption is not None:
            return {**state, "subjectCommunicationExemption": exemption}
        communication = {"notifiedAt": data.get("notifiedAt"), "channel": data.get("channel")}
        return {**state, "subjectCommunication": communication}

    def input_field(path: str) -> str:
        return path.removeprefix("subjectCommunication.")

    return _change(rt, principal, breach_id, "notifyDataSubjects", apply, input_field)


def close_breach(rt: Runtime, principal: Principal, breach_id: str) -> Change:
    return _change(rt, principal, breach_id, "closeBreach", lambda s: {**s, "status": "CLOSED"})


def _change(
    rt: Runtime, principal: Principal, breach_id: str, op: str,
    apply: Callable[[dict[str, Any]], dict[str, Any]],
    input_field: Callable[[str], str] | None = None,
) -> Change:
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_BREACHES, org_id)
    with open_transaction(rt, principal, org_id) as tx:
        row = existing(tx, "BreachIncident", breach_id)
        before = row.to_state()
        try:
            after = apply(dict(before))
            changed = {k: v for k, v in after.items() if before.get(k) != v}
            state = patched(row, changed)
            _refuse(rules.future_errors(state, recording_time()))
            rules.check_transition(before, state)
        except ValidationError as exc:
            if input_field is None:
                raise
            raise ValidationError(
                [FieldError(input_field(e.field), e.message) for e in exc.errors]
            ) from None
        if state == before:
            return Change(state, None, "BreachIncident")
        _check_references(tx, state)
        tx.update(row, op, state)
        receipts = tx.commit()
    return Change(state, single(receipts, breach_id), "BreachIncident")


def _refuse(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(errors)


def _check_references(tx: Transaction, state: dict[str, Any]) -> None:
    for i, activity_id in enumerate(state["affectedActivityIds"]):
        require(tx, "ProcessingActivity", activity_id, f"affectedActivityIds.{i}")
    for i, processor_id in enumerate(state["affectedProcessorIds"]):
        require(tx, "Processor", processor_id, f"affectedProcessorIds.{i}")
