"""Use cases for transfers to third countries (GDPR Chapter V): record, update, remove."""

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
from ropa.store.tables import Transfer
from ropa.store.write_path import Transaction


def record_transfer(rt: Runtime, principal: Principal, data: dict[str, Any]) -> Change:
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    state = new_state("Transfer", data)
    with open_transaction(rt, principal, org_id) as tx:
        _check_references(tx, state)
        tx.create(Transfer, "recordTransfer", state)
        receipts = tx.commit()
    return Change(state, single(receipts, state["id"]), "Transfer")


def update_transfer(
    rt: Runtime, principal: Principal, transfer_id: str, data: dict[str, Any]
) -> Change:
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    with open_transaction(rt, principal, org_id) as tx:
        row = existing(tx, "Transfer", transfer_id)
        state = patched(row, data)
        if state == row.to_state():
            return Change(state, None, "Transfer")
        _check_references(tx, state)
        tx.update(row, "updateTransfer", state)
        receipts = tx.commit()
    return Change(state, single(receipts, transfer_id), "Transfer")


def remove_transfer(rt: Runtime, principal: Principal, transfer_id: str) -> Change:
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    with open_transaction(rt, principal, org_id) as tx:
        row = existing(tx, "Transfer", transfer_id)
        before = row.to_state()
        tx.delete(row, "removeTransfer")
        receipts = tx.commit()
    return Change(before, single(receipts, transfer_id), "Transfer")


def _check_references(tx: Transaction, state: dict[str, Any]) -> None:
    require(tx, "ProcessingActivity", state["activityId"], "activityId")
    if state.get("recipientProcessorId"):
        require(tx, "Processor", state["recipientProcessorId"], "recipientProcessorId")
