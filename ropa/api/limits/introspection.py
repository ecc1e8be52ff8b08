"""Introspection off, for production (`ROPA_INTROSPECTION=0`), and no hints in its place.

With introspection refused, GraphQL's "Did you mean ...?" suggestions would still spell
out the schema one guess at a time, so they are cut from every message as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?", re.DOTALL)


class NoIntrospection(AddValidationRules):
    def __init__(self) -> None:
        super().__init__([NoSchemaIntrospectionCustomRule])


def without_suggestions(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions,
        path=error.path, original_error=error.original_error, extensions=error.extensions,
    )


class HideSuggestions(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [without_suggestions(e) for e in result.errors]
