"""The ASGI application: GraphQL at /graphql, health, the public verifier keys, and the
ROPA download at /export/ropa.{xlsx,csv,json} (docs/exports.md).

No endpoint but health, readiness, metrics and the public keys answers without a token.
"""

from __future__ import annotations

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
from ropa.errors import UnauthenticatedError, UserError, ValidationError
from ropa.services import ledger_queries, ropa_export, tokens
from ropa.services.runtime import Runtime
from ropa.store.migrate import is_current

_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404}


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
            except UnauthenticatedError:
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
) -> Starlette:
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
        checks: dict[str, bool] = {}
        try:
            checks["database"] = True
            checks["migrations"] = await run_in_threadpool(is_current, runtime.db)
        except Exception:  # noqa: BLE001  (any failure means not ready)
            checks["database"] = False
            checks["migrations"] = False
        checks["signingKey"] = await run_in_threadpool(runtime.has_signing_key)
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

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
                # the transport outside the cache: every answer, cached or not, gets the
                # negotiated media type and status, and is timed by operation
                GraphQLOverHTTP(
                    ResultCache(graphql_app, runtime, schema_id=compiled.schema_id(schema)),
                    runtime,
                    metrics,
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
    app = Starlette(routes=routes)
    observability.install(app, metrics)  # /metrics, X-Request-Id, the access log
    app.state.runtime = runtime
    return app
