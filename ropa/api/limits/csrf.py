"""CSRF prevention (GraphQL over HTTP, §"Cross-site request forgery"; Apollo's preflight rule).

A browser sends a cross-site request without a CORS preflight only when it is "simple":
GET, HEAD or POST with no content type or one of `text/plain`,
`application/x-www-form-urlencoded`, `multipart/form-data`, and no custom header. Such a
request is refused (400) unless it carries a non-empty `x-graphql-csrf`,
`apollo-require-preflight` or `x-apollo-operation-name` header, which no page can add
without a preflight; and `/graphql` answers no preflight, so a cross-site page can run
nothing. Clients sending `Content-Type: application/json` are unaffected; GET queries add
the header. The IDE page itself (a GET with no `query`) is not an operation and is served.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from ropa.api.limits.error import send_error

ASGIApp = Any

SIMPLE_TYPES = {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
PREFLIGHT_HEADERS = (b"x-graphql-csrf", b"apollo-require-preflight", b"x-apollo-operation-name")


def is_operation(scope: Any) -> bool:
    """Whether the request would run GraphQL (everything but the IDE page)."""
    if scope["method"] not in {"GET", "HEAD"}:
        return True
    return "query" in parse_qs(scope.get("query_string", b"").decode("latin-1"))


def may_be_cross_site(scope: Any) -> bool:
    headers = dict(scope.get("headers") or ())
    if any(headers.get(h, b"").strip() for h in PREFLIGHT_HEADERS):
        return False
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "" or media in SIMPLE_TYPES


class CsrfPrevention:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_operation(scope) and may_be_cross_site(scope):
            await send_error(
                send, 400, "BAD_REQUEST",
                "This request has been blocked as a possible cross-site request forgery: send "
                "Content-Type: application/json, or a non-empty x-graphql-csrf header "
                "(e.g. `x-graphql-csrf: 1`) with GET requests.",
            )
            return
        await self.app(scope, receive, send)
