"""Use cases for transfers to third countries (GDPR Chapter V): record, update, remove."""

from __future__ import annotations

from typing import Any

from ropa.services.access import Action, Principal
from ropa.services.changes import Change, create_record, delete_record, require, update_record
from ropa.services.runtime import Runtime
from ropa.store.write_path import Transaction

WRITE = Action.WRITE_RECORDS


def record_transfer(rt: Runtime, principal: Principal, data: dict[str, Any]) -> Change:
    return create_record(
        rt, principal, WRITE, "Transfer", "recordTransfer", data, references=_references
    )


def update_transfer(
    rt: Runtime, principal: Principal, transfer_id: str, data: dict[str, Any]
) -> Change:
    return update_record(
        rt,
        principal,
        WRITE,
        "Transfer",
        transfer_id,
        "updateTransfer",
        data,
        references=_references,
    )


def remove_transfer(rt: Runtime, principal: Principal, transfer_id: str) -> Change:
    return delete_record(rt, principal, WRITE, "Transfer", transfer_id, "removeTransfer")


def _references(tx: Transaction, state: dict[str, Any]) -> None:
    require(tx, "ProcessingActivity", state["activityId"], "activityId")
    if state.get("recipientProcessorId"):
        require(tx, "Processor", state["recipientProcessorId"], "recipientProcessorId")
