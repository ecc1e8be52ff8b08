"""Safe retries: the `Idempotency-Key` of a mutation request (IETF draft
draft-ietf-httpapi-idempotency-key-header).

A client sends `Idempotency-Key: <unique string>` with a mutation. The first request with a
key runs; its key is written in the SAME database transaction as the change it makes (the
write path's `Transaction(idempotency=...)`), so a crash can never keep one without the
other. Its rendered answer is stored afterwards. A retry with the same key and the same
request (document, variables, operation name, token) gets that first answer back without
a second change or ledger entry; the same key with a different request is a CONFLICT.

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
from sqlmodel import col

from ropa.errors import FieldError, ValidationError
from ropa.services.runtime import Runtime
from ropa.store.database import WRITE_OPTION
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


def store_response(rt: Runtime, claim: Claim, status_code: int, body: str) -> None:
    """Keep the first answer, for the retries (outside the ledger, after the change)."""
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
