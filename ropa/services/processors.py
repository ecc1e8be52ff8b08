"""Use cases for processors (vendors): register, update, retire.

`registerProcessor` matches on `externalRef` when the caller gives one, so a nightly
vendor sync registers each vendor once and afterwards only records real changes. Without
a match, a vendor whose name or legal name (case, spacing and punctuation ignored) is
already that of a live processor is refused with CONFLICT naming it, unless the caller
says the second record is intended (`allowDuplicate`): Art. 30(1)(d) asks for one
record of each recipient, not two that drift apart.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlmodel import col

from ropa.domain.validation import name_key
from ropa.domain.vocabulary import ProcessorStatus
from ropa.errors import DuplicateError
from ropa.services.access import Action, Principal, authorize
from ropa.services.changes import (
    Change,
    new_state,
    patched,
    run_change,
    single,
    update_record,
)
from ropa.services.runtime import Runtime
from ropa.store.tables import Processor
from ropa.store.write_path import Transaction


def register_processor(rt: Runtime, principal: Principal, data: dict[str, Any]) -> Change:
    """Register a vendor; a likely duplicate of a live one is refused unless `allowDuplicate`."""
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    data = dict(data)
    allow_duplicate = bool(data.pop("allowDuplicate", False))
    def body(tx: Transaction) -> dict[str, Any]:
        ref = data.get("externalRef")
        match = tx.current_where(Processor, external_ref=ref) if ref else []
        if match:
            row = match[0]
            state = patched(row, data)
            if state != row.to_state():
                tx.update(row, "registerProcessor", state)
            return state
        state = new_state("Processor", {"status": "ACTIVE", **data})
        if not allow_duplicate:
            _refuse_duplicate(tx, state)
        tx.create(Processor, "registerProcessor", state)
        return state

    state, receipts = run_change(rt, principal, org_id, body)
    return Change(state, single(receipts, state["id"]), "Processor")


def _refuse_duplicate(tx: Transaction, state: dict[str, Any]) -> None:
    """CONFLICT when a live (not retired) processor has the same name or legal name."""
    found = tx.read_rows(duplicate_query(tx.org_id, state))
    if found:
        same_id, same_name = found[0]
        raise DuplicateError(
            "Processor",
            same_id,
            same_name,
            "update that record, or register with allowDuplicate: true if this is another "
            "contract with the same vendor",
        )


def duplicate_query(org_id: str, state: dict[str, Any]) -> Select[str, str]:
    """The first live processor of the organisation named like `state` (id, name).

    Names are compared as `validation.name_key` keeps them (case, spacing and punctuation
    ignored), through the keys stored with every version: one indexed look-up.
    """
    keys = [k for k in {name_key(state.get("name")), name_key(state.get("legalName"))} if k]
    return (
        select(col(Processor.id), col(Processor.name))
        .where(
            col(Processor.org_id) == org_id,
            col(Processor.valid_to).is_(None),
            col(Processor.status) != ProcessorStatus.RETIRED,
            col(Processor.id) != state["id"],
            or_(col(Processor.name_key).in_(keys), col(Processor.legal_name_key).in_(keys)),
        )
        .order_by(col(Processor.valid_from))
        .limit(1)
    )


def update_processor(
    rt: Runtime, principal: Principal, processor_id: str, data: dict[str, Any]
) -> Change:
    return update_record(
        rt, principal, Action.WRITE_RECORDS, "Processor", processor_id, "updateProcessor", data
    )


def retire_processor(rt: Runtime, principal: Principal, processor_id: str) -> Change:
    return update_record(
        rt,
        principal,
        Action.WRITE_RECORDS,
        "Processor",
        processor_id,
        "retireProcessor",
        {"status": "RETIRED"},
    )
