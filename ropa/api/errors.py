"""The one place errors become GraphQL `extensions.code`, and internals are masked.

`UserError`s keep their message and code (BAD_USER_INPUT carries `fields`: every offending
field with its reason; so does a NOT_FOUND for an id given in an input). GraphQL's own
validation errors and the abuse limits say what was wrong and get BAD_USER_INPUT
(GRAPHQL_VALIDATION_FAILED for documents that do not validate). A deployment that cannot
sign (no signing key loaded) answers SERVICE_UNAVAILABLE for writes. Anything else is
logged with the request id and answered as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from ropa.api.ids import to_global_id
from ropa.errors import (
    ConfigurationError,
    DuplicateError,
    StaleKeyError,
    UserError,
    ValidationError,
)

log = logging.getLogger("ropa.api")

MASKED = "Internal server error"
NO_KEY = "writes are disabled: the service has no signing key loaded (see /readyz)"
STALE_KEY = (
    "writes are disabled: the service's signing key is not the deployment's current key "
    "(see /readyz)"
)


def describe(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None:
        code = (error.extensions or {}).get("code") or "GRAPHQL_VALIDATION_FAILED"
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
    if isinstance(original, UserError):
        extensions: dict[str, Any] = {"code": original.code}
        if isinstance(original, ValidationError):  # incl. ReferenceNotFoundError
            extensions["fields"] = [
                {"field": e.field, "message": e.message} for e in original.errors
            ]
        message = str(original)
        if isinstance(original, DuplicateError):
            shown = to_global_id(original.entity_type, original.record_id)
            extensions["existing"] = {"id": shown, "name": original.name}
            message = original.describe(shown)
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
    if isinstance(original, GraphQLError):
        # e.g. a variable that does not coerce to its type
        return describe(original)
    if isinstance(original, ConfigurationError):
        # the operator's message names files and commands: log it, tell the caller less
        log.error("cannot serve %s: %s", error.path, original)
        return GraphQLError(
            STALE_KEY if isinstance(original, StaleKeyError) else NO_KEY,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "SERVICE_UNAVAILABLE"},
        )
    log.error("internal error in %s", error.path, exc_info=original)
    return GraphQLError(
        MASKED,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


class ErrorCodes(SchemaExtension):
    """Rewrites every error of a result through `describe`."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [describe(e) for e in result.errors]
