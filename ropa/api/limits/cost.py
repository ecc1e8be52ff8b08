"""Cost: how many objects an operation may return, estimated before it runs.

Every object counts 1, multiplied by how many of its parent there may be: a connection
with `first: n` (default 50) holds pages of n (its `edges`, n each with a `node`), and any
other list of objects (an activity's engagements, its legal bases) is taken to hold
`LIST_ESTIMATE`. Scalars and introspection cost nothing. So
`processingActivities(first: 100) { edges { node { engagements { processor { name } } } } }`
costs 1 + 100 + 100 + 100 * 5 + 100 * 5 = 1,201. `LIST_ESTIMATE` is above the longest such
list in the demo records (4). The limit defaults to graphql-armor's 5,000; the dashboard's
overview, the costliest of `graphql/operations/`, costs 2,851.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from strawberry.extensions import SchemaExtension

from ropa.api.limits.arguments import int_argument, operation
from ropa.api.limits.document import fields, fragments, is_introspection
from ropa.api.limits.error import limit_error, refuse
from ropa.services.reads import DEFAULT_PAGE

LIST_ESTIMATE = 5
_WITH_FIELDS = (GraphQLObjectType, GraphQLInterfaceType)


class Estimate:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, op: OperationDefinitionNode,
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.frags = fragments(document)
        self.op = op
        self.variables = variables
        self.memo: dict[tuple[int, str, int | None], int] = {}

    def total(self) -> int:
        root = self.schema.get_root_type(self.op.operation)
        return self.cost(self.op.selection_set, root, None) if root else 0

    def cost(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None,
        page: int | None,
    ) -> int:
        """The objects one instance of `parent` returns through `selection_set`.

        `page` is set inside a connection: its lists (`edges`) hold that many.
        """
        if selection_set is None or parent is None:
            return 0
        key = (id(selection_set), parent.name, page)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = 0  # a fragment cycle (invalid anyway) adds nothing
        total = 0
        for field, condition in fields(selection_set, self.frags):
            owner = self.schema.get_type(condition) if condition else parent
            if is_introspection(field) or not isinstance(owner, _WITH_FIELDS):
                continue
            definition = owner.fields.get(field.name.value)
            if definition is None:
                continue
            named = get_named_type(definition.type)
            if not is_composite_type(named):
                continue
            is_list = is_list_type(get_nullable_type(definition.type))
            inner_page = None
            if "first" in definition.args:
                first = int_argument(field, definition, "first", self.op, self.variables)
                first = DEFAULT_PAGE if first is None else max(first, 0)
                n = first if is_list else 1  # a connection is one object holding the page
                inner_page = None if is_list else first
            elif is_list:
                n = page if page is not None else LIST_ESTIMATE
            else:
                n = 1
            total += n + n * self.cost(field.selection_set, named, inner_page)
        self.memo[key] = total
        return total


class CostLimit(SchemaExtension):
    def __init__(self, maximum: int) -> None:
        self.maximum = maximum

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        op = operation(document, ctx.operation_name) if document is not None else None
        if document is not None and op is not None and not ctx.result:
            found = Estimate(ctx.schema._schema, document, op, ctx.variables or {}).total()
            if found > self.maximum:
                refuse(ctx, [limit_error(
                    "cost", self.maximum, found,
                    f"The operation may return about {found} objects; the limit is "
                    f"{self.maximum}. Ask for smaller pages (first) or fewer nested lists.",
                    op,
                )])
        yield
