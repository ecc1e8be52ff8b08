"""Reusing query results until the ledger moves: ETag, If-None-Match and 304 (RFC 9110 §8.8.3,
§13.1.2, §15.4.5).

No record changes without a new ledger entry, so the answer to a query is fixed by the
query, its variables, the caller and the head of the caller's ledger. `ResultCache` keys
the whole HTTP response on exactly that (plus the negotiated media type and the schema),
answers a repeat from memory, and gives every cacheable answer an ETag made of the
checkpoint's root hash and the key; a client that sends it back in `If-None-Match` gets
`304 Not Modified` without anything being executed, even after a restart.

What is not a function of the ledger head:

- fields judged at the current time (`overdue`, `findings`, a token's `active`): a query
  naming any of them is keyed on a time bucket too (`TIME_BUCKET_SECONDS`, 30 s), so its
  answer is at most that much older than the clock;
- `lastUsedAt` of a token is kept outside the ledger: a query naming it is never cached;
- a checkpoint gains witness cosignatures after the head moved (LEDGER-SPEC §9): a query
  naming `checkpoint` or `checkpointAt` is never cached either;
- mutations, errors, ADMIN callers (they span organisations), and requests sent with
  `Cache-Control: no-cache` or `no-store` go straight through.

A result is stored only when the head read before and after executing it is the same,
so a write that lands meanwhile never files a newer answer under an older head.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from ropa.api.limits.rate_limit import PRINCIPAL_KEY
from ropa.api.transport import ERROR_FREE, capture, operation_of, replaying, request_fields
from ropa.services import ledger_queries
from ropa.services.access import Principal
from ropa.services.runtime import Runtime

ASGIApp = Any
TIME_BUCKET_SECONDS = 30
MAX_BYTES = 64 * 1024 * 1024
TIMED_FIELDS = ("overdue", "findings", "active")
UNCACHED_FIELDS = ("lastUsedAt", "checkpoint")  # cosignatures arrive after the head moved


@dataclass(frozen=True)
class Stored:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ResultCache:
    """An ASGI middleware around the GraphQL endpoint; see the module docstring."""

    def __init__(
        self, app: ASGIApp, runtime: Runtime, schema_id: str = "",
        max_bytes: int = MAX_BYTES, bucket_seconds: int = TIME_BUCKET_SECONDS,
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.schema_id = schema_id
        self.max_bytes = max_bytes
        self.bucket_seconds = bucket_seconds
        self.entries: OrderedDict[str, Stored] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.misses = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        principal: Principal | None = scope.get(PRINCIPAL_KEY)
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or ()
        }
        directives = headers.get("cache-control", "").lower()
        if (
            principal is None or principal.org_id is None or principal.spans_organizations
            or "no-cache" in directives or "no-store" in directives
        ):
            await self.app(scope, receive, send)
            return
        body = b""
        if scope["method"] == "POST":
            body = await _read_body(receive)
            receive = replaying(body)
        fields = request_fields(scope["method"], scope, body)
        if scope["method"] == "GET":  # variables travel in the query string: key on all of it
            fields = {**fields, "variables": scope.get("query_string", b"").decode("latin-1")}
        query = fields.get("query")
        if not isinstance(query, str) or any(f in query for f in UNCACHED_FIELDS):
            await self.app(scope, receive, send)
            return
        kind, _ = operation_of(query, fields.get("operationName"))
        if kind != "query":
            await self.app(scope, receive, send)
            return

        org_id = principal.org_id
        head = await run_in_threadpool(ledger_queries.head, self.runtime, principal, org_id)
        key = self.key(fields, query, principal, head.size, headers.get("accept", ""))
        etag = f'"{head.root_hash[:16]}-{head.size}-{key[:16]}"'
        if etag in _etags(headers.get("if-none-match", "")):
            self.hits += 1
            scope[ERROR_FREE] = True  # only error-free answers are stored
            await _send(send, 304, [], b"", etag)
            return
        stored = self.entries.get(key)
        if stored is not None:
            self.entries.move_to_end(key)
            self.hits += 1
            scope[ERROR_FREE] = True
            await _send(send, stored.status, stored.headers, stored.body, etag)
            return
        self.misses += 1
        response = await capture(self.app, scope, receive)
        error_free = b'"errors"' not in response.body
        if error_free:
            scope[ERROR_FREE] = True  # the transport need not look again
        cacheable = response.status == 200 and error_free
        if cacheable:
            after = await run_in_threadpool(ledger_queries.head, self.runtime, principal, org_id)
            cacheable = after.size == head.size
        headers_out = [(k, v) for k, v in response.headers if k.lower() != b"content-length"]
        for name, value in response.extra.items():
            headers_out.append((name.encode("latin-1"), value.encode("latin-1")))
        if cacheable:
            self._store(key, Stored(response.status, headers_out, response.body))
            await _send(send, response.status, headers_out, response.body, etag)
        else:
            await _send(send, response.status, headers_out, response.body, None)

    def key(
        self, fields: dict[str, Any], query: str, principal: Principal, size: int, accept: str
    ) -> str:
        bucket = (
            int(time.time() // self.bucket_seconds)
            if any(f in query for f in TIMED_FIELDS) else None
        )
        material = json.dumps(
            [self.schema_id, query, fields.get("operationName"), fields.get("variables"),
             fields.get("extensions"), principal.actor.id, principal.role, principal.org_id,
             size, bucket, accept],
            sort_keys=True, separators=(",", ":"), default=str,
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def _store(self, key: str, stored: Stored) -> None:
        if len(stored.body) > self.max_bytes // 4:
            return
        self.entries[key] = stored
        self.size += len(stored.body)
        while self.size > self.max_bytes and self.entries:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compare weakly, §8.8.3.2)."""
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


async def _send(
    send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes, etag: str | None
) -> None:
    out = [(k, v) for k, v in headers if k.lower() not in (b"etag", b"cache-control")]
    if etag is not None:
        out.append((b"etag", etag.encode()))
        # a private answer (per token) that a client may keep and must revalidate
        out.append((b"cache-control", b"private, no-cache"))
    if status != 304:
        out.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body if status != 304 else b""})


async def _read_body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)
