"""The operation a request runs, and the integer an argument will have when it runs.

The cost and page-size limits act before execution, on the validated document and the
request's variables, so `first: $n` is judged by the value actually sent (or the
variable's default, or the argument's).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLField,
    IntValueNode,
    OperationDefinitionNode,
    VariableNode,
)

from ropa.api.limits.document import operations


def operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    found = operations(document)
    if name is None:
        return found[0] if len(found) == 1 else None
    return next((o for o in found if o.name and o.name.value == name), None)


def int_argument(
    field: FieldNode, definition: GraphQLField, name: str, op: OperationDefinitionNode,
    variables: dict[str, Any],
) -> int | None:
    """The value of integer argument `name`, or None when the field will not receive one."""
    node = next((a for a in field.arguments or () if a.name.value == name), None)
    value: Any = None
    if node is None:
        arg = definition.args.get(name)
        value = arg.default_value if arg is not None else None
    elif isinstance(node.value, IntValueNode):
        value = int(node.value.value)
    elif isinstance(node.value, VariableNode):
        var = node.value.name.value
        if var in variables:
            value = variables[var]
        else:
            for d in op.variable_definitions or ():
                if d.variable.name.value == var and isinstance(d.default_value, IntValueNode):
                    value = int(d.default_value.value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
