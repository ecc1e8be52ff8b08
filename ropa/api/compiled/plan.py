"""Compiling a validated query once: its fields collected per object type, fragments inlined.

`compile_operation` walks the operation's AST the way GraphQL's CollectFields does
(spec §6.3.2: fields merged by response key, fragments applied when their type condition
matches) and records, for every selection, the field definition and the plan of its
sub-selection. As in CollectFields, a fragment is spread once per collection however often
it is named, so a plan grows with the document's text, never with its expansion. What it
cannot plan (mutations, subscriptions, introspection, directives
on fragments) raises `Unsupported`, and the standard executor runs the operation instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
)


class Unsupported(Exception):
    """Left to the standard executor: this operation, or this request's data."""


@dataclass(eq=False)
class FieldPlan:
    key: str  # the response key (alias or name)
    name: str
    nodes: list[FieldNode]
    definition: GraphQLField | None  # None for __typename
    # the plan of the sub-selection for each concrete type the field can return
    subs: dict[str, ObjectPlan] = field(default_factory=dict)
    directives: tuple[DirectiveNode, ...] = ()

    @property
    def return_type(self) -> GraphQLOutputType:
        assert self.definition is not None
        return self.definition.type


@dataclass(eq=False)
class ObjectPlan:
    type: GraphQLObjectType
    fields: list[FieldPlan]
    conditional: bool  # some field carries @skip or @include


@dataclass(eq=False)
class OperationPlan:
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    root: ObjectPlan


_CONDITIONS = {"skip", "include"}


def compile_operation(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> OperationPlan:
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        raise Unsupported("only queries are compiled")
    if operation.directives:
        raise Unsupported("directives on the operation")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    query_type = schema.query_type
    assert query_type is not None
    root = _object_plan(schema, query_type, [operation.selection_set], fragments)
    return OperationPlan(operation, fragments, root)


def _applies(type_: GraphQLObjectType, condition: str | None) -> bool:
    return condition is None or condition == type_.name or any(
        i.name == condition for i in type_.interfaces
    )


def _collect(
    type_: GraphQLObjectType, selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode], into: dict[str, list[FieldNode]],
    visited: set[str],
) -> None:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            into.setdefault(key, []).append(selection)
            continue
        if selection.directives:
            raise Unsupported("directives on a fragment")
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            if _applies(type_, condition):
                _collect(type_, selection.selection_set, fragments, into, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visited:
                continue  # spec §6.3.2: each fragment once per collection
            visited.add(name)
            fragment = fragments[name]
            if _applies(type_, fragment.type_condition.name.value):
                _collect(type_, fragment.selection_set, fragments, into, visited)


def _object_plan(
    schema: GraphQLSchema, type_: GraphQLObjectType, selection_sets: list[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> ObjectPlan:
    collected: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()
    for selection_set in selection_sets:
        _collect(type_, selection_set, fragments, collected, visited)
    fields: list[FieldPlan] = []
    conditional = False
    for key, nodes in collected.items():
        name = nodes[0].name.value
        directives: tuple[DirectiveNode, ...] = ()
        if any(n.directives for n in nodes):
            own = tuple(nodes[0].directives or ())
            if len(nodes) > 1 or any(d.name.value not in _CONDITIONS for d in own):
                raise Unsupported("directives beyond @skip/@include on one field")
            directives = own
            conditional = True
        if name == "__typename":
            fields.append(FieldPlan(key, name, nodes, None, directives=directives))
            continue
        if name.startswith("__"):
            raise Unsupported("introspection")
        definition = type_.fields[name]
        plan = FieldPlan(key, name, nodes, definition, directives=directives)
        named = get_named_type(definition.type)
        subsets = [n.selection_set for n in nodes if n.selection_set is not None]
        if is_object_type(named):
            plan.subs[named.name] = _object_plan(schema, named, subsets, fragments)
        elif is_abstract_type(named):
            for possible in schema.get_possible_types(named):
                plan.subs[possible.name] = _object_plan(schema, possible, subsets, fragments)
        elif not is_leaf_type(named):
            raise Unsupported(f"field type {named}")
        fields.append(plan)
    return ObjectPlan(type_, fields, conditional)
