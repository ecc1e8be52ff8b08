"""Verified tokens are remembered briefly: a repeat costs no query, and revocation and
expiry still hold (ropa.services.tokens, VERIFIED_SECONDS)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from ropa.errors import UnauthenticatedError
from ropa.ledger.canonical import format_ts
from ropa.services import tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.runtime import Runtime
from tests.conftest import Org


def _statements(rt: Runtime, fn: object) -> int:
    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        fn()  # type: ignore[operator]
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)
    return len(sent)


def test_a_token_verified_a_moment_ago_is_accepted_without_a_query(rt: Runtime, org: Org) -> None:
    header = f"Bearer {org.tokens['VIEWER']}"
    first = tokens.authenticate(rt, header)
    sent = _statements(rt, lambda: tokens.authenticate(rt, header))
    assert sent == 0
    assert tokens.authenticate(rt, header) == first


def test_a_revoked_token_is_refused_at_once_though_it_was_just_verified(
    rt: Runtime, org: Org
) -> None:
    issued = tokens.create_token(rt, SYSTEM_PRINCIPAL, org.id, "VIEWER", "short-lived")
    header = f"Bearer {issued.secret}"
    tokens.authenticate(rt, header)
    assert issued.change.state is not None
    tokens.revoke_token(rt, org.as_role("DPO"), org.id, issued.change.state["id"])
    with pytest.raises(UnauthenticatedError):
        tokens.authenticate(rt, header)


def test_a_remembered_token_that_expires_is_refused(rt: Runtime, org: Org) -> None:
    expires = format_ts(datetime.now(UTC) + timedelta(seconds=1.5))
    issued = tokens.create_token(rt, SYSTEM_PRINCIPAL, org.id, "VIEWER", "expiring", expires)
    header = f"Bearer {issued.secret}"
    tokens.authenticate(rt, header)
    time.sleep(1.6)
    with pytest.raises(UnauthenticatedError):
        tokens.authenticate(rt, header)


def test_only_a_token_verified_a_moment_ago_is_remembered(rt: Runtime, org: Org) -> None:
    header = f"Bearer {org.tokens['EDITOR']}"
    assert tokens.remembered(rt, "Bearer ropa_never-issued") is None
    assert tokens.remembered(rt, None) is None
    principal = tokens.authenticate(rt, header)
    assert tokens.remembered(rt, header) == principal
    assert tokens.remembered(rt, f"Basic {org.tokens['EDITOR']}") is None
