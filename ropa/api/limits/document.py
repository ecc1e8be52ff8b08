"""Walking an operation's selections with fragments spread in place.

The document limits share it. None of them trusts the document to be valid (limits are
checked alongside validation, not after it), and none lets fragments multiply the work:
a fragment spread twice in one selection set is expanded once (GraphQL merges the fields
anyway, and a cycle is cut), and results per selection set are memoised, so a
"fragment bomb" costs time in proportion to its text, not to its expansion.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


def fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def fields(
    selection_set: SelectionSetNode | None, frags: dict[str, FragmentDefinitionNode],
    expanded: set[str] | None = None,
) -> Iterator[tuple[FieldNode, str | None]]:
    """The fields of one selection set, with the type condition they were selected under.

    Looks through inline fragments and spreads, expanding each named fragment once.
    """
    if selection_set is None:
        return
    expanded = set() if expanded is None else expanded
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection, None
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            for field, inner in fields(selection.selection_set, frags, expanded):
                yield field, inner or condition
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = frags.get(name)
            if fragment is not None and name not in expanded:
                expanded.add(name)
                condition = fragment.type_condition.name.value
                for field, inner in fields(fragment.selection_set, frags, expanded):
                    yield field, inner or condition


def is_introspection(field: FieldNode) -> bool:
    return field.name.value.startswith("__")


def depth(
    selection_set: SelectionSetNode | None, frags: dict[str, FragmentDefinitionNode],
    memo: dict[int, int] | None = None,
) -> int:
    """How many fields deep `selection_set` reaches (a leaf counts 1); introspection not counted."""
    if selection_set is None:
        return 0
    memo = {} if memo is None else memo
    key = id(selection_set)
    if key not in memo:
        memo[key] = 0  # a cycle (invalid anyway) counts nothing more
        memo[key] = max(
            (1 + depth(f.selection_set, frags, memo)
             for f, _ in fields(selection_set, frags) if not is_introspection(f)),
            default=0,
        )
    return memo[key]


def expanded_size(
    selection_set: SelectionSetNode | None, frags: dict[str, FragmentDefinitionNode],
    memo: dict[str, int], cap: int,
) -> int:
    """How many fields `selection_set` holds with every spread written out in place, as
    often as it is spread; each fragment's size is computed once (`memo`), and sizes stop
    growing past `cap`, so a fragment bomb is measured in time proportional to its text.
    """
    total = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            total += 1 + expanded_size(selection.selection_set, frags, memo, cap)
        elif isinstance(selection, InlineFragmentNode):
            total += expanded_size(selection.selection_set, frags, memo, cap)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in memo and name in frags:
                memo[name] = 0  # a cycle (invalid anyway) counts nothing more
                memo[name] = expanded_size(frags[name].selection_set, frags, memo, cap)
            total += memo.get(name, 0)
        if total > cap:
            return cap + 1
    return total
