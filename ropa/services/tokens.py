"""API tokens: issued once, stored only as a SHA-256 hash, revocable, optionally expiring.

A token is `ropa_` followed by 32 random bytes (base64url). Creating and revoking one are
ledgered changes of the organisation (the hash is recorded, never the secret). When a
token was last used is kept outside the ledger, at most once a minute per token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from ropa.errors import FieldError, UnauthenticatedError, ValidationError
from ropa.ledger.canonical import format_ts
from ropa.services.access import ROLES, Action, Principal, authorize
from ropa.services.changes import Change, existing, new_state, open_transaction, single
from ropa.services.runtime import Runtime
from ropa.store.ledger_store import Actor
from ropa.store.tables import ApiToken, TokenUsage
from ropa.store.write_path import now_ts

PREFIX = "ropa_"
USAGE_RESOLUTION = timedelta(minutes=1)


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
    authorize(principal, Action.MANAGE_TOKENS, org_id)
    if role not in ROLES:
        raise ValidationError(FieldError("role", f"one of {', '.join(ROLES)}"))
    if role == "ADMIN" and principal.role not in {"ADMIN", "SYSTEM"}:
        authorize(principal, Action.MANAGE_ORGANIZATIONS)
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


def revoke_token(rt: Runtime, principal: Principal, org_id: str, token_id: str) -> Change:
    authorize(principal, Action.MANAGE_TOKENS, org_id)
    with open_transaction(rt, principal, org_id) as tx:
        row = existing(tx, "ApiToken", token_id)
        state = {**row.to_state(), "revokedAt": row.revoked_at or tx.ts}
        if state == row.to_state():
            return Change(state, None, "ApiToken")
        tx.update(row, "revokeToken", state)
        receipts = tx.commit()
    return Change(state, single(receipts, token_id), "ApiToken")


def authenticate(rt: Runtime, authorization: str | None) -> Principal:
    """The principal behind an `Authorization: Bearer <token>` header."""
    if not authorization:
        raise UnauthenticatedError("send Authorization: Bearer <token>")
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(PREFIX):
        raise UnauthenticatedError("send Authorization: Bearer <token>")
    token_hash = hash_token(secret)
    with rt.db.read() as conn:
        row = conn.execute(
            select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.valid_to.is_(None))  # type: ignore[union-attr]
        ).first()
    if row is None:
        raise UnauthenticatedError("unknown or revoked token")
    token = ApiToken.model_validate(row._mapping)
    now = format_ts(datetime.now(UTC))
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        raise UnauthenticatedError("token revoked or expired")
    _touch(rt, token.id, now)
    return Principal(Actor(token.id, token.role), token.org_id)


def _touch(rt: Runtime, token_id: str, now: str) -> None:
    cutoff = format_ts(datetime.now(UTC) - USAGE_RESOLUTION)
    with rt.db.engine.begin() as conn:
        seen = conn.execute(
            select(TokenUsage.last_used_at).where(TokenUsage.token_id == token_id)
        ).scalar_one_or_none()
        if seen is None:
            conn.execute(TokenUsage.__table__.insert().values(token_id=token_id, last_used_at=now))  # type: ignore[attr-defined]
        elif seen < cutoff:
            conn.execute(
                TokenUsage.__table__.update()  # type: ignore[attr-defined]
                .where(TokenUsage.__table__.c.token_id == token_id)  # type: ignore[attr-defined]
                .values(last_used_at=now)
            )


def list_tokens(rt: Runtime, principal: Principal, org_id: str) -> list[dict[str, Any]]:
    """The organisation's tokens with their last use; never a secret."""
    authorize(principal, Action.MANAGE_TOKENS, org_id)
    with rt.db.read() as conn:
        rows = conn.execute(
            select(ApiToken, TokenUsage.last_used_at)
            .join(TokenUsage, TokenUsage.token_id == ApiToken.id, isouter=True)
            .where(ApiToken.org_id == org_id, ApiToken.valid_to.is_(None))  # type: ignore[union-attr]
        ).all()
    out = []
    for row in rows:
        token = ApiToken.model_validate(row[0]._mapping if hasattr(row[0], "_mapping") else row[0])
        out.append({**token.to_state(), "lastUsedAt": row[-1]})
    return out
