"""The `Idempotency-Key` request header on `/graphql` (IETF draft-ietf-httpapi-idempotency-
key-header): a mutation sent again with the same key is answered, not applied again.

- first use of a key: the request runs; its first committed change writes the key in the
  same transaction (`ropa.services.idempotency`), and the answer is stored after it when
  it is complete (an answer with errors is never stored);
- same key, same request (document, variables, operation name, token): the stored answer,
  with `Idempotent-Replayed: true`; no second change, no second ledger entry;
- same key, same request, change applied but no answer stored (the process died between
  the commit and the store, the store failed, or the answer had errors): after waiting up
  to `WAIT_FOR_FIRST_SECONDS` for the first request, the answer is rebuilt from the change
  (its receipts and ledger entry), stored, and sent with `Idempotent-Replayed: true`;
- same key, another request: 422 with CONFLICT;
- the database unreachable: 503 with SERVICE_UNAVAILABLE (retry with the same key).

A request that changed nothing (an error, or a change that was already so) leaves no key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from starlette.concurrency import run_in_threadpool

from ropa.api.limits.rate_limit import PRINCIPAL_KEY
from ropa.api.transport import Captured, capture, replaying
from ropa.errors import UnauthenticatedError, UnavailableError, ValidationError
from ropa.services import idempotency, tokens
from ropa.services.access import Principal
from ropa.services.idempotency import Claim, Stored
from ropa.services.runtime import Runtime

WAIT_FOR_FIRST_SECONDS = 5.0
REPLAYED = "Idempotent-Replayed"


def _complete(body: bytes) -> bool:
    """Whether an answer is whole: JSON with data and no error."""
    try:
        result = json.loads(body)
    except ValueError:
        return False
    return isinstance(result, dict) and not result.get("errors") and result.get("data") is not None


def error(status: int, code: str, message: str, **extensions: Any) -> Captured:
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return Captured(status, [(b"content-type", b"application/json")], json.dumps(body).encode())


class IdempotentRequests:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def run(
        self, app: Any, scope: Any, body: bytes, fields: dict[str, Any], raw_key: str
    ) -> Captured:
        """The answer to a mutation sent with `Idempotency-Key`; `body` is the request's,
        read already: each run of the inner app gets it anew (a rebuilt answer runs it
        again)."""
        try:
            key = idempotency.check_key(raw_key)
        except ValidationError as exc:
            return error(400, exc.code, str(exc))
        principal = scope.get(PRINCIPAL_KEY) or await self._authenticate(scope)
        if principal is None or principal.org_id is None:
            return await capture(app, scope, replaying(body))  # answered as GraphQL would
        claim = Claim(principal.org_id, key, idempotency.fingerprint(fields, principal.actor.id))
        try:
            stored = await self._lookup(claim)
            if stored is None:
                with idempotency.claiming(claim):
                    response = await capture(app, scope, replaying(body))
                if claim.committed:
                    await self._store(claim, response)
                    return response
                stored = await self._lookup(claim)  # a concurrent request with the key won
                if stored is None:
                    return response  # nothing changed, so there is nothing to remember
            return await self._replay(app, scope, body, claim, stored)
        except UnavailableError as exc:
            return error(503, exc.code, f"{exc}; retry with the same Idempotency-Key")

    async def _replay(
        self, app: Any, scope: Any, body: bytes, claim: Claim, stored: Stored
    ) -> Captured:
        if stored.fingerprint != claim.fingerprint:
            return error(422, "CONFLICT", "this Idempotency-Key was used for a different request "
                         "(operation, variables or token): use a new key for a new request")
        deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
        while stored.response is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            found = await self._lookup(claim)
            stored = found or stored
        if stored.response is None:
            # applied, but its answer was lost: rebuild it from the change, never reapply
            with idempotency.replaying(claim.org_id, stored.receipts):
                response = await capture(app, scope, replaying(body))
            await self._store(claim, response)
            response.extra[REPLAYED] = "true"
            return response
        return Captured(
            stored.status_code or 200, [(b"content-type", b"application/json")],
            stored.response.encode("utf-8"), {REPLAYED: "true"},
        )

    async def _store(self, claim: Claim, response: Captured) -> None:
        """Keep a complete answer for the retries; one with errors is never kept."""
        if response.status != 200 or not _complete(response.body):
            return
        # if the store fails, the answer goes out all the same; a retry rebuilds it
        with contextlib.suppress(UnavailableError):
            await run_in_threadpool(
                idempotency.store_response, self.runtime, claim, response.status,
                response.body.decode("utf-8"),
            )

    async def _lookup(self, claim: Claim) -> Stored | None:
        return await run_in_threadpool(idempotency.lookup, self.runtime, claim.org_id, claim.key)

    async def _authenticate(self, scope: Any) -> Principal | None:
        header = dict(scope.get("headers") or ()).get(b"authorization")
        if not header:
            return None
        try:
            return await run_in_threadpool(
                tokens.authenticate, self.runtime, header.decode("latin-1")
            )
        except UnauthenticatedError:
            return None
