"""Root fields: how many top-level fields one operation may select.

Each root field is a separate entry point (an organisation, a `node`, a mutation), so this
bounds the work one request fans out to; aliases cannot get round it.
"""

from __future__ import annotations

from typing import Any

from graphql import OperationDefinitionNode, ValidationRule
from strawberry.extensions import AddValidationRules

from ropa.api.limits.document import fields, fragments
from ropa.api.limits.error import limit_error


def rule(maximum: int) -> type[ValidationRule]:
    class MaxRootFieldsRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            found = sum(
                1 for f, _ in fields(node.selection_set, fragments(self.context.document))
                if f.name.value != "__typename"
            )
            if found > maximum:
                self.report_error(limit_error(
                    "rootFields", maximum, found,
                    f"The operation selects {found} root fields; the limit is {maximum}.", node,
                ))

    return MaxRootFieldsRule


class MaxRootFields(AddValidationRules):
    def __init__(self, maximum: int) -> None:
        super().__init__([rule(maximum)])
