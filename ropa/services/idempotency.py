"""Safe retries: the `Idempotency-Key` of a mutation request (IETF draft
draft-ietf-httpapi-idempotency-key-header).

A client sends `Idempotency-Key: <unique string>` with a mutation. The first request with a
key runs; its key is written in the SAME database transaction as the change it makes (the
write path's `Transaction(idempotency=...)`), so a crash can never keep one without the
other. Its rendered answer is stored afterwards, if it is complete (an answer with errors
is never stored). A retry with the same key and the same request (document, variables,
operation name, token) gets that first answer back without a second change or ledger
entry; the same key with a different request is a CONFLICT.

When the change committed but its answer was never stored (the process died in between,
the database went away, the answer had errors), the answer is rebuilt from what committed
with the change: the receipts on the key's row name the ledger entry, and the entry holds
the record's state as the change left it (`replaying`, `rebuilt_change`).

Keys are scoped to the caller's organisation and kept outside the ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.exc import InternalError, OperationalError
from sqlmodel import col

from ropa.errors import ConflictError, FieldError, ValidationError
from ropa.services.access import Principal, authorize, read_action
from ropa.services.runtime import Runtime
from ropa.store import ledger_store
from ropa.store.database import WRITE_OPTION, unavailable
from ropa.store.ledger_store import Receipt
from ropa.store.tables import IdempotencyKey
from ropa.store.write_path import now_ts

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass
class Claim:
    """The key of the request being served, and the row its first committed change wrote."""

    org_id: str
    key: str
    fingerprint: str
    row: IdempotencyKey | None = None

    @property
    def committed(self) -> bool:
        return self.row is not None and inspect(self.row).has_identity


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    receipts: list[dict[str, Any]]
    response: str | None
    status_code: int | None


_current: ContextVar[Claim | None] = ContextVar("ropa_idempotency_claim", default=None)


@dataclass
class Replay:
    """A retry whose change committed but whose answer was lost: rebuild, never apply."""

    org_id: str
    receipts: list[dict[str, Any]]
    used: bool = False


_replay: ContextVar[Replay | None] = ContextVar("ropa_idempotency_replay", default=None)


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(FieldError(
            HEADER, f"must be 1 to {MAX_KEY_LENGTH} printable characters"
        ))
    return key


def fingerprint(request: dict[str, Any], actor_id: str) -> str:
    """SHA-256 of what makes two requests the same: document, variables, operation, token."""
    material = {
        "query": request.get("query"),
        "variables": request.get("variables") or {},
        "operationName": request.get("operationName"),
        "actor": actor_id,
    }
    data = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def lookup(rt: Runtime, org_id: str, key: str) -> Stored | None:
    with rt.db.read() as conn:
        row = conn.execute(
            select(IdempotencyKey).where(
                col(IdempotencyKey.org_id) == org_id, col(IdempotencyKey.key) == key
            )
        ).first()
    if row is None:
        return None
    found = IdempotencyKey.model_validate(row._mapping)
    return Stored(found.fingerprint, list(found.receipts), found.response, found.status_code)


@contextmanager
def claiming(claim: Claim) -> Iterator[Claim]:
    """Serve one request under `claim`: its first committed change records the key."""
    token = _current.set(claim)
    try:
        yield claim
    finally:
        _current.reset(token)


def record_for(org_id: str) -> IdempotencyKey | None:
    """The row a transaction on `org_id` commits with its change, if the request has a key.

    Only the request's first committed transaction records it; a document with several
    mutations is answered as a whole from the stored response.
    """
    claim = _current.get()
    if claim is None or claim.org_id != org_id or claim.committed:
        return None
    claim.row = IdempotencyKey(
        org_id=org_id, key=claim.key, fingerprint=claim.fingerprint, receipts=[],
        created_at=now_ts(),
    )
    return claim.row


@contextmanager
def replaying(org_id: str, receipts: list[dict[str, Any]]) -> Iterator[Replay]:
    """Answer one request from the change it already made (see the module docstring)."""
    token = _replay.set(Replay(org_id, receipts))
    try:
        yield _replay.get()  # type: ignore[misc]
    finally:
        _replay.reset(token)


def replay() -> Replay | None:
    """The replay the current request is, if it is one."""
    return _replay.get()


def rebuilt_change(
    rt: Runtime, principal: Principal, found: Replay, entity_type: str
) -> tuple[dict[str, Any] | None, Receipt]:
    """The state and receipt of the change `found` committed, for a mutation whose payload
    is a record of `entity_type`: the last entry on it, as the ledger holds it.

    A document with more than one mutation cannot be rebuilt from one change: CONFLICT.
    """
    if found.used:
        raise ConflictError(
            "this request was applied, but an answer to more than one mutation cannot be "
            "rebuilt: read the records, or send each mutation with its own key"
        )
    found.used = True
    receipts = [Receipt(**r) for r in found.receipts]
    chosen = next((r for r in reversed(receipts) if r.entity_type == entity_type), None)
    if chosen is None:
        raise ConflictError("this request was applied, but its answer cannot be rebuilt")
    authorize(principal, read_action(entity_type), found.org_id)
    with rt.db.read() as conn:
        rows = list(ledger_store.entries(conn, found.org_id, after=chosen.seq - 1, limit=1))
    if not rows or rows[0].seq != chosen.seq:
        raise ConflictError("this request was applied, but its answer cannot be rebuilt")
    entry = json.loads(rows[0].canonical)
    state = entry.get("after") if entry.get("after") is not None else entry.get("before")
    return state, chosen


def store_response(rt: Runtime, claim: Claim, status_code: int, body: str) -> None:
    """Keep the first answer, for the retries (outside the ledger, after the change)."""
    try:
        _store(rt, claim, status_code, body)
    except (OperationalError, InternalError) as exc:
        raise unavailable(exc, "write") from None


def _store(rt: Runtime, claim: Claim, status_code: int, body: str) -> None:
    with rt.db.engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        conn.execute(
            update(IdempotencyKey)
            .where(
                col(IdempotencyKey.org_id) == claim.org_id,
                col(IdempotencyKey.key) == claim.key,
                col(IdempotencyKey.response).is_(None),
            )
            .values(response=body, status_code=status_code)
        )
