"""Expanded size: how many fields an operation holds once every fragment spread is written
out in place, as the executor sees it (GraphQL spec §6.3.2 CollectFields).

A "fragment bomb" (each fragment spreading the next twice) is a kilobyte of text that
expands to millions of fields; depth, aliases and tokens do not see it. The size is
computed once per fragment (memoised) and capped, so measuring costs time in proportion
to the text, and an operation past the limit is refused before it is planned or run.
"""

from __future__ import annotations

from typing import Any

from graphql import OperationDefinitionNode, ValidationRule
from strawberry.extensions import AddValidationRules

from ropa.api.limits.document import expanded_size, fragments
from ropa.api.limits.error import limit_error


def rule(maximum: int) -> type[ValidationRule]:
    class MaxExpandedFieldsRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            found = expanded_size(node.selection_set, fragments(self.context.document), {}, maximum)
            if found > maximum:
                self.report_error(
                    limit_error(
                        "expandedFields",
                        maximum,
                        found,
                        f"The operation holds more than {maximum} fields once its fragments are "
                        f"spread; the limit is {maximum}. Spread each fragment fewer times.",
                        node,
                    )
                )

    return MaxExpandedFieldsRule


class MaxExpandedFields(AddValidationRules):
    def __init__(self, maximum: int) -> None:
        super().__init__([rule(maximum)])
