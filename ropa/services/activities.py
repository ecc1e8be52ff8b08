"""Use cases for processing activities (Art. 30(1), 30(2)) and their processor engagements."""

from __future__ import annotations

from typing import Any

from ropa.services.access import Action, Principal, authorize
from ropa.services.changes import (
    Change,
    existing,
    new_state,
    open_transaction,
    patched,
    require,
    single,
)
from ropa.services.runtime import Runtime
from ropa.store.tables import ProcessingActivity, ProcessorEngagement


def create_processing_activity(
    rt: Runtime, principal: Principal, data: dict[str, Any]
) -> Change:
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    data = {"status": "ACTIVE", "role": "CONTROLLER", **data}
    state = new_state("ProcessingActivity", data)
    with open_transaction(rt, principal, org_id) as tx:
        tx.create(ProcessingActivity, "createProcessingActivity", state)
        receipts = tx.commit()
    return Change(state, single(receipts, state["id"]), "ProcessingActivity")


def update_processing_activity(
    rt: Runtime, principal: Principal, activity_id: str, data: dict[str, Any]
) -> Change:
    return _change(rt, principal, activity_id, "updateProcessingActivity", data)


def retire_processing_activity(rt: Runtime, principal: Principal, activity_id: str) -> Change:
    return _change(rt, principal, activity_id, "retireProcessingActivity", {"status": "RETIRED"})


def _change(
    rt: Runtime, principal: Principal, activity_id: str, op: str, data: dict[str, Any]
) -> Change:
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    with open_transaction(rt, principal, org_id) as tx:
        row = existing(tx, "ProcessingActivity", activity_id)
        state = patched(row, data)
        if state == row.to_state():
            return Change(state, None, "ProcessingActivity")
        tx.update(row, op, state)
        receipts = tx.commit()
    return Change(state, single(receipts, activity_id), "ProcessingActivity")


def engage_processor(rt: Runtime, principal: Principal, data: dict[str, Any]) -> Change:
    """An activity uses a processor, for a purpose, with these data categories, there."""
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    state = new_state("ProcessorEngagement", data)
    with open_transaction(rt, principal, org_id) as tx:
        require(tx, "ProcessingActivity", state["activityId"], "activityId")
        require(tx, "Processor", state["processorId"], "processorId")
        tx.create(ProcessorEngagement, "engageProcessor", state)
        receipts = tx.commit()
    return Change(state, single(receipts, state["id"]), "ProcessorEngagement")


def disengage_processor(rt: Runtime, principal: Principal, engagement_id: str) -> Change:
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    with open_transaction(rt, principal, org_id) as tx:
        row = existing(tx, "ProcessorEngagement", engagement_id)
        before = row.to_state()
        tx.delete(row, "disengageProcessor")
        receipts = tx.commit()
    return Change(before, single(receipts, engagement_id), "ProcessorEngagement")
