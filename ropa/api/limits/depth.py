"""Query depth: how many fields deep an operation reaches (graphql-armor's max-depth).

The root field counts 1 and every field nested in it one more, leaves included, so
`{ organization { name } }` is 2 deep. Introspection fields are not counted: the IDE's
schema query is deep but bounded by the schema itself.
"""

from __future__ import annotations

from typing import Any

from graphql import OperationDefinitionNode, ValidationRule
from strawberry.extensions import AddValidationRules

from ropa.api.limits.document import depth, fragments
from ropa.api.limits.error import limit_error


def rule(maximum: int) -> type[ValidationRule]:
    class MaxDepthRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            found = depth(node.selection_set, fragments(self.context.document))
            if found > maximum:
                name = node.name.value if node.name else "The operation"
                self.report_error(limit_error(
                    "depth", maximum, found,
                    f"{name} is {found} fields deep; the limit is {maximum}.", node,
                ))

    return MaxDepthRule


class MaxDepth(AddValidationRules):
    def __init__(self, maximum: int) -> None:
        super().__init__([rule(maximum)])
