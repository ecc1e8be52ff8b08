"""Use cases for processing activities (Art. 30(1), 30(2)) and their processor engagements."""

from __future__ import annotations

from typing import Any

from ropa.services.access import Action, Principal
from ropa.services.changes import Change, create_record, delete_record, require, update_record
from ropa.services.runtime import Runtime
from ropa.store.write_path import Transaction

WRITE = Action.WRITE_RECORDS


def create_processing_activity(rt: Runtime, principal: Principal, data: dict[str, Any]) -> Change:
    data = {"status": "ACTIVE", "role": "CONTROLLER", **data}
    return create_record(
        rt, principal, WRITE, "ProcessingActivity", "createProcessingActivity", data
    )


def update_processing_activity(
    rt: Runtime, principal: Principal, activity_id: str, data: dict[str, Any]
) -> Change:
    return update_record(
        rt, principal, WRITE, "ProcessingActivity", activity_id, "updateProcessingActivity", data
    )


def retire_processing_activity(rt: Runtime, principal: Principal, activity_id: str) -> Change:
    return update_record(
        rt,
        principal,
        WRITE,
        "ProcessingActivity",
        activity_id,
        "retireProcessingActivity",
        {"status": "RETIRED"},
    )


def engage_processor(rt: Runtime, principal: Principal, data: dict[str, Any]) -> Change:
    """An activity uses a processor, for a purpose, with these data categories, there."""
    return create_record(
        rt,
        principal,
        WRITE,
        "ProcessorEngagement",
        "engageProcessor",
        data,
        references=_engagement_references,
    )


def disengage_processor(rt: Runtime, principal: Principal, engagement_id: str) -> Change:
    return delete_record(
        rt, principal, WRITE, "ProcessorEngagement", engagement_id, "disengageProcessor"
    )


def _engagement_references(tx: Transaction, state: dict[str, Any]) -> None:
    require(tx, "ProcessingActivity", state["activityId"], "activityId")
    require(tx, "Processor", state["processorId"], "processorId")
