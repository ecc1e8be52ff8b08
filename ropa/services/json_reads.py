"""Reading records straight into the JSON of a GraphQL answer, in the database.

For a connection whose selection the API can describe (`Record`: which state members,
values inside them, children and references, under which response keys), one statement
returns each node of the page as the JSON text the standard executor would write: ids as
Relay global ids (base64 of `Type:uuid`), instants as `datetime.isoformat()`, only the
members asked for, children in id order, a missing reference as null. The rows are the
ones `reads.page` selects (`reads.page_statements`: same view, filters, order, cursors),
under the same view rules (`reads.visible`) and the same permissions (`access`), so
`asOf` and the present, and every role, read exactly what the standard path reads.

PostgreSQL builds the JSON with `json_build_object`/`json_agg`, reading each relation
once for the whole page (`_Sql.page`); SQLite with `json_object`/`json_group_array` in a
subquery per node (and `ropa_global_id`, a function the store registers on each SQLite
connection). Python only joins the nodes' text into the answer. A statement is built once
per selection and reused for every view (`_statements`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, case, cast, func, inspect, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from ropa.services import reads
from ropa.services.access import Principal, authorize, read_action
from ropa.services.reads import View
from ropa.services.runtime import Runtime
from ropa.store.tables import TABLE_BY_TYPE, snake

# -- what the API asks for -----------------------------------------------------------------

VALUE, RAW_JSON, BOOL, INSTANT = "value", "json", "bool", "instant"


@dataclass(frozen=True)
class Member:
    """A state member written as is: a string, number, enum name, date, or a JSON value."""

    key: str
    name: str
    kind: str = VALUE  # VALUE, RAW_JSON, BOOL or INSTANT
    default: Any = None  # inside a `Nested` value: written when the member is missing


@dataclass(frozen=True)
class GlobalId:
    key: str
    type_name: str


@dataclass(frozen=True)
class Constant:
    """A fixed string (`__typename`)."""

    key: str
    value: str


@dataclass(frozen=True)
class Nested:
    """An object, or a list of objects, stored inside a state member (a legal basis)."""

    key: str
    name: str
    fields: tuple[Member | Constant, ...]
    is_list: bool


@dataclass(frozen=True)
class Children:
    """The records whose `parent_field` is this record's id, in id order."""

    key: str
    record: Record
    parent_field: str


@dataclass(frozen=True)
class Reference:
    """The record whose id is this record's `field`, or null."""

    key: str
    record: Record
    field: str


Field = Member | GlobalId | Constant | Nested | Children | Reference


@dataclass(frozen=True)
class Record:
    entity_type: str
    fields: tuple[Field, ...]

    def entity_types(self) -> set[str]:
        out = {self.entity_type}
        for f in self.fields:
            if isinstance(f, Children | Reference):
                out |= f.record.entity_types()
        return out


@dataclass(frozen=True)
class JsonPage:
    nodes: list[str]  # each node's JSON text
    keys: list[tuple[Any, str]]  # each node's sort value and id, its cursor's content
    has_next: bool
    has_previous: bool
    total: int

    def cursor(self, i: int) -> str:
        """The cursor of the `i`th node (written only when the query asks for it)."""
        value, record_id = self.keys[i]
        return reads.encode_cursor(value, record_id)


def connection(
    rt: Runtime,
    principal: Principal,
    view: View,
    record: Record,
    filters: dict[str, Any],
    first: int | None,
    after: str | None,
) -> JsonPage:
    """One page of a connection of `record.entity_type`, each node as JSON text."""
    for entity_type in sorted(record.entity_types()):
        authorize(principal, read_action(entity_type), view.org_id)
    limit = reads.page_limit(first)
    count_stmt, stmt = _statements(rt.db.is_sqlite, view, record, filters, limit, after)
    params = reads.view_params(view)
    with rt.db.read() as conn:
        total = conn.execute(count_stmt, params).scalar_one()
        if not rt.db.is_sqlite:
            conn.exec_driver_sql(_PG_SETTINGS)
        rows = conn.execute(stmt, params).all()
    has_next = len(rows) > limit
    rows = rows[:limit]
    return JsonPage(
        nodes=[r[0] for r in rows],
        keys=[(r[1], str(r[2])) for r in rows],
        has_next=has_next,
        has_previous=after is not None,
        total=total,
    )


# For the page's statement, in its transaction. A plan for every execution: psycopg
# prepares a statement run often, and after five runs PostgreSQL may keep a generic plan,
# which knows neither the organisation, the view nor the page size and, guessing a few
# rows, loops over the page once per child (four times slower at 1,000 activities).
# No JIT: a page of several thousand records costs more than `jit_above_cost`, and
# compiling would take longer than running it.
_PG_SETTINGS = (
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('jit', 'off', true)"
)

# Built statements by what shapes them; the view's organisation and size are parameters
# (`reads.view_params`), so one statement serves every request for the same selection.
# Building the SQL of a nested selection costs several milliseconds of Python.
_STATEMENTS: dict[Any, tuple[Any, Any]] = {}
_MAX_STATEMENTS = 256


def _statements(
    sqlite: bool,
    view: View,
    record: Record,
    filters: dict[str, Any],
    limit: int,
    after: str | None,
) -> tuple[Any, Any]:
    """The count and the page statements of a connection (built once per shape)."""
    key = (
        sqlite,
        view.is_current,
        view.backend,
        record,
        tuple(sorted((name, repr(value)) for name, value in filters.items())),
        limit,
        after,
    )
    found = _STATEMENTS.get(key)
    if found is not None:
        return found
    table = TABLE_BY_TYPE[record.entity_type]
    sql = _Sql(sqlite, view)
    if sqlite:
        node = cast(sql.object(table, record), Text)
        found = reads.page_statements(
            table, view, filters, limit, after, [node, reads.sort_column(table), table.id]
        )
    else:
        count_stmt, rows = reads.page_statements(
            table, view, filters, limit, after, reads.state_columns(table)
        )
        found = (count_stmt, sql.page(table, record, rows))
    if len(_STATEMENTS) >= _MAX_STATEMENTS:
        _STATEMENTS.clear()
    _STATEMENTS[key] = found
    return found


# -- the SQL of one node --------------------------------------------------------------------


def _key(name: str) -> Any:
    # response keys and type names are GraphQL names ([_A-Za-z][_0-9A-Za-z]*): safe literals
    if not name.replace("_", "a").isalnum() or not name.isascii():
        raise ValueError(f"not a GraphQL name: {name!r}")
    return literal_column(f"'{name}'")


class _Sql:
    """The JSON functions of one dialect, and the view every nested read is pinned to."""

    def __init__(self, sqlite: bool, view: View) -> None:
        self.sqlite = sqlite
        self.view = view

    def object(self, table: Any, record: Record) -> ColumnElement[Any]:
        pairs: list[Any] = []
        for f in record.fields:
            pairs += [_key(f.key), self.field(table, f)]
        return self._build(pairs)

    def _build(self, pairs: list[Any]) -> ColumnElement[Any]:
        if self.sqlite:
            return func.json_object(*pairs)
        return func.json_build_object(*pairs)

    def _embed(self, value: Any) -> Any:
        """A JSON value that crossed a subquery (SQLite forgets it is JSON there)."""
        return func.json(value) if self.sqlite else value

    # -- PostgreSQL: the page's rows, and each relation grouped once and joined ----------
    #
    # A correlated subquery per node and relation would run once per row (1,000 activities:
    # 1,000 engagement lists, 3,000 processor look-ups, each with the view's predicate).
    # Instead each relation is one derived table over the rows the page reaches (children
    # grouped by their parent with `json_agg`, references one row per id), and the planner
    # joins it to its parent's rows by hash or by index as the sizes call for.

    def page(self, table: Any, record: Record, rows: Any) -> Any:
        """The nodes of `rows` (the page's records, in order) as JSON, with sort value and id."""
        page = aliased(table, rows.cte("page"))
        node, from_ = self._joined(page, record, lambda key: select(getattr(page, key)))
        return (
            select(cast(node, Text), reads.sort_column(page), page.id)
            .select_from(from_)
            .order_by(*reads.page_order(page))
        )

    def _joined(self, row: Any, record: Record, scope: Any) -> tuple[ColumnElement[Any], Any]:
        """The JSON of `record` for each of `row`'s rows and the FROM that joins its relations.

        `scope(column)` selects `column` of the rows `row` stands for: a relation reads only
        the records those rows reach.
        """
        from_: Any = inspect(row).selectable
        pairs: list[Any] = []
        for f in record.fields:
            value: Any
            if isinstance(f, Children):
                child = aliased(TABLE_BY_TYPE[f.record.entity_type])
                link = getattr(child, snake(f.parent_field))
                where = [reads.visible(child, self.view), link.in_(scope("id").correlate(None))]
                node, child_from = self._joined(
                    child, f.record, self._scope(child, snake(f.parent_field), scope("id"))
                )
                grouped = (
                    select(
                        link.label("k"),
                        func.json_agg(aggregate_order_by(node, col(child.id))).label("j"),
                    )
                    .select_from(child_from)
                    .where(*where)
                    .group_by(link)
                    .subquery()
                )
                from_ = from_.outerjoin(grouped, grouped.c.k == row.id)
                value = func.coalesce(grouped.c.j, literal_column("'[]'::json"))
            elif isinstance(f, Reference):
                target = aliased(TABLE_BY_TYPE[f.record.entity_type])
                fk = snake(f.field)
                where = [
                    reads.visible(target, self.view),
                    col(target.id).in_(scope(fk).correlate(None)),
                ]
                node, target_from = self._joined(
                    target, f.record, self._scope(target, "id", scope(fk))
                )
                found = (
                    select(col(target.id).label("k"), node.label("j"))
                    .select_from(target_from)
                    .where(*where)
                    .subquery()
                )
                from_ = from_.outerjoin(found, found.c.k == getattr(row, fk))
                value = found.c.j
            else:
                value = self.field(row, f)
            pairs += [_key(f.key), value]
        return self._build(pairs), from_

    def _scope(self, alias: Any, link: str, parents: Any) -> Any:
        """`scope` for the rows of `alias`'s table visible in the view whose `link` is
        among `parents`: each call selects them anew, under a fresh alias."""
        table = inspect(alias).mapper.class_

        def select_column(key: str) -> Any:
            again = aliased(table)
            return select(getattr(again, key)).where(
                reads.visible(again, self.view),
                getattr(again, link).in_(parents.correlate(None)),
            )

        return select_column

    def field(self, table: Any, f: Field) -> Any:
        if isinstance(f, Constant):
            return _key(f.value)
        if isinstance(f, GlobalId):
            return self.global_id(f.type_name, table.id)
        if isinstance(f, Member):
            return self.member(getattr(table, snake(f.name)), f.kind)
        if isinstance(f, Nested):
            return self.nested(getattr(table, snake(f.name)), f)
        if isinstance(f, Children):
            child = aliased(TABLE_BY_TYPE[f.record.entity_type])
            parent = getattr(child, snake(f.parent_field))
            where = [reads.visible(child, self.view, self.sqlite), parent == table.id]
            node = self.object(child, f.record)
            if self.sqlite:
                inner = (
                    select(node.label("j"))
                    .where(*where)
                    .order_by(child.id)
                    .correlate_except(child)
                    .subquery()
                )
                agg = select(func.json_group_array(func.json(inner.c.j))).scalar_subquery()
                return func.json(agg)
            return (
                select(
                    func.coalesce(
                        func.json_agg(aggregate_order_by(node, col(child.id))),
                        literal_column("'[]'::json"),
                    )
                )
                .where(*where)
                .scalar_subquery()
            )
        if isinstance(f, Reference):
            target = aliased(TABLE_BY_TYPE[f.record.entity_type])
            fk = getattr(table, snake(f.field))
            found = (
                select(self.object(target, f.record))
                .where(reads.visible(target, self.view, self.sqlite), target.id == fk)
                .limit(1)
                .scalar_subquery()
            )
            return self._embed(found)
        raise TypeError(f"unknown field {f!r}")

    def member(self, column: Any, kind: str) -> Any:
        if kind == RAW_JSON:
            return func.json(column) if self.sqlite else column
        if kind == BOOL and self.sqlite:
            return func.json(
                case(
                    (column.is_(None), None),
                    (column != 0, "true"),
                    else_="false",
                )
            )
        if kind == INSTANT:
            return self.instant(column)
        return column

    def instant(self, column: Any) -> Any:
        # RFC 3339 as stored (2026-11-22T10:04:05.123456Z) -> datetime.isoformat()
        micro = func.substr(column, 21, 6)
        return case(
            (column.is_(None), None),
            (micro == "000000", func.substr(column, 1, 19).op("||")("+00:00")),
            else_=func.substr(column, 1, 26).op("||")("+00:00"),
        )

    def global_id(self, type_name: str, id_column: Any) -> Any:
        if self.sqlite:
            return func.ropa_global_id(_key(type_name), id_column)
        _key(type_name)
        text = literal_column(f"'{type_name}:'").op("||")(cast(id_column, Text))
        encoded = func.encode(
            func.convert_to(text, literal_column("'UTF8'")), literal_column("'base64'")
        )
        # base64 breaks lines every 76 characters; replace() is several times cheaper
        # than translate() for removing them
        return func.replace(encoded, literal_column("E'\\n'"), literal_column("''"))

    def nested(self, column: Any, f: Nested) -> Any:
        kind = "array" if f.is_list else "object"
        if self.sqlite:
            each = func.json_each(column).table_valued("value", "key", "id")
            item = self._build(self._members(lambda m: each.c.value.op("->")(f"$.{m}"), f))
            if f.is_list:
                inner = (
                    select(item.label("j"))
                    .select_from(each)
                    .order_by(each.c.key)
                    .correlate_except(each)
                    .subquery()
                )
                agg = select(func.json_group_array(func.json(inner.c.j))).scalar_subquery()
                built: Any = func.json(agg)
            else:
                built = self._build(self._members(lambda m: column.op("->")(f"$.{m}"), f))
            return func.json(case((func.json_type(column) == kind, built), else_=None))
        if f.is_list:
            elements = (
                func.jsonb_array_elements(column)
                .table_valued("value", with_ordinality="n")
                .render_derived("e")
            )
            item = self._build(self._members(lambda m: elements.c.value.op("->")(m), f))
            built = (
                select(
                    func.coalesce(
                        func.json_agg(aggregate_order_by(item, elements.c.n)),
                        literal_column("'[]'::json"),
                    )
                )
                .select_from(elements)
                .scalar_subquery()
            )
        else:
            built = self._build(self._members(lambda m: column.op("->")(m), f))
        return case((func.jsonb_typeof(column) == kind, built), else_=None)

    def _members(self, get: Any, f: Nested) -> list[Any]:
        pairs: list[Any] = []
        for m in f.fields:
            if isinstance(m, Constant):
                pairs += [_key(m.key), _key(m.value)]
                continue
            value = get(m.name)
            if m.default is not None:
                fallback = _json_literal(m.default, self.sqlite)
                value = func.coalesce(value, fallback)
            pairs += [_key(m.key), value]
        return pairs


def _json_literal(value: Any, sqlite: bool) -> Any:
    import json

    text = json.dumps(value).replace("'", "''")
    return func.json(literal_column(f"'{text}'")) if sqlite else literal_column(f"'{text}'::jsonb")


def state_fields(entity_type: str) -> tuple[str, ...] | None:
    """The state members of a record type (None: not a record type read here)."""
    if entity_type not in READABLE:
        return None
    return TABLE_BY_TYPE[entity_type].state_fields


# Record types whose nodes are read as JSON; the others (breaches, tokens, organisations)
# keep their own resolvers and checks.
READABLE = frozenset(
    {"ProcessingActivity", "Processor", "ProcessorEngagement", "Transfer", "PrivacyPolicy"}
)
