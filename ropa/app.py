"""The ASGI application: GraphQL at /graphql, health, the public verifier keys, and the
ROPA download at /export/ropa.{xlsx,csv,json} (docs/exports.md).

No endpoint but health, readiness, metrics and the public keys answers without a token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.asgi import GraphQL

from ropa import observability
from ropa.api import compiled
from ropa.api.cache import ResultCache
from ropa.api.context import Context
from ropa.api.graphiql import graphiql_html, mount_graphiql
from ropa.api.http import protect
from ropa.api.limits import Limits
from ropa.api.limits.rate_limit import PRINCIPAL_KEY
from ropa.api.schema import build_schema
from ropa.api.transport import GraphQLOverHTTP
from ropa.config import Settings
from ropa.errors import UnauthenticatedError, UnavailableError, UserError, ValidationError
from ropa.services import anchors, ledger_queries, ropa_export, signing_keys, tokens, witnessing
from ropa.services.anchorer import Anchorer
from ropa.services.runtime import Runtime
from ropa.store.migrate import is_current

_STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "SERVICE_UNAVAILABLE": 503,
}


def _refusal(exc: UserError) -> Response:
    """A refused download, in GraphQL's error shape like every other refusal."""
    extensions: dict[str, Any] = {"code": exc.code}
    if isinstance(exc, ValidationError):
        extensions["fields"] = [{"field": e.field, "message": e.message} for e in exc.errors]
    headers = {"WWW-Authenticate": 'Bearer realm="ropa"'} if exc.code == "UNAUTHENTICATED" else {}
    return JSONResponse(
        {"errors": [{"message": str(exc), "extensions": extensions}]},
        status_code=_STATUS.get(exc.code, 400),
        headers=headers,
    )


class RopaGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime, **kw: Any) -> None:
        super().__init__(**kw)
        self.runtime = runtime

    async def get_context(self, request: Any, response: Any = None) -> Context:
        # authenticated by ropa.api.http before GraphQL runs
        principal = request.scope.get(PRINCIPAL_KEY)
        header = request.headers.get("authorization")
        if principal is None and header:
            try:
                principal = await run_in_threadpool(tokens.authenticate, self.runtime, header)
            except (UnauthenticatedError, UnavailableError):
                principal = None
        return Context(
            runtime=self.runtime,
            principal_or_none=principal,
            request=request,
            response=response,
            compiled=True,
            splice_json=True,
        )

    def encode_json(self, data: object) -> str | bytes:
        try:
            return orjson.dumps(data)  # a dashboard's answer is megabytes: C, not json
        except TypeError:
            return super().encode_json(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html())


def create_app(
    runtime: Runtime | None = None,
    settings: Settings | None = None,
    limits: Limits | None = None,
    *,
    anchor_in_background: bool = True,
) -> Starlette:
    """The service; its lifespan runs the anchorer when TSAs are configured (docs/anchors.md)
    and the witnessing job when witnesses are (docs/witnesses.md)."""
    settings = settings or (runtime.settings if runtime else Settings.from_env())
    runtime = runtime or Runtime(settings)
    limits = limits or Limits.from_env()
    schema = compiled.enable(build_schema(introspection=settings.introspection, limits=limits))
    graphql_app = RopaGraphQL(
        runtime, schema=schema, graphql_ide="graphiql" if settings.graphiql else None
    )

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        """Ready to serve reads and writes; otherwise 503 and, per failed check, why."""
        checks: dict[str, bool] = {}
        reasons: dict[str, str] = {}
        info: dict[str, Any] = {}
        try:
            checks["database"] = True
            checks["migrations"] = await run_in_threadpool(is_current, runtime.db)
        except Exception:  # noqa: BLE001  (any failure means not ready)
            checks["database"] = False
            checks["migrations"] = False
            reasons["database"] = "the database cannot be reached"
        if checks["database"] and not checks["migrations"]:
            reasons["migrations"] = "the database is not migrated: run `ropa migrate`"
        try:
            problem = await run_in_threadpool(signing_keys.key_problem, runtime)
        except Exception:  # noqa: BLE001  (the registry is unreadable: judge the key alone)
            has_key = await run_in_threadpool(runtime.has_signing_key)
            problem = None if has_key else "no signing key loaded"
        checks["signingKey"] = problem is None
        if problem is not None:
            reasons["signingKey"] = problem
        ok = all(checks.values())
        if settings.tsas and checks["database"]:
            # reported, never a reason to be unready: writes do not wait for a TSA
            try:
                lag = await run_in_threadpool(anchors.lag, runtime)
            except Exception:  # noqa: BLE001
                lag = None
            if lag is not None:
                info["anchors"] = {
                    "lagSeconds": round(lag.seconds, 3),
                    "organizationsBehind": lag.organizations_behind,
                }
        body: dict[str, Any] = {"ready": ok, "checks": checks, **info}
        if reasons:
            body["reasons"] = reasons
        return JSONResponse(body, status_code=200 if ok else 503)

    async def keys(_: Request) -> Response:
        found = await run_in_threadpool(ledger_queries.verifier_keys, runtime)
        return JSONResponse({"keys": found})

    async def export_ropa(request: Request) -> Response:
        """The ROPA as a file: Bearer token of a role with EXPORT (AUDITOR, DPO, ADMIN)."""
        try:
            principal = await run_in_threadpool(
                tokens.authenticate, runtime, request.headers.get("authorization")
            )
            found = await run_in_threadpool(
                ropa_export.download,
                runtime,
                principal,
                request.path_params["format"],
                dict(request.query_params),
            )
        except UserError as exc:
            return _refusal(exc)
        return Response(
            found.data,
            media_type=found.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{found.filename}"',
                "Cache-Control": "no-store",
                "X-Ledger-Tree-Size": str(found.checkpoint.size),
                "X-Ledger-Root-Hash": found.checkpoint.root_hash,
            },
        )

    metrics = observability.Metrics(runtime)
    routes: list[BaseRoute] = [
        Route(
            "/graphql",
            protect(
                # the transport asks the result cache before the view: every answer, cached
                # or not, has the negotiated media type and status, and is timed by operation
                GraphQLOverHTTP(
                    graphql_app,
                    runtime,
                    metrics,
                    timeout=limits.request_timeout,
                    cache=ResultCache(runtime, schema_id=compiled.schema_id(schema)),
                ),
                runtime,
                limits,
            ),
            methods=["GET", "POST"],
        ),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/ledger/keys", keys),
        Route("/export/ropa.{format}", export_ropa, methods=["GET"]),
    ]
    if settings.graphiql:
        mount_graphiql(routes)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        """The anchors of LEDGER-SPEC §9, made while the app runs: RFC 3161 timestamps
        (a thread) and witness cosignatures; writes wait for neither."""
        anchorer = None
        if settings.tsas and anchor_in_background:
            anchorer = Anchorer(
                runtime, on_failure=lambda tsa: metrics.anchor_failures.labels(tsa).inc()
            ).start()
        try:
            # witness cosignatures (LEDGER-SPEC §9): a job of its own, beside the anchorer
            async with witnessing.background(
                runtime, on_failure=lambda name: metrics.witness_failures.labels(name).inc()
            ):
                yield
        finally:
            if anchorer is not None:
                await run_in_threadpool(anchorer.stop)

    app = Starlette(routes=routes, lifespan=lifespan)
    observability.install(app, metrics)  # /metrics, X-Request-Id, the access log
    app.state.runtime = runtime
    return app
