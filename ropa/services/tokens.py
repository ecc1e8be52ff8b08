"""API tokens: issued once, stored only as a SHA-256 hash, revocable, optionally expiring.

A token is `ropa_` followed by 32 random bytes (base64url). Creating and revoking one are
ledgered changes of the organisation (the hash is recorded, never the secret). When a
token was last used is kept outside the ledger, at most once a minute per token. A
verified token is remembered for `VERIFIED_SECONDS` (5 s): a revocation made by another
process takes effect within that time, one made by this process at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError

from ropa.errors import (
    FieldError,
    ForbiddenError,
    NotFoundError,
    UnauthenticatedError,
    UnavailableError,
    ValidationError,
)
from ropa.ledger.canonical import format_ts
from ropa.services import reads
from ropa.services.access import (
    METRICS_PRINCIPAL,
    ROLES,
    Action,
    Principal,
    authorize,
    may_grant,
)
from ropa.services.changes import Change, existing, new_state, open_transaction, single
from ropa.services.reads import View
from ropa.services.runtime import Runtime
from ropa.store.database import WRITE_OPTION
from ropa.store.ledger_store import Actor
from ropa.store.tables import ApiToken, TokenUsage
from ropa.store.write_path import now_ts

log = logging.getLogger("ropa.tokens")

PREFIX = "ropa_"
_TOKENS: Table = ApiToken.__table__  # type: ignore[attr-defined]
_USAGE: Table = TokenUsage.__table__  # type: ignore[attr-defined]
USAGE_RESOLUTION = timedelta(minutes=1)
# A verified token is remembered for a few seconds, keyed by its hash, so a burst of
# requests with it costs one query: expiry is still checked on every request, a
# revocation made through this process takes effect at once (`_forget`), and one made by
# another process within VERIFIED_SECONDS.
VERIFIED_SECONDS = 5.0
_VERIFIED_MAX = 10_000
_verified: dict[tuple[str, str], tuple[float, Principal, str | None]] = {}


@dataclass(frozen=True)
class IssuedToken:
    secret: str  # shown once, never stored
    change: Change


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    rt: Runtime, principal: Principal, org_id: str, role: str, name: str,
    expires_at: str | None = None,
) -> IssuedToken:
    """A new token of `role` in organisation `org_id` (its DPO, or ADMIN); the secret once."""
    authorize(principal, Action.MANAGE_TOKENS, org_id)
    if role not in ROLES:
        raise ValidationError(FieldError("role", f"one of {', '.join(ROLES)}"))
    if not may_grant(principal, role):
        raise ForbiddenError(f"role {principal.role} may not issue {role} tokens")
    if expires_at is not None and expires_at <= now_ts():
        raise ValidationError(FieldError("expiresAt", "must be in the future"))
    secret = PREFIX + secrets.token_urlsafe(32)
    state = new_state(
        "ApiToken",
        {"name": name, "role": role, "tokenHash": hash_token(secret), "createdAt": now_ts(),
         "expiresAt": expires_at, "revokedAt": None},
    )
    with open_transaction(rt, principal, org_id) as tx:
        existing(tx, "Organization", org_id)
        tx.create(ApiToken, "createToken", state)
        receipts = tx.commit()
    return IssuedToken(secret, Change(state, single(receipts, state["id"]), "ApiToken"))


def token_org(rt: Runtime, principal: Principal, token_id: str) -> str:
    """The organisation a token belongs to, as the caller may know it (else NOT_FOUND)."""
    if not principal.spans_organizations:
        return principal.org_id or ""
    with rt.db.read() as conn:
        org_id = conn.execute(
            select(_TOKENS.c.org_id).where(_TOKENS.c.id == token_id).limit(1)
        ).scalar_one_or_none()
    if org_id is None:
        raise NotFoundError("ApiToken not found")
    return str(org_id)


def revoke_token(rt: Runtime, principal: Principal, org_id: str, token_id: str) -> Change:
    authorize(principal, Action.MANAGE_TOKENS, org_id)
    with open_transaction(rt, principal, org_id) as tx:
        row = existing(tx, "ApiToken", token_id)
        before = row.to_state()
        if not may_grant(principal, before["role"]):
            raise ForbiddenError(f"role {principal.role} may not revoke ADMIN tokens")
        state = {**before, "revokedAt": before["revokedAt"] or tx.ts}
        if state == row.to_state():
            return Change(state, None, "ApiToken")
        tx.update(row, "revokeToken", state)
        receipts = tx.commit()
    _forget(rt, before["tokenHash"])
    return Change(state, single(receipts, token_id), "ApiToken")


def _forget(rt: Runtime, token_hash: str) -> None:
    _verified.pop((rt.settings.database_url, token_hash), None)


def remembered(rt: Runtime, authorization: str | None) -> Principal | None:
    """The principal of a token verified in the last VERIFIED_SECONDS, without a query
    (None: `authenticate` must look)."""
    if not authorization:
        return None
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    key = (rt.settings.database_url, hash_token(secret.strip()))
    found = _verified.get(key)
    if found is None or found[0] <= time.monotonic():
        return None
    _, principal, expires_at = found
    if expires_at is not None and expires_at <= format_ts(datetime.now(UTC)):
        return None
    return principal


def authenticate(rt: Runtime, authorization: str | None) -> Principal:
    """The principal behind an `Authorization: Bearer <token>` header."""
    if not authorization:
        raise UnauthenticatedError("send Authorization: Bearer <token>")
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(PREFIX):
        raise UnauthenticatedError("send Authorization: Bearer <token>")
    token_hash = hash_token(secret)
    key = (rt.settings.database_url, token_hash)
    remembered = _verified.get(key)
    if remembered is not None and remembered[0] > time.monotonic():
        _, principal, expires_at = remembered
        if expires_at is None or expires_at > format_ts(datetime.now(UTC)):
            return principal
        _verified.pop(key, None)
    with rt.db.read() as conn:
        row = conn.execute(
            select(_TOKENS).where(_TOKENS.c.token_hash == token_hash, _TOKENS.c.valid_to.is_(None))
        ).first()
    if row is None:
        raise UnauthenticatedError("unknown or revoked token")
    token = ApiToken.model_validate(row._mapping)
    now = format_ts(datetime.now(UTC))
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        raise UnauthenticatedError("token revoked or expired")
    _touch(rt, token.id, now)
    principal = Principal(Actor(token.id, token.role), token.org_id)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[key] = (time.monotonic() + VERIFIED_SECONDS, principal, token.expires_at)
    return principal


def authenticate_scraper(rt: Runtime, authorization: str) -> Principal:
    """The metrics scraper (`ROPA_METRICS_TOKEN`, compared by its SHA-256 in constant
    time), or the principal of an API token."""
    scheme, _, secret = authorization.partition(" ")
    wanted = rt.settings.metrics_token_sha256
    if scheme.lower() == "bearer" and wanted:
        given = hashlib.sha256(secret.strip().encode()).hexdigest()
        if hmac.compare_digest(given, wanted):
            return METRICS_PRINCIPAL
    return authenticate(rt, authorization)


def _touch(rt: Runtime, token_id: str, now: str) -> None:
    """Note the token's use, at most once per `USAGE_RESOLUTION`.

    Bookkeeping never fails a request: when concurrent first uses race to insert the row,
    or the database is busy, the use goes unrecorded this time. The write takes the write
    lock up front (SQLite: BEGIN IMMEDIATE), so it waits its turn instead of failing.
    """
    cutoff = format_ts(datetime.now(UTC) - USAGE_RESOLUTION)
    stmt = select(_USAGE.c.last_used_at).where(_USAGE.c.token_id == token_id)
    try:
        with rt.db.read() as conn:
            seen = conn.execute(stmt).scalar_one_or_none()
    except UnavailableError:
        return  # logged by the store; the request goes on
    if seen is not None and seen >= cutoff:
        return
    try:
        with rt.db.engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
            seen = conn.execute(stmt).scalar_one_or_none()
            if seen is None:
                conn.execute(_USAGE.insert().values(token_id=token_id, last_used_at=now))
            elif seen < cutoff:
                conn.execute(
                    _USAGE.update().where(_USAGE.c.token_id == token_id).values(last_used_at=now)
                )
    except (IntegrityError, InternalError, OperationalError):
        log.warning("token use not recorded (a concurrent use, or the database refused)")


def list_tokens(rt: Runtime, principal: Principal, org_id: str) -> list[dict[str, Any]]:
    """The organisation's tokens with their last use; never a secret."""
    authorize(principal, Action.MANAGE_TOKENS, org_id)
    table = _TOKENS
    with rt.db.read() as conn:
        rows = conn.execute(
            select(*table.c, _USAGE.c.last_used_at)
            .join(_USAGE, _USAGE.c.token_id == table.c.id, isouter=True)
            .where(table.c.org_id == org_id, table.c.valid_to.is_(None))
            .order_by(table.c.created_at)
        ).all()
    out = []
    for row in rows:
        token = ApiToken.model_validate(row._mapping)
        out.append({**token.to_state(), "lastUsedAt": row.last_used_at})
    return out


def last_used(rt: Runtime, token_ids: list[str]) -> dict[str, str]:
    """{token id: when it was last used} for the tokens that have been used."""
    with rt.db.read() as conn:
        rows = conn.execute(
            select(_USAGE.c.token_id, _USAGE.c.last_used_at).where(
                _USAGE.c.token_id.in_(set(token_ids))
            )
        ).all()
    return {str(token_id): at for token_id, at in rows}


def tokens_in_view(rt: Runtime, principal: Principal, view: View) -> list[dict[str, Any]]:
    """The organisation's tokens as they stood in `view` (its DPO, or ADMIN); no secrets."""
    authorize(principal, Action.MANAGE_TOKENS, view.org_id)
    return reads.all_records(rt, view, "ApiToken")
