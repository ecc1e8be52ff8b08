"""Operating the service: Prometheus metrics, a request id on every request, JSON logs.

- `/metrics` (Prometheus text format): GraphQL latency by operation name, errors by
  `extensions.code`, HTTP requests by route and status: no organisation is named in these,
  and they are open to any scraper. Per organisation, the ledger's size and the time of its
  newest checkpoint (read from the database when scraped) name every organisation's id,
  so they are only for a scraper sending `Authorization: Bearer <ROPA_METRICS_TOKEN>` (or
  an ADMIN token): `ropa.services.access` decides (READ_METRICS). A wrong token is 401.
  With TSAs configured, `ropa_anchor_lag_seconds` (one gauge, no organisation label: how
  long the oldest unstamped checkpoint of any organisation has waited) and
  `ropa_anchor_failures_total` by TSA name; with witnesses configured,
  `ropa_witness_failures_total` by witness name (docs/witnesses.md). These name no
  organisation and are open to any scraper.
- `X-Request-Id`: taken from the request when it is a sane token, made up otherwise, sent
  back on the response and written on every log line of the request.
- Logs are one JSON object per line. Nothing logs a header, a body or a query string, so
  neither a token nor a key can reach a log.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ropa.errors import UnavailableError, UserError
from ropa.services import anchors, operations, tokens
from ropa.services.access import Action, Principal, can
from ropa.services.runtime import Runtime

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_NAMES = 200  # names beyond these are counted as "other": labels stay bounded

request_id: ContextVar[str | None] = ContextVar("ropa_request_id", default=None)
_operation: ContextVar[list[str] | None] = ContextVar("ropa_operation", default=None)

access_log = logging.getLogger("ropa.access")


# --- metrics ----------------------------------------------------------------------------


class LedgerCollector(Collector):
    """Each organisation's ledger size and newest checkpoint time, read at scrape time."""

    def __init__(self, runtime: Runtime, principal: Principal) -> None:
        self.runtime = runtime
        self.principal = principal

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily(
            "ropa_ledger_size", "Entries in the organisation's ledger", labels=["org_id"]
        )
        last = GaugeMetricFamily(
            "ropa_ledger_last_checkpoint_timestamp_seconds",
            "Unix time of the organisation's newest signed checkpoint", labels=["org_id"],
        )
        try:
            figures = operations.ledger_figures(self.runtime, self.principal)
        except Exception:  # noqa: BLE001  (a scrape must not fail with the database)
            logging.getLogger("ropa.metrics").warning("ledger figures unavailable")
            figures = []
        for f in figures:
            size.add_metric([f.org_id], f.size)
            if f.last_checkpoint_at is not None:
                last.add_metric([f.org_id], f.last_checkpoint_at)
        yield size
        yield last


class AnchorCollector(Collector):
    """How far the anchorer lags, across every organisation (no per-organisation label)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "ropa_anchor_lag_seconds",
            "How long the oldest checkpoint not yet stamped by every TSA has waited "
            "(0: every head is stamped)",
        )
        behind = GaugeMetricFamily(
            "ropa_anchor_organizations_behind",
            "Organisations whose newest checkpoint some TSA has not stamped yet",
        )
        try:
            lag = anchors.lag(self.runtime)
        except Exception:  # noqa: BLE001  (a scrape must not fail with the database)
            logging.getLogger("ropa.metrics").warning("anchor lag unavailable")
            lag = None
        if lag is not None:
            gauge.add_metric([], lag.seconds)
            behind.add_metric([], lag.organizations_behind)
        yield gauge
        yield behind


class Metrics:
    """One app's metrics, in a registry of its own."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self.registry = CollectorRegistry()
        self.operation_seconds = Histogram(
            "ropa_graphql_operation_duration_seconds", "GraphQL operations by name and type",
            ["operation", "type"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.errors = Counter(
            "ropa_graphql_errors_total", "GraphQL errors by extensions.code",
            ["code"], registry=self.registry,
        )
        self.requests = Counter(
            "ropa_http_requests_total", "HTTP requests by route and status",
            ["route", "status"], registry=self.registry,
        )
        self.anchor_failures = Counter(
            "ropa_anchor_failures_total",
            "TSA requests that failed or answered no valid timestamp, by TSA name",
            ["tsa"], registry=self.registry,
        )
        self.witness_failures = Counter(
            "ropa_witness_failures_total",
            "add-checkpoint requests that failed or answered no valid cosignature, by witness",
            ["witness"], registry=self.registry,
        )
        self._names: set[str] = set()
        self.runtime = runtime
        if runtime is not None and runtime.settings.tsas:
            self.registry.register(AnchorCollector(runtime))

    def record_operation(
        self, name: str, kind: str, seconds: float, codes: Iterable[str]
    ) -> None:
        label = name if _OPERATION_NAME.match(name) else "other"
        if label not in self._names and len(self._names) >= MAX_OPERATION_NAMES:
            label = "other"
        self._names.add(label)
        self.operation_seconds.labels(label, kind).observe(seconds)
        for code in codes:
            self.errors.labels(code if _OPERATION_NAME.match(code) else "other").inc()

    def exposition(self, principal: Principal | None = None) -> bytes:
        """The metrics; per-organisation series only for a `principal` with READ_METRICS."""
        found = generate_latest(self.registry)
        if self.runtime is not None and principal is not None and can(
            principal, Action.READ_METRICS
        ):
            per_org = CollectorRegistry()
            per_org.register(LedgerCollector(self.runtime, principal))
            found += generate_latest(per_org)
        return found


def note_operation(name: str) -> None:
    """Tell the access log which GraphQL operation the request ran."""
    holder = _operation.get()
    if holder is not None:
        holder.append(name)


# --- request ids and the access log --------------------------------------------------------


class RequestContext:
    """ASGI middleware: request id in and out, route metrics, one access-log line each."""

    def __init__(self, app: Any, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        rid_token = request_id.set(rid)
        op_token = _operation.set([])
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers") or [] if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        started_response = False

        async def tracked(message: Any) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:  # logged here, with the request id
            # uvicorn would log it after this middleware, without the id: log it here,
            # answer 500 in GraphQL's error shape, and let nothing else see it
            logging.getLogger("ropa.api").error("unhandled error", exc_info=exc)
            if not started_response:
                body = json.dumps({"errors": [{"message": "Internal server error",
                                               "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]})
                await send_with_id({"type": "http.response.start", "status": 500, "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]})
                await send_with_id({"type": "http.response.body", "body": body.encode()})
        finally:
            seconds = time.perf_counter() - started
            route = _route(scope)
            if self.metrics is not None:
                self.metrics.requests.labels(route, str(status)).inc()
            names = _operation.get() or []
            access_log.info("request", extra={"http": {
                "method": scope["method"], "path": route, "status": status,
                "duration_ms": round(seconds * 1000, 2),
                **({"operation": names[0]} if names else {}),
            }})
            _operation.reset(op_token)
            request_id.reset(rid_token)


def _route(scope: Any) -> str:
    path: str = scope.get("path", "")
    if path.startswith("/graphiql/"):
        return "/graphiql/*"
    known = {"/graphql", "/healthz", "/readyz", "/metrics", "/ledger/keys"}
    return path if path in known else "other"


def install(app: Starlette, metrics: Metrics) -> None:
    """Add `/metrics` and the request-context middleware to `app`."""

    async def endpoint(request: Request) -> Response:
        principal: Principal | None = None
        authorization = request.headers.get("authorization")
        if authorization and metrics.runtime is not None:
            try:
                principal = await run_in_threadpool(
                    tokens.authenticate_scraper, metrics.runtime, authorization
                )
            except UserError as exc:  # a wrong token (401), or the database away (503)
                status = 503 if isinstance(exc, UnavailableError) else 401
                refusal = json.dumps({"errors": [{
                    "message": str(exc), "extensions": {"code": exc.code},
                }]})
                return Response(refusal, status_code=status, media_type="application/json",
                                headers={"WWW-Authenticate": 'Bearer realm="ropa"'})
        body = await run_in_threadpool(metrics.exposition, principal)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.router.routes.append(Route("/metrics", endpoint))
    app.add_middleware(RequestContext, metrics=metrics)


# --- JSON logs ----------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            out["request_id"] = rid
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            out.update(http)
        if record.exc_info:
            out["error"] = _error_text(self, record.exc_info)
        return json.dumps(out, default=str)


def _error_text(formatter: logging.Formatter, exc_info: Any) -> str:
    """A traceback; for a database error only its type and first line, so neither the
    statement's parameters nor any record content reaches a log."""
    exc = exc_info[1]
    if exc is not None and hasattr(exc, "statement") and hasattr(exc, "orig"):
        orig = exc.orig or exc
        first = (str(orig).strip().splitlines() or [""])[0]
        return f"{type(orig).__name__}: {first}"
    return formatter.formatException(exc_info)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for ropa and uvicorn: JSON lines on stderr.

    uvicorn's own access log is off: `ropa.access` writes one line per request, with its id.
    """
    handler = {"class": "logging.StreamHandler", "formatter": "json",
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            "ropa": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
