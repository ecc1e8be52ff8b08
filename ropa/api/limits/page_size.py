"""Page size: `first` between 0 and the page the field serves (`reads.MAX_PAGE`, 100; the
ledger's entries `ledger_queries.MAX_ENTRIES`, 500), refused before anything runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from ropa.api.limits.arguments import int_argument, operation
from ropa.api.limits.document import fields, fragments, is_introspection
from ropa.api.limits.error import limit_error, refuse
from ropa.services.ledger_queries import MAX_ENTRIES
from ropa.services.reads import MAX_PAGE

PAGE_CAPS = {("Ledger", "entries"): MAX_ENTRIES}


def cap(type_name: str, field_name: str) -> int:
    return PAGE_CAPS.get((type_name, field_name), MAX_PAGE)


def oversized_pages(
    schema: Any, document: Any, op: OperationDefinitionNode, variables: dict[str, Any],
) -> list[GraphQLError]:
    frags = fragments(document)
    errors: list[GraphQLError] = []
    seen: set[tuple[int, str]] = set()

    def walk(selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> None:
        if selection_set is None or parent is None or (id(selection_set), parent.name) in seen:
            return
        seen.add((id(selection_set), parent.name))
        for field, condition in fields(selection_set, frags):
            owner = schema.get_type(condition) if condition else parent
            if is_introspection(field) or not isinstance(
                owner, GraphQLObjectType | GraphQLInterfaceType
            ):
                continue
            definition = owner.fields.get(field.name.value)
            if definition is None:
                continue
            if "first" in definition.args:
                n = int_argument(field, definition, "first", op, variables)
                limit = cap(owner.name, field.name.value)
                if n is not None and not 0 <= n <= limit:
                    errors.append(limit_error(
                        "pageSize", limit, n,
                        f"{owner.name}.{field.name.value}: first must be between 0 and "
                        f"{limit} (got {n}); page with `after` for more.", field,
                    ))
            walk(field.selection_set, get_named_type(definition.type))

    walk(op.selection_set, schema.get_root_type(op.operation))
    return errors


class PageSizeLimit(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        op = operation(document, ctx.operation_name) if document is not None else None
        if document is not None and op is not None and not ctx.result:
            errors = oversized_pages(ctx.schema._schema, document, op, ctx.variables or {})
            if errors:
                refuse(ctx, errors)
        yield
