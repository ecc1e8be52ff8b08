"""Aliases: how many an operation may use (graphql-armor's max-aliases), so one field
cannot be asked for hundreds of times under different names.

A fragment's aliases count at every spread of it; each fragment is counted once and the
count reused, so the work stays in proportion to the document's text.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules

from ropa.api.limits.document import fragments
from ropa.api.limits.error import limit_error


def count_aliases(
    selection_set: SelectionSetNode | None, frags: dict[str, FragmentDefinitionNode],
    memo: dict[str, int],
) -> int:
    total = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            total += (selection.alias is not None) + count_aliases(
                selection.selection_set, frags, memo
            )
        elif isinstance(selection, InlineFragmentNode):
            total += count_aliases(selection.selection_set, frags, memo)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in memo and name in frags:
                memo[name] = 0  # a cycle (invalid anyway) counts nothing more
                memo[name] = count_aliases(frags[name].selection_set, frags, memo)
            total += memo.get(name, 0)
    return total


def rule(maximum: int) -> type[ValidationRule]:
    class MaxAliasesRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            found = count_aliases(node.selection_set, fragments(self.context.document), {})
            if found > maximum:
                self.report_error(limit_error(
                    "aliases", maximum, found,
                    f"The operation uses {found} aliases; the limit is {maximum}.", node,
                ))

    return MaxAliasesRule


class MaxAliases(AddValidationRules):
    def __init__(self, maximum: int) -> None:
        super().__init__([rule(maximum)])
