"""Use cases for organisations (the tenants): create one, and change its details."""

from __future__ import annotations

from typing import Any

from ropa.services.access import Action, Principal, authorize
from ropa.services.changes import Change, existing, new_state, open_transaction, patched, single
from ropa.services.runtime import Runtime
from ropa.store.tables import Organization


def create_organization(rt: Runtime, principal: Principal, data: dict[str, Any]) -> Change:
    """A new organisation, and with it a new ledger whose first entry is its creation."""
    authorize(principal, Action.MANAGE_ORGANIZATIONS)
    state = new_state("Organization", data)
    with open_transaction(rt, principal, state["id"], creating_org=True) as tx:
        tx.create(Organization, "createOrganization", state)
        receipts = tx.commit()
    return Change(state, single(receipts, state["id"]), "Organization")


def update_organization(
    rt: Runtime, principal: Principal, org_id: str, data: dict[str, Any]
) -> Change:
    authorize(principal, Action.UPDATE_ORGANIZATION, org_id)  # its DPO, or ADMIN
    with open_transaction(rt, principal, org_id) as tx:
        row = existing(tx, "Organization", org_id)
        state = patched(row, data)
        if state == row.to_state():
            return Change(state, None, "Organization")
        tx.update(row, "updateOrganization", state)
        receipts = tx.commit()
    return Change(state, single(receipts, org_id), "Organization")
