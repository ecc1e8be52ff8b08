"""GraphQL over HTTP, to the letter of the GraphQL-over-HTTP specification (graphql.org).

Wrapped around strawberry's view at `/graphql`:

- media types: `application/graphql-response+json` when the client accepts it (preferred
  at equal quality), `application/json` for legacy clients and when no Accept is sent;
- status codes under `application/graphql-response+json`: 400 with no `data` entry when
  the request fails before execution (a document that does not parse or validate, or
  variables that do not coerce); 2xx once execution started, errors or not. Under
  `application/json` such results stay 200, as the spec asks of legacy responses;
- GET runs queries only: a mutation by GET is 405 with `Allow: POST`;
- `Idempotency-Key` on a POST makes a mutation safe to retry (`ropa.api.idempotency`);
- parameters are read strictly (`ropa.api.request_input`): a body that is not one JSON
  object in UTF-8, a batch, a missing `query`, a nesting too deep is 400 with BAD_REQUEST;
  any other refusal before GraphQL runs (e.g. 415) is put in GraphQL's error shape too;
- a request still running after `timeout` seconds (`ROPA_REQUEST_TIMEOUT`, 10) is answered
  503 with SERVICE_UNAVAILABLE; a mutation may still be applied: retry with the same
  Idempotency-Key to learn its answer;
- every operation is timed, and its error codes counted, by name (`ropa.observability`);
  an answer is parsed for its error codes only when its bytes hold `"errors"`;
- a query's answer may come from the result cache (`ropa.api.cache`), asked first: a 304
  or a stored answer is sent before GraphQL is touched.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson
from graphql import GraphQLSyntaxError, OperationDefinitionNode, OperationType, parse

from ropa import observability
from ropa.api.request_input import BadRequest, is_json, read_get, read_post
from ropa.services.runtime import Runtime

if TYPE_CHECKING:
    from ropa.api.cache import ResultCache

ASGIApp = Any
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_REMEMBERED_CHARS = 64 * 1024
MAX_TOKENS = 2_000  # only the operation's kind and name are read here: a longer document is
# refused by the token limit (1,000) later; strawberry refuses a mutation sent by GET anyway
REMEMBERED_REQUESTS = 256  # requests whose parameters are remembered by their raw bytes...
REMEMBERED_REQUEST_BYTES = 16 * 1024  # ...when they are at most this long


@dataclass(frozen=True)
class Operation:
    """A request's GraphQL parameters, read strictly, with its operation's kind and name.

    A function of the method and the raw parameters (the POST body, the GET query string)
    alone, so it is remembered by them: a repeated request parses nothing."""

    method: str
    raw: bytes
    fields: dict[str, Any]
    kind: str | None
    name: str
    problem: str | None = None

    @functools.cached_property
    def identity(self) -> str:
        """A digest of the method and raw parameters: what the answer is a function of,
        with the caller and the ledger head (`ropa.api.cache`)."""
        return hashlib.sha256(self.method.encode() + b"\0" + self.raw).hexdigest()


@dataclass
class Captured:
    """A whole response of the inner app, held so it can be adjusted before it is sent."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == b"content-type":
                return value.decode("latin-1").split(";", 1)[0].strip().lower()
        return ""

    async def send(self, send: Any) -> None:
        headers = [(k, v) for k, v in self.headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(self.body)).encode()))
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in self.extra.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


async def capture(app: ASGIApp, scope: Any, receive: Any) -> Captured:
    """Run `app` and keep what it answered."""
    out = Captured(500, [])
    chunks: list[bytes] = []

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            out.status = message["status"]
            out.headers = list(message.get("headers") or [])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    out.body = b"".join(chunks)
    return out


def replaying(body: bytes) -> Any:
    """A `receive` that hands the inner app a body already read."""
    sent = False

    async def receive() -> Any:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def preferred_media_type(accept: str | None) -> str:
    """`application/graphql-response+json` if accepted at least as much as JSON, else JSON."""
    if not accept:
        return JSON
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))
    wanted = quality.get(GRAPHQL_RESPONSE, 0.0)
    legacy = max(quality.get(JSON, 0.0), quality.get("application/*", 0.0),
                 quality.get("*/*", 0.0))
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= legacy else JSON


def operation_of(query: str | None, name: str | None) -> tuple[str | None, str]:
    """The operation's type ('query', 'mutation', ...) and name, if the document parses.

    Remembered for the last documents (a parse is CPU work on the event loop)."""
    if not query:
        return None, name or "anonymous"
    if len(query) > MAX_REMEMBERED_CHARS:  # not kept: 512 of them would hold too much
        return _operation_of.__wrapped__(query, name)
    return _operation_of(query, name)


@functools.lru_cache(maxsize=512)
def _operation_of(query: str, name: str | None) -> tuple[str | None, str]:
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLSyntaxError:
        return None, name or "anonymous"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if name is None or (o.name and o.name.value == name)]
    if len(chosen) != 1 and name is None:
        return None, "anonymous"
    if not chosen:
        return None, name or "anonymous"
    op = chosen[0]
    kind = {OperationType.QUERY: "query", OperationType.MUTATION: "mutation",
            OperationType.SUBSCRIPTION: "subscription"}[op.operation]
    return kind, op.name.value if op.name else (name or "anonymous")




def is_request_error(result: Any) -> bool:
    """Errors before execution: no data, and no error carries a field path."""
    if not isinstance(result, dict) or not result.get("errors"):
        return False
    return result.get("data") is None and all(
        isinstance(e, dict) and "path" not in e for e in result["errors"]
    )


def error_codes(result: Any) -> list[str]:
    if not isinstance(result, dict):
        return []
    return [
        str((e.get("extensions") or {}).get("code", "UNKNOWN"))
        for e in result.get("errors") or [] if isinstance(e, dict)
    ]


def parsed_errors(response: Captured) -> Any:
    """The JSON result when it may hold errors, else None: an answer without the bytes
    `"errors"` has none (a dashboard's answer is megabytes; nothing else needs it parsed)."""
    if response.content_type != JSON or b'"errors"' not in response.body:
        return None
    try:
        return orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return None


def conform(response: Captured, media_type: str, result: Any = None) -> Captured:
    """Set the negotiated media type and the spec's status code on a GraphQL result."""
    if response.content_type != JSON or response.status != 200:
        return response
    if media_type == GRAPHQL_RESPONSE and is_request_error(result):
        response.status = 400
        result.pop("data", None)
        response.body = json.dumps(result).encode()
    response.headers = [(k, v) for k, v in response.headers if k.lower() != b"content-type"]
    response.headers.append((b"content-type", f"{media_type}; charset=utf-8".encode()))
    return response


def malformed(fields: dict[str, Any]) -> str | None:
    """Why a GraphQL-over-HTTP request's parameters are not of their types, if they are not."""
    if not isinstance(fields.get("query"), str | None):
        return "the `query` parameter is a string"
    if not isinstance(fields.get("operationName"), str | None):
        return "the `operationName` parameter is a string or null"
    for name in ("variables", "extensions"):
        if not isinstance(fields.get(name), dict | None):
            return f"the `{name}` parameter is a map or null"
    return None


def bad_request(message: str) -> Captured:
    body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
    return Captured(400, [(b"content-type", b"application/json")], json.dumps(body).encode())


def in_error_shape(response: Captured) -> Captured:
    """A refusal the inner view answered in plain text (e.g. 415), in GraphQL's error shape."""
    if response.status < 400 or response.content_type in (JSON, GRAPHQL_RESPONSE):
        return response
    message = response.body.decode("utf-8", "replace").strip() or "the request was refused"
    refused = bad_request(message)
    refused.status = response.status
    return refused


def timed_out(seconds: float) -> Captured:
    body = {"errors": [{
        "message": f"the request did not finish within {seconds:g} s; a mutation may still be "
                   "applied: retry it with the same Idempotency-Key to learn its answer",
        "extensions": {"code": "SERVICE_UNAVAILABLE"},
    }]}
    return Captured(503, [(b"content-type", b"application/json")], json.dumps(body).encode(),
                    {"Retry-After": "1"})


def method_not_allowed(operation: str) -> Captured:
    body = {"errors": [{
        "message": f"a {operation} cannot be sent with GET: send it with POST",
        "extensions": {"code": "BAD_REQUEST"},
    }]}
    return Captured(405, [(b"content-type", b"application/json")], json.dumps(body).encode(),
                    {"Allow": "POST"})


class GraphQLOverHTTP:
    """The transport rules above, around the GraphQL view `app`, with the result cache
    (`ropa.api.cache`) asked before the view: a stored answer, or a 304, is sent as it
    was kept, with nothing parsed, executed or scanned."""

    def __init__(
        self, app: ASGIApp, runtime: Runtime, metrics: observability.Metrics | None = None,
        timeout: float = 10.0, cache: ResultCache | None = None,
    ) -> None:
        from ropa.api.idempotency import IdempotentRequests

        self.app = app
        self.metrics = metrics
        self.timeout = timeout
        self.cache = cache
        self.idempotent = IdempotentRequests(runtime)
        self.operations: OrderedDict[tuple[str, bytes], Operation] = OrderedDict()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or ()
        }
        body = b""
        if method == "POST":
            body = await _read_body(receive)
            receive = replaying(body)
        if method == "GET" and "query" not in parse_qs(
            scope.get("query_string", b"").decode("latin-1")
        ):
            await self.app(scope, receive, send)  # the IDE page
            return
        operation = await self._operation(method, scope, body, headers.get("content-type"))
        media_type = preferred_media_type(headers.get("accept"))
        lookup = None
        if operation.problem:
            response = bad_request(operation.problem)
        elif method == "GET" and operation.kind in {"mutation", "subscription"}:
            response = method_not_allowed(operation.kind)
        else:
            if self.cache is not None:
                lookup = await self.cache.lookup(scope, operation, headers, media_type)
            if lookup is not None:
                if lookup.not_modified(headers.get("if-none-match")):
                    self._note(operation, started, ())
                    await _send(send, 304, lookup.not_modified_headers(), b"")
                    return
                stored = self.cache.get(lookup) if self.cache is not None else None
                if stored is not None:
                    self._note(operation, started, ())
                    await _send(send, 200, stored.headers, stored.body)
                    return
            response = await self._answer(scope, receive, body, operation.fields, headers, method)
        result = parsed_errors(response)
        response = conform(response, media_type, result)
        self._note(operation, started, error_codes(result))
        if (
            lookup is not None and self.cache is not None and response.status == 200
            and b'"errors"' not in response.body
        ):
            stored = await self.cache.keep(lookup, response)
            if stored is not None:
                await _send(send, 200, stored.headers, stored.body)
                return
        await response.send(send)

    def _note(self, operation: Operation, started: float, codes: Iterable[str]) -> None:
        """Time the operation by name, count its errors' codes, name it in the access log."""
        if self.metrics is not None:
            self.metrics.record_operation(
                operation.name, operation.kind or "unknown", time.perf_counter() - started,
                codes,
            )
        observability.note_operation(operation.name)

    async def _operation(
        self, method: str, scope: Any, body: bytes, content_type: str | None
    ) -> Operation:
        """The request's operation, remembered by its raw parameters when it was read
        without a problem (a JSON body, or a GET query string, of at most
        REMEMBERED_REQUEST_BYTES)."""
        raw = body if method == "POST" else scope.get("query_string", b"")
        memo = (method == "GET" or is_json(content_type)) and len(raw) <= REMEMBERED_REQUEST_BYTES
        if memo:
            found = self.operations.get((method, raw))
            if found is not None:
                self.operations.move_to_end((method, raw))
                return found
        problem: str | None = None
        try:
            fields = await _read_fields(method, scope, body, content_type)
        except BadRequest as exc:
            fields, problem = {}, str(exc)
        problem = problem or malformed(fields)
        kind, name = (None, "malformed") if problem else operation_of(
            fields.get("query"), fields.get("operationName")
        )
        operation = Operation(method, raw, fields, kind, name, problem)
        if memo and problem is None:
            self.operations[(method, raw)] = operation
            if len(self.operations) > REMEMBERED_REQUESTS:
                self.operations.popitem(last=False)
        return operation

    async def _answer(
        self, scope: Any, receive: Any, body: bytes, fields: dict[str, Any],
        headers: dict[str, str], method: str,
    ) -> Captured:
        """The inner app's answer, within the request time limit."""
        if method == "POST" and "idempotency-key" in headers:
            running = self.idempotent.run(
                self.app, scope, body, fields, headers["idempotency-key"]
            )
        else:
            running = capture(self.app, scope, receive)
        try:
            response = await asyncio.wait_for(running, self.timeout or None)
        except TimeoutError:
            return timed_out(self.timeout)
        return in_error_shape(response)


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """A whole response whose headers are complete (Content-Length included)."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


INLINE_BODY_BYTES = 16 * 1024  # larger bodies are decoded off the event loop


async def _read_fields(
    method: str, scope: Any, body: bytes, content_type: str | None
) -> dict[str, Any]:
    """The request's parameters, read strictly; a body of another media type is left to the
    view (which answers 415)."""
    if method == "GET":
        return read_get(scope.get("query_string", b""))
    if not is_json(content_type):
        return {}
    if len(body) <= INLINE_BODY_BYTES:
        return read_post(body)
    return await asyncio.to_thread(read_post, body)


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
