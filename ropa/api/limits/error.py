"""The error a limit answers with: BAD_USER_INPUT, the limit's name, its maximum, what was
found; and, for the transport limits, the same shape as an HTTP response."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from graphql import GraphQLError, Node
from graphql.execution import ExecutionResult

CODE = "BAD_USER_INPUT"


def limit_error(
    name: str, maximum: int, found: int, message: str, nodes: Collection[Node] | Node | None = None,
) -> GraphQLError:
    return GraphQLError(
        message, nodes=nodes,
        extensions={"code": CODE, "limit": {"name": name, "max": maximum, "found": found}},
    )


def refuse(execution_context: Any, errors: list[GraphQLError]) -> None:
    """Answer with `errors` instead of executing: set before execution, this is the result.

    Also recorded as pre-execution errors, so no later extension (the compiled executor)
    answers the operation after all.
    """
    execution_context.result = ExecutionResult(data=None, errors=errors)
    execution_context.pre_execution_errors = errors


async def send_error(
    send: Any, status: int, code: str, message: str, headers: dict[str, str] | None = None,
    **extensions: Any,
) -> None:
    """Answer an HTTP request with a GraphQL-shaped error, before any GraphQL runs."""
    body = json.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    ).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
