"""Directives: how many one document may use (graphql-armor's max-directives), so a field
cannot be buried under thousands of `@include`s that each cost a check."""

from __future__ import annotations

from typing import Any

from graphql import DirectiveNode, DocumentNode, ValidationRule
from strawberry.extensions import AddValidationRules

from ropa.api.limits.error import limit_error


def rule(maximum: int) -> type[ValidationRule]:
    class MaxDirectivesRule(ValidationRule):
        found = 0

        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            self.found += 1

        def leave_document(self, node: DocumentNode, *_: Any) -> None:
            if self.found > maximum:
                self.report_error(limit_error(
                    "directives", maximum, self.found,
                    f"The document uses {self.found} directives; the limit is {maximum}.",
                ))

    return MaxDirectivesRule


class MaxDirectives(AddValidationRules):
    def __init__(self, maximum: int) -> None:
        super().__init__([rule(maximum)])
