"""Use cases for processors (vendors): register, update, retire.

`registerProcessor` matches on `externalRef` when the caller gives one, so a nightly
vendor sync registers each vendor once and afterwards only records real changes.
"""

from __future__ import annotations

from typing import Any

from ropa.services.access import Action, Principal, authorize
from ropa.services.changes import (
    Change,
    new_state,
    open_transaction,
    patched,
    single,
    update_record,
)
from ropa.services.runtime import Runtime
from ropa.store.tables import Processor


def register_processor(rt: Runtime, principal: Principal, data: dict[str, Any]) -> Change:
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    with open_transaction(rt, principal, org_id) as tx:
        ref = data.get("externalRef")
        match = tx.current_where(Processor, external_ref=ref) if ref else []
        if match:
            row = match[0]
            state = patched(row, data)
            if state == row.to_state():
                return Change(state, None, "Processor")
            tx.update(row, "registerProcessor", state)
        else:
            state = new_state("Processor", {"status": "ACTIVE", **data})
            tx.create(Processor, "registerProcessor", state)
        receipts = tx.commit()
    return Change(state, single(receipts, state["id"]), "Processor")


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
