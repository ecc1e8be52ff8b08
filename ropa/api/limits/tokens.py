"""Tokens: how long a document may be, in GraphQL tokens (graphql-armor's max-tokens).

The parser itself stops at the limit (graphql-core's `max_tokens`), so an oversized
document costs no more than the limit to refuse; its syntax error is restated here as a
limit error.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from ropa.api.limits.error import limit_error

_MARK = "Document contains more than"


class MaxTokens(SchemaExtension):
    def __init__(self, maximum: int) -> None:
        self.maximum = maximum

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.maximum
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._restate(e) for e in result.errors]

    def _restate(self, error: GraphQLError) -> GraphQLError:
        if _MARK not in error.message:
            return error
        return limit_error(
            "tokens", self.maximum, self.maximum + 1,
            f"The document has more than {self.maximum} tokens; the limit is {self.maximum}.",
        )
