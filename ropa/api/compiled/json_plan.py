"""Connections answered as JSON by the database: which selections can be, and the answer's text.

A connection field (`Organization.processingActivities`, ...) whose whole selection maps
onto record state (members, values inside members, global ids, the relations of
`run._HOT`, `__typename`) is described to `ropa.services.json_reads` as a `Record`; the
database returns every node as JSON text, and `connection_json` writes the connection
around them (edges, cursors, pageInfo, totalCount) in the order the query asks. Anything
else (a resolver, a computed field, @skip/@include, a custom scalar) is `Unsupported`,
and the field is answered by the compiled executor as before.

Values are written as the standard executor writes them: the database emits the JSON,
and tests/perf compares the answers of both executors on every operation, role and asOf.
"""

from __future__ import annotations

from typing import Any

import orjson
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_enum_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)

from ropa.api.compiled.plan import FieldPlan, ObjectPlan, Unsupported
from ropa.services import json_reads
from ropa.services.json_reads import (
    BOOL,
    INSTANT,
    RAW_JSON,
    VALUE,
    Children,
    Constant,
    GlobalId,
    JsonPage,
    Member,
    Nested,
    Record,
    Reference,
)

# (parent type, field) -> (kind, entity type, the state member linking them)
RELATIONS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("ProcessingActivity", "engagements"): ("children", "ProcessorEngagement", "activityId"),
    ("ProcessingActivity", "transfers"): ("children", "Transfer", "activityId"),
    ("Processor", "engagements"): ("children", "ProcessorEngagement", "processorId"),
    ("ProcessorEngagement", "processor"): ("reference", "Processor", "processorId"),
    ("ProcessorEngagement", "activity"): ("reference", "ProcessingActivity", "activityId"),
    ("Transfer", "recipientProcessor"): ("reference", "Processor", "recipientProcessorId"),
    ("Transfer", "activity"): ("reference", "ProcessingActivity", "activityId"),
}
CONNECTIONS = {
    ("Organization", "processingActivities"): "ProcessingActivity",
    ("Organization", "processors"): "Processor",
    ("Organization", "transfers"): "Transfer",
    ("Organization", "privacyPolicies"): "PrivacyPolicy",
}
_PLAIN = {"String", "ID", "Int", "Float"}


def _strawberry_field(definition: Any) -> Any:
    return (definition.extensions or {}).get("strawberry-definition")


def _has_resolver(definition: Any) -> bool:
    sf = _strawberry_field(definition)
    return sf is None or sf.base_resolver is not None


def _default(definition: Any) -> Any:
    import dataclasses
    from enum import Enum

    from strawberry.types.unset import UNSET

    default = getattr(_strawberry_field(definition), "default", None)
    if default is None or default is dataclasses.MISSING or default is UNSET:
        return None
    return default.name if isinstance(default, Enum) else default


def _unwrap(type_: Any) -> tuple[Any, bool]:
    """(the type without NonNull, whether it is a list)."""
    if is_non_null_type(type_):
        type_ = type_.of_type
    return type_, is_list_type(type_)


def _leaf_kind(type_: Any) -> str:
    named = get_named_type(type_)
    inner, is_list = _unwrap(type_)
    if is_list:
        element, nested_list = _unwrap(inner.of_type)
        if nested_list or not (is_enum_type(element) or element.name in _PLAIN):
            raise Unsupported(f"a list of {element}")
        return RAW_JSON
    if is_enum_type(named) or named.name in _PLAIN:
        return VALUE
    if named.name == "Boolean":
        return BOOL
    if named.name == "DateTime":
        return INSTANT
    raise Unsupported(f"scalar {named.name}")


def record_of(plan: ObjectPlan) -> Record:
    """The `Record` a node type's selection asks for, or Unsupported."""
    type_name = plan.type.name
    state_fields = json_reads.state_fields(type_name)
    if state_fields is None or plan.conditional:
        raise Unsupported(f"{type_name} as JSON")
    fields: list[json_reads.Field] = []
    for f in plan.fields:
        if f.definition is None:
            fields.append(Constant(f.key, type_name))
            continue
        relation = RELATIONS.get((type_name, f.name))
        if relation is not None:
            kind, entity_type, link = relation
            sub = f.subs.get(entity_type)
            if sub is None or set(f.subs) != {entity_type}:
                raise Unsupported("a relation of several types")
            child = record_of(sub)
            _, is_list = _unwrap(f.return_type)
            if kind == "children":
                if not is_list:
                    raise Unsupported("children without a list")
                fields.append(Children(f.key, child, link))
            else:
                if is_list or is_non_null_type(f.return_type):
                    raise Unsupported("a reference that is a list or non-null")
                fields.append(Reference(f.key, child, link))
            continue
        if f.name == "id":
            fields.append(GlobalId(f.key, type_name))
            continue
        if f.name not in state_fields or _has_resolver(f.definition):
            raise Unsupported(f"{type_name}.{f.name} is computed")
        named = get_named_type(f.return_type)
        if is_leaf_type(named):
            fields.append(Member(f.key, f.name, _leaf_kind(f.return_type)))
        elif is_object_type(named):
            _, is_list = _unwrap(f.return_type)
            fields.append(Nested(f.key, f.name, _value_members(f.subs[named.name]), is_list))
        else:
            raise Unsupported(f"{type_name}.{f.name}")
    return Record(type_name, tuple(fields))


def _value_members(plan: ObjectPlan) -> tuple[Member | Constant, ...]:
    """The members of a value stored inside a state (a legal basis), leaves only."""
    if plan.conditional:
        raise Unsupported("@skip/@include inside a value")
    out: list[Member | Constant] = []
    for f in plan.fields:
        if f.definition is None:
            out.append(Constant(f.key, plan.type.name))
            continue
        if _has_resolver(f.definition) or not is_leaf_type(get_named_type(f.return_type)):
            raise Unsupported(f"{plan.type.name}.{f.name} inside a value")
        kind = _leaf_kind(f.return_type)
        if kind == INSTANT:
            raise Unsupported("an instant inside a value")
        out.append(Member(f.key, f.name, VALUE, _default(f.definition)))
    return tuple(out)


# -- the connection around the nodes -----------------------------------------------------


class ConnectionPlan:
    """A connection field answered by `json_reads.connection`, and how to write its JSON."""

    def __init__(self, f: FieldPlan, entity_type: str) -> None:
        type_ = f.return_type
        if not isinstance(type_, GraphQLNonNull) or isinstance(type_.of_type, GraphQLList):
            raise Unsupported("a connection that is not a non-null object")
        connection_type = type_.of_type
        assert isinstance(connection_type, GraphQLObjectType)
        plan = f.subs[connection_type.name]
        if plan.conditional:
            raise Unsupported("@skip/@include in a connection")
        self.entity_type = entity_type
        self.fields: list[tuple[str, str, Any]] = []
        self.record: Record | None = None
        for c in plan.fields:
            if c.definition is None:
                self.fields.append((c.key, "const", plan.type.name))
            elif c.name == "totalCount":
                self.fields.append((c.key, "total", None))
            elif c.name == "pageInfo":
                sub = next(iter(c.subs.values()))
                if sub.conditional:
                    raise Unsupported("@skip/@include in pageInfo")
                self.fields.append(
                    (
                        c.key,
                        "pageInfo",
                        [
                            (
                                p.key,
                                p.name if p.definition is not None else "__typename",
                                sub.type.name,
                            )
                            for p in sub.fields
                        ],
                    )
                )
            elif c.name == "edges":
                sub = next(iter(c.subs.values()))
                if sub.conditional:
                    raise Unsupported("@skip/@include in edges")
                edge: list[tuple[str, str, Any]] = []
                for e in sub.fields:
                    if e.definition is None:
                        edge.append((e.key, "const", sub.type.name))
                    elif e.name == "cursor":
                        edge.append((e.key, "cursor", None))
                    elif e.name == "node":
                        node = e.subs.get(entity_type)
                        if node is None:
                            raise Unsupported("a node of another type")
                        record = record_of(node)
                        if self.record is not None and self.record != record:
                            raise Unsupported("two different node selections")
                        self.record = record
                        edge.append((e.key, "node", None))
                    else:
                        raise Unsupported(f"edge field {e.name}")
                self.fields.append((c.key, "edges", edge))
            else:
                raise Unsupported(f"connection field {c.name}")
        if self.record is None:  # no node asked: the ids still give the cursors
            self.record = Record(entity_type, ())

    def write(self, page: JsonPage) -> bytes:
        parts: list[str] = []
        for key, kind, extra in self.fields:
            value: str
            if kind == "const":
                value = _dumps(extra)
            elif kind == "total":
                value = str(page.total)
            elif kind == "pageInfo":
                value = _dumps(
                    {k: _page_info(name, page, type_name) for k, name, type_name in extra}
                )
            else:
                value = _edges(extra, page)
            parts.append(_dumps(key) + ":" + value)
        return ("{" + ",".join(parts) + "}").encode()


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _page_info(name: str, page: JsonPage, type_name: str) -> Any:
    if name == "hasNextPage":
        return page.has_next
    if name == "hasPreviousPage":
        return page.has_previous
    if name == "startCursor":
        return page.cursor(0) if page.nodes else None
    if name == "endCursor":
        return page.cursor(-1) if page.nodes else None
    return type_name  # __typename


def _edges(fields: list[tuple[str, str, Any]], page: JsonPage) -> str:
    """The edges' JSON: each edge's fixed text computed once, the nodes and cursors joined
    in (cursors are base64url: nothing to escape)."""
    pieces: list[str] = []  # text between the values, around "node" and "cursor" slots
    slots: list[str] = []
    text = "{"
    for i, (key, kind, extra) in enumerate(fields):
        text += ("," if i else "") + f'"{key}":'
        if kind == "node":
            pieces.append(text)
            slots.append("node")
            text = ""
        elif kind == "cursor":
            pieces.append(text + '"')
            slots.append("cursor")
            text = '"'
        else:
            text += _dumps(extra)
    pieces.append(text + "}")
    if slots == ["node"]:  # the dashboard's shape: one join
        if not page.nodes:
            return "[]"
        separator = pieces[1] + "," + pieces[0]
        return "[" + pieces[0] + separator.join(page.nodes) + pieces[1] + "]"
    out = []
    for i, node in enumerate(page.nodes):
        cursor = page.cursor(i) if "cursor" in slots else ""
        edge = pieces[0]
        for slot, after in zip(slots, pieces[1:], strict=True):
            edge += (node if slot == "node" else cursor) + after
        out.append(edge)
    return "[" + ",".join(out) + "]"


_PLANS: dict[int, tuple[FieldPlan, ConnectionPlan | None]] = {}


def connection_plan(f: FieldPlan, parent: str) -> ConnectionPlan | None:
    """The JSON plan of connection field `f` (None: the compiled executor answers it)."""
    found = _PLANS.get(id(f))
    if found is not None and found[0] is f:
        return found[1]
    entity_type = CONNECTIONS.get((parent, f.name))
    plan: ConnectionPlan | None = None
    if entity_type is not None:
        try:
            plan = ConnectionPlan(f, entity_type)
        except Unsupported:
            plan = None
    if len(_PLANS) > 1024:
        _PLANS.clear()
    _PLANS[id(f)] = (f, plan)
    return plan
