"""Reusing query results until the ledger moves: ETag, If-None-Match and 304 (RFC 9110 §8.8.3,
§13.1.2, §15.4.5).

No record changes without a new ledger entry, so the answer to a query is fixed by the
query, its variables, the caller and the head of the caller's ledger. `ResultCache` keys
the whole HTTP response on exactly that (plus the negotiated media type and the schema),
answers a repeat from memory, and gives every cacheable answer an ETag made of the
checkpoint's root hash and the key; a client that sends it back in `If-None-Match` gets
`304 Not Modified` without anything being executed, even after a restart.

The transport (`ropa.api.transport`) asks the cache first, once the request's parameters
are known (remembered for a repeated request: nothing is parsed again): the one statement
of a warm answer reads the ledger head's size and root (`ledger_queries.head_mark_now`,
sent from the event loop), and
the caller was authenticated from the tokens verified a moment ago (`ropa.services.tokens`).
A stored answer is kept as the bytes to send and its complete headers, ETag included.

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
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ropa.api.limits.rate_limit import PRINCIPAL_KEY
from ropa.errors import UserError
from ropa.services import ledger_queries
from ropa.services.access import Principal
from ropa.services.runtime import Runtime

if TYPE_CHECKING:
    from ropa.api.transport import Captured, Operation

TIME_BUCKET_SECONDS = 30
MAX_BYTES = 64 * 1024 * 1024
TIMED_FIELDS = ("overdue", "findings", "active")
UNCACHED_FIELDS = ("lastUsedAt", "checkpoint")  # cosignatures arrive after the head moved
# a private answer (per token) that a client may keep and must revalidate
CACHE_CONTROL = (b"cache-control", b"private, no-cache")
_REPLACED = (b"content-length", b"etag", b"cache-control")


@dataclass(frozen=True)
class Stored:
    """An answer as it is sent again: every header (ETag included) and the body's bytes."""

    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True)
class Lookup:
    """Where a request's answer is filed at the head read for it."""

    key: str
    etag: str
    size: int
    principal: Principal

    def not_modified(self, if_none_match: str | None) -> bool:
        """Whether the client holds this answer already (RFC 9110 §13.1.2)."""
        return bool(if_none_match) and self.etag in _etags(if_none_match or "")

    def not_modified_headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"etag", self.etag.encode()), CACHE_CONTROL]


class ResultCache:
    """Whole answers by request, caller and ledger head; see the module docstring."""

    def __init__(
        self, runtime: Runtime, schema_id: str = "",
        max_bytes: int = MAX_BYTES, bucket_seconds: int = TIME_BUCKET_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.schema_id = schema_id
        self.max_bytes = max_bytes
        self.bucket_seconds = bucket_seconds
        self.entries: OrderedDict[str, Stored] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.misses = 0

    async def lookup(
        self, scope: Any, operation: Operation, headers: dict[str, str], media_type: str
    ) -> Lookup | None:
        """Where the answer to this request is filed now (one statement: the head), or None
        when it is not for the cache."""
        principal: Principal | None = scope.get(PRINCIPAL_KEY)
        query = operation.fields.get("query")
        directives = headers.get("cache-control", "").lower()
        if (
            principal is None or principal.org_id is None or principal.spans_organizations
            or operation.kind != "query" or not isinstance(query, str)
            or any(f in query for f in UNCACHED_FIELDS)
            or "no-cache" in directives or "no-store" in directives
        ):
            return None
        try:
            head = await ledger_queries.head_mark_now(self.runtime, principal, principal.org_id)
        except UserError:  # the database is away: executing will say so
            return None
        key = self.key(operation.identity, query, principal, head.size, media_type)
        return Lookup(key, f'"{head.root_hash[:16]}-{head.size}-{key[:16]}"', head.size,
                      principal)

    def key(
        self, identity: str, query: str, principal: Principal, size: int, media_type: str
    ) -> str:
        """The request (`identity`: its method and raw parameters), the caller, the head,
        the clock's bucket when the query judges by it, and the negotiated media type."""
        bucket = (
            int(time.time() // self.bucket_seconds)
            if any(f in query for f in TIMED_FIELDS) else None
        )
        material = "\0".join((
            self.schema_id, identity, principal.actor.id, principal.role,
            principal.org_id or "", str(size), str(bucket), media_type,
        ))
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, lookup: Lookup) -> Stored | None:
        """The stored answer, if there is one (counted as a hit or a miss)."""
        stored = self.entries.get(lookup.key)
        if stored is None:
            self.misses += 1
            return None
        self.entries.move_to_end(lookup.key)
        self.hits += 1
        return stored

    async def keep(self, lookup: Lookup, response: Captured) -> Stored | None:
        """File an error-free 200 answer (as it is sent) if the head has not moved while it
        was made; the stored form, or None when it is not kept."""
        try:
            after = await ledger_queries.head_mark_now(
                self.runtime, lookup.principal, lookup.principal.org_id or ""
            )
        except UserError:
            return None
        if after.size != lookup.size:
            return None
        headers = [(k, v) for k, v in response.headers if k.lower() not in _REPLACED]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in response.extra.items()]
        headers += [(b"content-length", str(len(response.body)).encode()),
                    (b"etag", lookup.etag.encode()), CACHE_CONTROL]
        stored = Stored(headers, response.body)
        self._store(lookup.key, stored)
        return stored

    def _store(self, key: str, stored: Stored) -> None:
        if len(stored.body) > self.max_bytes // 4:
            return
        previous = self.entries.pop(key, None)
        if previous is not None:
            self.size -= len(previous.body)
        self.entries[key] = stored
        self.size += len(stored.body)
        while self.size > self.max_bytes and self.entries:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped.body)


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compare weakly, §8.8.3.2)."""
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
