"""What `/graphql` checks before any GraphQL runs, outermost first.

    BodySizeLimit   413  the body is larger than `max_body_bytes`
    CsrfPrevention  400  a request a cross-site page could send without a preflight
    SchemaReady     503  the database is missing, unreachable or not migrated
    Authentication  401  no token, or one that is unknown, revoked or expired
                    503  the database could not be asked (SERVICE_UNAVAILABLE)
    RateLimit       429  the token's bucket is empty (Retry-After says for how long)

Every refusal is JSON in GraphQL's error shape with `extensions.code`. The caller found
by `Authentication` travels to the GraphQL context in the ASGI scope.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool

from ropa.api.limits import Limits
from ropa.api.limits.body_size import BodySizeLimit
from ropa.api.limits.csrf import CsrfPrevention, is_operation
from ropa.api.limits.error import send_error
from ropa.api.limits.rate_limit import PRINCIPAL_KEY, RateLimit
from ropa.errors import UnauthenticatedError, UnavailableError
from ropa.services import tokens
from ropa.services.runtime import Runtime

ASGIApp = Any
log = logging.getLogger("ropa.api")


class SchemaReady:
    """SERVICE_UNAVAILABLE, naming `ropa migrate`, until the database has ropa's schema.

    The operator's detail (where the database is) goes to the log, not to the caller.
    """

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.runtime.schema_ready or scope["type"] != "http" or not is_operation(scope):
            await self.app(scope, receive, send)  # the common case: no thread, no query
            return
        try:
            problem = await run_in_threadpool(self.runtime.schema_problem)
        except UnavailableError as exc:
            problem = str(exc)
        if problem is not None:
            log.error("not serving: %s", problem)
            message = (
                "the service's database is not migrated: its operator must run `ropa migrate`"
                if "ropa migrate" in problem
                else "the service cannot reach its database; retry later"
            )
            await send_error(
                send,
                503,
                UnavailableError.code,
                f"{message} (see /readyz)",
                headers={"Retry-After": "5"},
            )
            return
        await self.app(scope, receive, send)


class Authentication:
    """RFC 6750 bearer tokens: 401 with `WWW-Authenticate: Bearer` and UNAUTHENTICATED."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_operation(scope):
            await self.app(scope, receive, send)  # the IDE page: static, runs nothing
            return
        header = dict(scope.get("headers") or ()).get(b"authorization")
        authorization = header.decode("latin-1") if header else None
        try:
            principal = tokens.remembered(self.runtime, authorization) or await run_in_threadpool(
                tokens.authenticate, self.runtime, authorization
            )
        except UnauthenticatedError as exc:
            challenge = 'Bearer realm="ropa"'
            if authorization:
                challenge += ', error="invalid_token"'
            await send_error(
                send, 401, "UNAUTHENTICATED", str(exc), headers={"WWW-Authenticate": challenge}
            )
            return
        except UnavailableError as exc:  # the database went away: not the caller's fault
            await send_error(send, 503, exc.code, str(exc), headers={"Retry-After": "1"})
            return
        await self.app({**scope, PRINCIPAL_KEY: principal}, receive, send)


def protect(app: ASGIApp, runtime: Runtime, limits: Limits) -> ASGIApp:
    """`app` behind the transport checks, in the order of the table above."""
    app = RateLimit(app, limits.rate_per_second, limits.rate_burst)
    app = Authentication(app, runtime)
    app = SchemaReady(app, runtime)
    app = CsrfPrevention(app)
    return BodySizeLimit(app, limits.max_body_bytes)
