"""Running a compiled query: one pass per selection over whole columns of records.

Where graphql-core completes a result field by field, object by object, this executor
completes each selected field for *every* object of a level at once: a column of values,
computed from the record states the services return, with one batched read per relation
(all the engagements of all the activities on a page in one statement), then the level's
result dicts are zipped from the columns. SQL statements stay constant in rows and the
per-field cost is a list comprehension instead of a resolver call.

Two modes, per object:

- *state*: the object is a record's state (a dict, as in docs/data-model.md) or a value
  inside one (a legal basis, a retention). Plain fields are read from it by name; ids,
  relations and connections have the handlers below (`_HOT`).
- *object*: a strawberry object, as the schema's resolvers return. Each field calls the
  field's own resolver, exactly as the standard executor would.

A state-mode field with neither a state key nor a handler (a computed field such as a
breach's `overdue`, or a new resolver) switches to object mode for that field: the record's
strawberry object is built with its own `X.of(state, view)` and the real resolver answers.
Anything the standard executor would report as an error (a null in a non-null field, a
failing resolver) raises, and the whole operation is run again by the standard executor,
so errors are always exactly the standard ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLSkipDirective,
    is_abstract_type,
    is_enum_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values
from graphql.pyutils import Path
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.types.unset import UNSET

from ropa.api.compiled import json_plan
from ropa.api.compiled.plan import FieldPlan, ObjectPlan, OperationPlan, Unsupported
from ropa.api.context import Context
from ropa.api.ids import record_id, to_global_id
from ropa.api.types import NODE_TYPES
from ropa.services import json_reads, reads
from ropa.services.access import can, field_action
from ropa.services.reads import View

STATE, OBJECT = 0, 1
_RESOLVE_INFO_FIELDS = GraphQLResolveInfo._fields


def _instant_iso(text: str, memo: dict[str, str]) -> str:
    """A state's instant as strawberry's DateTime writes it (`datetime.isoformat()`)."""
    found = memo.get(text)
    if found is None:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        found = memo[text] = moment.isoformat()
    return found


def _strawberry_field(definition: GraphQLField) -> Any:
    return (definition.extensions or {}).get("strawberry-definition")


def _has_resolver(definition: GraphQLField) -> bool:
    sf = _strawberry_field(definition)
    return sf is None or sf.base_resolver is not None


def _default(definition: GraphQLField) -> Any:
    """The value a value type's `build` gives a member missing from the state."""
    default = getattr(_strawberry_field(definition), "default", None)
    if default is None or default is dataclasses.MISSING or default is UNSET:
        return None
    return default.name if isinstance(default, Enum) else default


class Run:
    """One execution of a compiled plan, for one request."""

    def __init__(
        self, schema: GraphQLSchema, plan: OperationPlan, context: Context,
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.plan = plan
        self.context = context
        self.variables = variables
        self.records: dict[tuple[View, str], dict[str, dict[str, Any] | None]] = {}
        self.objects: dict[tuple[int, str], tuple[dict[str, Any], Any]] = {}
        self.instants: dict[str, str] = {}

    async def execute(self) -> dict[str, Any]:
        done = await self._objects(self.plan.root, [None], OBJECT, None)
        return done[0]

    # -- levels ------------------------------------------------------------------------

    async def _objects(
        self, plan: ObjectPlan, sources: list[Any], mode: int, view: View | None
    ) -> list[dict[str, Any]]:
        if not sources:
            return []
        fields = [f for f in plan.fields if self._included(f)] if plan.conditional else plan.fields
        columns = await asyncio.gather(
            *(self._column(f, plan.type, sources, mode, view) for f in fields)
        )
        keys = [f.key for f in fields]
        return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]

    def _included(self, f: FieldPlan) -> bool:
        for node in f.nodes:
            skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
            if skip is not None and skip.get("if"):
                return False
            include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
            if include is not None and not include.get("if"):
                return False
        return True

    async def _column(
        self, f: FieldPlan, parent: GraphQLObjectType, sources: list[Any], mode: int,
        view: View | None,
    ) -> list[Any]:
        if f.definition is None:  # __typename
            return [parent.name] * len(sources)
        if not can(self.context.principal, field_action(parent.name, f.name)):
            raise Unsupported("refused by the role table: the standard executor says so")
        if f.name == "organization" and parent is self.schema.query_type:
            states, opened = await self._organization(f, len(sources))
            return await self._complete(f.return_type, f, states, STATE, opened)
        if mode == STATE:
            assert view is not None
            if self.context.json_reads and (parent.name, f.name) in json_plan.CONNECTIONS:
                found = json_plan.connection_plan(f, parent.name)
                if found is not None:
                    return await self._json_connection(f, found, len(sources), view)
            hot = _HOT.get((parent.name, f.name))
            if hot is not None:
                values, next_mode = await hot(self, f, sources, view)
                return await self._complete(f.return_type, f, values, next_mode, view)
            if f.name == "id" and parent.name in NODE_TYPES:
                return [to_global_id(parent.name, s["id"]) for s in sources]
            if not _has_resolver(f.definition):
                if parent.name not in NODE_TYPES:  # a value inside a state: `build` defaults
                    default = _default(f.definition)
                    values = [s.get(f.name, default) for s in sources]
                    return await self._complete(f.return_type, f, values, STATE, view)
                if all(f.name in s for s in sources):
                    values = [s[f.name] for s in sources]
                    return await self._complete(f.return_type, f, values, STATE, view)
            # computed in `X.of`, or a resolver without a handler: the strawberry object
            if parent.name not in NODE_TYPES:
                raise Unsupported(f"{parent.name}.{f.name} outside a record")
            sources = [self._object_of(parent.name, s, view) for s in sources]
        values = await self._resolve(f, parent, sources)
        return await self._complete(f.return_type, f, values, OBJECT, None)

    async def _organization(self, f: FieldPlan, n: int) -> tuple[list[Any], View]:
        """`Query.organization`: the caller's view of it (as `Query.organization` opens it)."""
        from ropa.api.schema import _as_of

        args = self.arguments(f)
        ctx = self.context
        view, state = await ctx.in_thread(
            reads.open_view, ctx.runtime, ctx.principal, args["slug"], _as_of(args.get("asOf"))
        )
        return [state] * n, view

    async def _json_connection(
        self, f: FieldPlan, plan: json_plan.ConnectionPlan, n: int, view: View
    ) -> list[Any]:
        """A connection written by the database (json_plan): spliced, or parsed."""
        args = self.arguments(f)
        ctx = self.context
        assert plan.record is not None
        page = await ctx.in_thread(
            json_reads.connection, ctx.runtime, ctx.principal, view, plan.record,
            _filters(args.get("filter")), args.get("first"), args.get("after"),
        )
        text = plan.write(page)
        value = orjson.Fragment(text) if ctx.splice_json else orjson.loads(text)
        return [value] * n

    def _object_of(self, type_name: str, state: dict[str, Any], view: View) -> Any:
        key = (id(state), type_name)
        found = self.objects.get(key)
        if found is None or found[0] is not state:  # kept with its state: ids are reused
            found = self.objects[key] = (state, NODE_TYPES[type_name].of(state, view))
        return found[1]

    # -- object mode: the schema's own resolvers ----------------------------------------

    def arguments(self, f: FieldPlan) -> dict[str, Any]:
        assert f.definition is not None
        if not f.definition.args:
            return {}
        return get_argument_values(f.definition, f.nodes[0], self.variables)

    def _info(self, f: FieldPlan, parent: GraphQLObjectType) -> GraphQLResolveInfo[Context]:
        assert f.definition is not None
        values = {
            "field_name": f.name, "field_nodes": f.nodes, "return_type": f.definition.type,
            "parent_type": parent, "path": Path(None, f.key, parent.name),
            "schema": self.schema, "fragments": self.plan.fragments, "root_value": None,
            "operation": self.plan.operation, "variable_values": self.variables,
            "context": self.context, "is_awaitable": inspect.isawaitable,
            "abort_signal": None,
            "async_helpers": GraphQLResolveInfoHelpers(gather=_gather, track=_track),
        }
        return GraphQLResolveInfo._make(values.get(name) for name in _RESOLVE_INFO_FIELDS)

    async def _resolve(
        self, f: FieldPlan, parent: GraphQLObjectType, sources: list[Any]
    ) -> list[Any]:
        assert f.definition is not None
        args = self.arguments(f)
        info = self._info(f, parent)
        resolve = f.definition.resolve
        if resolve is None:
            values = [_default_resolve(s, f.name) for s in sources]
        else:
            values = [resolve(s, info, **args) for s in sources]
        if any(inspect.isawaitable(v) for v in values):
            values = list(await asyncio.gather(*(_settle(v) for v in values)))
        return values

    # -- completing values by their GraphQL type -----------------------------------------

    async def _complete(
        self, type_: GraphQLOutputType, f: FieldPlan, values: list[Any], mode: int,
        view: View | None,
    ) -> list[Any]:
        if is_non_null_type(type_):
            if any(v is None for v in values):
                raise Unsupported("null in a non-null field")
            type_ = type_.of_type
        if is_list_type(type_):
            lengths: list[int] = []
            flat: list[Any] = []
            for v in values:
                if v is None:
                    lengths.append(-1)
                else:
                    items = v if isinstance(v, list) else list(v)
                    lengths.append(len(items))
                    flat.extend(items)
            done = await self._complete(type_.of_type, f, flat, mode, view)
            out: list[Any] = []
            at = 0
            for n in lengths:
                if n < 0:
                    out.append(None)
                else:
                    out.append(done[at:at + n])
                    at += n
            return out
        if is_leaf_type(type_):
            return self._serialize(type_, values, mode)
        present = [v for v in values if v is not None]
        if is_abstract_type(type_):
            done = await self._abstract(f, present, mode, view)
        else:
            plan = f.subs[type_.name]  # type: ignore[union-attr]
            done = await self._objects(plan, present, mode, view)
        if len(present) == len(values):
            return done
        it = iter(done)
        return [next(it) if v is not None else None for v in values]

    async def _abstract(
        self, f: FieldPlan, values: list[Any], mode: int, view: View | None
    ) -> list[Any]:
        if mode == STATE:
            raise Unsupported("an abstract type over states")
        names = []
        for v in values:
            definition = getattr(type(v), "__strawberry_definition__", None)
            if definition is None or definition.name not in f.subs:
                raise Unsupported("a value of an unknown concrete type")
            names.append(definition.name)
        out: list[Any] = [None] * len(values)
        for name in set(names):
            at = [i for i, n in enumerate(names) if n == name]
            done = await self._objects(f.subs[name], [values[i] for i in at], mode, view)
            for i, d in zip(at, done, strict=True):
                out[i] = d
        return out

    def _serialize(self, type_: Any, values: list[Any], mode: int) -> list[Any]:
        name = type_.name
        if mode == STATE:
            if name in ("String", "ID"):
                if all(type(v) is str for v in values if v is not None):
                    return values
            elif name == "Boolean":
                if all(type(v) is bool for v in values if v is not None):
                    return values
            elif name == "DateTime":
                memo = self.instants
                return [None if v is None else _instant_iso(v, memo) for v in values]
            elif is_enum_type(type_):
                known = _enum_names(type_)
                if all(v is None or v in known for v in values):
                    return values
                raise Unsupported(f"a value outside enum {name}")
        serialize = type_.serialize
        return [None if v is None else serialize(v) for v in values]


_ENUM_NAMES: dict[int, frozenset[str]] = {}


def _enum_names(type_: GraphQLEnumType) -> frozenset[str]:
    found = _ENUM_NAMES.get(id(type_))
    if found is None:
        found = _ENUM_NAMES[id(type_)] = frozenset(type_.values)
    return found


def _default_resolve(source: Any, name: str) -> Any:
    if isinstance(source, dict):
        return source.get(name)
    return getattr(source, name, None)


async def _settle(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _gather(values: Any) -> list[Any]:
    return list(await asyncio.gather(*values))


def _track(_values: Any) -> None:
    return None


# -- state mode: records, relations and connections ---------------------------------------

Handler = Callable[[Run, FieldPlan, list[Any], View], Awaitable[tuple[list[Any], int]]]


async def _fetch_by_ids(
    run: Run, view: View, entity_type: str, ids: list[str | None]
) -> list[dict[str, Any] | None]:
    known = run.records.setdefault((view, entity_type), {})
    missing = sorted({i for i in ids if i is not None and i not in known})
    if missing:
        found = await run.context.in_thread(
            reads.by_ids, run.context.runtime, run.context.principal, view, entity_type, missing
        )
        for i in missing:
            known[i] = found.get(i)
    return [None if i is None else known.get(i) for i in ids]


def _by_id(entity_type: str, key: str) -> Handler:
    async def handle(
        run: Run, f: FieldPlan, states: list[Any], view: View
    ) -> tuple[list[Any], int]:
        return await _fetch_by_ids(run, view, entity_type, [s[key] for s in states]), STATE

    return handle


def _children(entity_type: str, parent_field: str) -> Handler:
    async def handle(
        run: Run, f: FieldPlan, states: list[Any], view: View
    ) -> tuple[list[Any], int]:
        ids = [s["id"] for s in states]
        grouped = await run.context.in_thread(
            reads.by_parent, run.context.runtime, run.context.principal, view, entity_type,
            parent_field, ids,
        )
        return [grouped.get(i, []) for i in ids], STATE

    return handle


def _filters(raw: dict[str, Any] | None) -> dict[str, Any]:
    """The connection's filter input as `types._filter_dict` gives it to `reads.page`."""
    out: dict[str, Any] = {}
    for name, value in (raw or {}).items():
        if value is None:
            continue
        if name == "processorId":
            value = record_id(value, "Processor", "filter.processorId")
        out[name] = value.value if hasattr(value, "value") else value
    return out


def _connection(entity_type: str) -> Handler:
    async def handle(
        run: Run, f: FieldPlan, states: list[Any], view: View
    ) -> tuple[list[Any], int]:
        args = run.arguments(f)
        out = []
        for _ in states:
            page = await run.context.in_thread(
                reads.page, run.context.runtime, run.context.principal, view, entity_type,
                _filters(args.get("filter")), args.get("first"), args.get("after"),
            )
            out.append({
                "edges": [{"cursor": c, "node": s}
                          for s, c in zip(page.states, page.cursors, strict=True)],
                "pageInfo": {
                    "hasNextPage": page.has_next, "hasPreviousPage": page.has_previous,
                    "startCursor": page.cursors[0] if page.cursors else None,
                    "endCursor": page.cursors[-1] if page.cursors else None,
                },
                "totalCount": page.total,
            })
        return out, STATE

    return handle


_HOT: dict[tuple[str, str], Handler] = {
    ("Organization", "processingActivities"): _connection("ProcessingActivity"),
    ("Organization", "processors"): _connection("Processor"),
    ("Organization", "transfers"): _connection("Transfer"),
    ("Organization", "privacyPolicies"): _connection("PrivacyPolicy"),
    ("ProcessingActivity", "engagements"): _children("ProcessorEngagement", "activityId"),
    ("ProcessingActivity", "transfers"): _children("Transfer", "activityId"),
    ("Processor", "engagements"): _children("ProcessorEngagement", "processorId"),
    ("ProcessorEngagement", "processor"): _by_id("Processor", "processorId"),
    ("ProcessorEngagement", "activity"): _by_id("ProcessingActivity", "activityId"),
    ("Transfer", "recipientProcessor"): _by_id("Processor", "recipientProcessorId"),
    ("Transfer", "activity"): _by_id("ProcessingActivity", "activityId"),
}
