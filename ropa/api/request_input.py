"""Reading a GraphQL-over-HTTP request's parameters strictly, so no input reaches GraphQL
that a later step could fail on (GraphQL over HTTP, graphql.org; JSON, RFC 8259; UTF-8,
RFC 3629).

A POST body must be one JSON object (a batch array is refused) in valid UTF-8, with no
lone surrogate escape (`"\\ud800"` is not Unicode text, and could be neither stored nor
signed as RFC 8785 JSON), no `NaN` or infinite number, and at most `MAX_DEPTH` levels of
nesting. A GET request's `variables` and `extensions` parameters obey the same rules.
What breaks them is a `BadRequest`, answered 400 with BAD_REQUEST in GraphQL's error
shape: never a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson

MAX_DEPTH = 64  # the deepest input of the schema is 4 levels; orjson itself stops at 1,024
JSON_TYPES = ("application/json", "application/graphql-response+json")


class BadRequest(Exception):
    """A request that cannot be read as GraphQL over HTTP; the message says why."""


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests lists and objects more than `limit` levels (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def load_json(data: bytes | str, what: str) -> Any:
    """`data` as JSON, or a `BadRequest` saying what is wrong with `what`."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not JSON in UTF-8 (RFC 8259): {exc}") from None
    except RecursionError:  # pragma: no cover  (orjson stops at 1,024 levels first)
        raise BadRequest(f"{what} nests too deeply") from None
    if too_deep(value):
        raise BadRequest(f"{what} nests lists and objects more than {MAX_DEPTH} levels deep")
    return value


def is_json(content_type: str | None) -> bool:
    """Whether a request's Content-Type is JSON (or absent: then the body is taken as JSON)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or media.endswith("+json")


def read_get(query_string: bytes) -> dict[str, Any]:
    """The parameters of a GET request; `variables` and `extensions` decoded as JSON."""
    try:
        text = query_string.decode("ascii")
        params = parse_qs(text, errors="strict")
    except UnicodeError:
        raise BadRequest("the query string is not percent-encoded UTF-8") from None
    fields: dict[str, Any] = {
        "query": params.get("query", [None])[0],
        "operationName": params.get("operationName", [None])[0],
    }
    for name in ("variables", "extensions"):
        raw = params.get(name, [None])[0]
        if raw:
            fields[name] = load_json(raw, f"the `{name}` parameter")
    return fields


def read_post(body: bytes) -> dict[str, Any]:
    """The parameters of a POST request's JSON body."""
    if not body:
        raise BadRequest("the body is empty: send a JSON object with a `query`")
    data = load_json(body, "the body")
    if isinstance(data, list):
        raise BadRequest("batched requests are not supported: send one operation per request")
    if not isinstance(data, dict):
        raise BadRequest("the body is a JSON object with a `query`")
    if data.get("query") is None:
        raise BadRequest("the request has no `query`: send the GraphQL document as `query`")
    return data
