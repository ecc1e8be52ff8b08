"""Publishing privacy-policy versions: a new version never overwrites the old one."""

from __future__ import annotations

import hashlib
from typing import Any

from ropa.errors import ConflictError
from ropa.services.access import Action, Principal, authorize
from ropa.services.changes import Change, new_state, open_transaction, single
from ropa.services.runtime import Runtime
from ropa.store.tables import PrivacyPolicy


def publish_privacy_policy(
    rt: Runtime, principal: Principal, data: dict[str, Any], text: str | None = None
) -> Change:
    """A new version; with the policy's `text`, its SHA-256 is computed here."""
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    if text is not None:
        data = {**data, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
    state = new_state("PrivacyPolicy", data)
    with open_transaction(rt, principal, org_id) as tx:
        if tx.current_where(PrivacyPolicy, version=state["version"]):
            raise ConflictError(
                f"privacy policy version {state['version']!r} is already published; "
                "publish a new version instead"
            )
        tx.create(PrivacyPolicy, "publishPrivacyPolicy", state)
        receipts = tx.commit()
    return Change(state, single(receipts, state["id"]), "PrivacyPolicy")
