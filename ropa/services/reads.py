"""Reading records, current or as of any instant, for the API and the exports.

Every read is pinned to a ledger size N (a `View`): the records as they stood after the
first N entries, i.e. the version rows with `valid_from < N` and `valid_to` NULL or
`>= N` (tables.py). The current state is the view at the head; `asOf: T` is the view at
the number of entries committed by T. So one request reads one consistent snapshot, and
`asOf` costs the same indexed queries as the present, with no replay.

Batch functions (`by_ids`, `by_parent`) back the API's DataLoaders: one statement per
batch, whatever the number of rows.
"""

from __future__ import annotations

import base64
import json
import os
import typing
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import col

from ropa.domain.instants import in_future, parse_instant
from ropa.errors import FieldError, NotFoundError, ValidationError
from ropa.services.access import Action, Principal, authorize, read_action
from ropa.services.runtime import Runtime
from ropa.store import ledger_store
from ropa.store.tables import (
    TABLE_BY_TYPE,
    Organization,
    ProcessingActivity,
    ProcessorEngagement,
    UUIDText,
    VersionedRecord,
    snake,
)

# A deployment whose dashboards list every activity at once may raise the page size
# (`ROPA_MAX_PAGE`, e.g. 1000; docs/performance.md): one page of a connection costs one
# statement whatever its size.
MAX_PAGE = int(os.environ.get("ROPA_MAX_PAGE") or 100)
DEFAULT_PAGE = 50


@dataclass(frozen=True)
class View:
    """One organisation's records after its first `size` ledger entries."""

    org_id: str
    size: int
    as_of: str | None = None  # the instant asked for, if any
    # the database read ("postgresql": a past view uses the interval index); not compared
    backend: str | None = field(default=None, compare=False)

    @property
    def is_current(self) -> bool:
        return self.as_of is None


@dataclass(frozen=True)
class Page:
    states: list[dict[str, Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int


def visible(
    table: type[VersionedRecord], view: View, by_key: bool = False
) -> ColumnElement[bool]:
    """The versions of `table` that make up `view`.

    `by_key` (SQLite only): the caller finds the rows by another indexed key (a parent's
    id, a record's id), so the organisation is written `+org_id`, which SQLite never
    answers from an index: without statistics it would otherwise scan the organisation's
    rows for every lookup. The rows are the same.
    """
    # The present: two branches on (org_id, valid_to), each an index condition of
    # `ix_<table>_current` (PostgreSQL ORs two bitmap scans): still-current rows, and rows
    # replaced at or after the view. Written as one `valid_from < size` range, the planner
    # could scan every version of the organisation (its whole history) to answer it.
    org: Any = col(table.org_id)
    since, until = col(table.valid_from), col(table.valid_to)
    if by_key:
        org = UnaryExpression(org, operator=operators.custom_op("+"))
    # named parameters: a statement built for one view runs for another of the same kind
    # with `view_params(other)`
    org_id = bindparam("view_org", view.org_id, type_=UUIDText)
    size = bindparam("view_size", view.size, type_=Integer)
    branches = or_(
        and_(org == org_id, until.is_(None), since < size),
        and_(org == org_id, until >= size, since < size),
    )
    if view.is_current or view.backend != "postgresql":
        return branches
    # The past on PostgreSQL: the versions whose [valid_from, valid_to) holds the view's
    # last entry, a containment the GiST index `ix_<table>_valid` (migration 0007) answers
    # in one probe, where the branches above read every version replaced since.
    last = cast(bindparam("view_last", view.size - 1), BigInteger)
    return and_(org == org_id, func.int8range(since, until).op("@>")(last))


def view_params(view: View) -> dict[str, Any]:
    """The values of the parameters `visible` names, for `view`."""
    return {"view_org": view.org_id, "view_size": view.size, "view_last": view.size - 1}


def open_view(
    rt: Runtime, principal: Principal, slug: str, as_of: str | None = None
) -> tuple[View, dict[str, Any]]:
    """The view of organisation `slug` for this caller, and the organisation's state in it."""
    with rt.db.read() as conn:
        org_id = conn.execute(
            select(col(Organization.id))
            .where(col(Organization.slug) == slug)
            .order_by(
                col(Organization.valid_to).is_(None).desc(), col(Organization.valid_from).desc()
            )
            .limit(1)
        ).scalar_one_or_none()
        if org_id is None:
            raise NotFoundError("organization not found")
        authorize(principal, Action.READ, org_id)
        view = _view(conn, org_id, as_of)
        states = _fetch(conn, Organization, view, [col(Organization.id) == org_id])
    if not states:
        raise NotFoundError("organization not found at that instant")
    return view, states[0]


def view_of(rt: Runtime, principal: Principal, org_id: str, as_of: str | None = None) -> View:
    authorize(principal, Action.READ, org_id)
    with rt.db.read() as conn:
        return _view(conn, org_id, as_of)


def _view(conn: Connection, org_id: str, as_of: str | None) -> View:
    if as_of is None:
        head = ledger_store.read_head(conn, org_id)
        if head is None:
            raise NotFoundError("organization not found")
        return View(org_id, head.size)
    refuse_future("asOf", as_of)
    size = ledger_store.size_at(conn, org_id, as_of)
    return View(org_id, size, as_of, backend=conn.dialect.name)


def refuse_future(field: str, ts: str) -> None:
    """A view of the past cannot look ahead: an instant in the future is refused, not echoed."""
    if in_future(parse_instant(ts)):
        raise ValidationError(FieldError(field, "is in the future: leave it out for the present"))


def _fetch(
    conn: Connection,
    table: type[VersionedRecord],
    view: View,
    where: Iterable[ColumnElement[bool]] = (),
    order: Iterable[Any] = (),
    limit: int | None = None,
) -> list[dict[str, Any]]:
    stmt = select(*state_columns(table)).where(visible(table, view), *where).order_by(*order)
    if limit is not None:
        stmt = stmt.limit(limit)
    return _states(table, conn.execute(stmt).all())  # fetchall: rows decoded in C


@cache
def state_columns(table: type[VersionedRecord]) -> tuple[Any, ...]:
    """The columns of a record's state, in `to_state` order: `id`, then `state_fields`."""
    return (col(table.id), *(getattr(table, snake(n)) for n in table.state_fields))


def _states(table: type[VersionedRecord], rows: Iterable[Any]) -> list[dict[str, Any]]:
    # The states straight from the typed columns, as `to_state` gives them, without
    # building a model per row (that was most of a large page's cost).
    names = ("id", *table.state_fields)
    return [dict(zip(names, row, strict=True)) for row in rows]


def by_ids(
    rt: Runtime, principal: Principal, view: View, entity_type: str, ids: list[str]
) -> dict[str, dict[str, Any]]:
    authorize(principal, read_action(entity_type), view.org_id)
    table = TABLE_BY_TYPE[entity_type]
    with rt.db.read() as conn:
        states = _fetch(conn, table, view, [col(table.id).in_(set(ids))])
    return {s["id"]: s for s in states}


def by_parent(
    rt: Runtime,
    principal: Principal,
    view: View,
    entity_type: str,
    field: str,
    parent_ids: list[str],
) -> dict[str, list[dict[str, Any]]]:
    """Children of many parents at once, e.g. transfers by `activityId`."""
    authorize(principal, read_action(entity_type), view.org_id)
    table = TABLE_BY_TYPE[entity_type]
    column = getattr(table, snake(field))
    with rt.db.read() as conn:
        states = _fetch(conn, table, view, [column.in_(set(parent_ids))], [col(table.id)])
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in states:
        grouped[s[field]].append(s)
    return grouped


def all_records(rt: Runtime, view: View, entity_type: str) -> list[dict[str, Any]]:
    table = TABLE_BY_TYPE[entity_type]
    with rt.db.read() as conn:
        return _fetch(conn, table, view, order=[col(table.id)])


# --- connections ------------------------------------------------------------------------

_ORDER = {
    "ProcessingActivity": ("name", False),
    "Processor": ("name", False),
    "Transfer": ("to_country", False),
    "BreachIncident": ("discovered_at", True),
    "PrivacyPolicy": ("effective_date", True),
    "ApiToken": ("created_at", False),
}


def page(
    rt: Runtime,
    principal: Principal,
    view: View,
    entity_type: str,
    filters: dict[str, Any],
    first: int | None,
    after: str | None,
) -> Page:
    """One page of a cursor connection (Relay), with the dashboard's filters."""
    authorize(principal, read_action(entity_type), view.org_id)
    table = TABLE_BY_TYPE[entity_type]
    limit = page_limit(first)
    count_stmt, stmt = page_statements(
        table, view, filters, limit, after, state_columns(table)
    )
    with rt.db.read() as conn:
        total = conn.execute(count_stmt).scalar_one()
        states = _states(table, conn.execute(stmt).all())
    has_next = len(states) > limit
    states = states[:limit]
    sort_key = _camel(_ORDER[entity_type][0])
    return Page(
        states=states,
        cursors=[_encode_cursor(st[sort_key] or "", st["id"]) for st in states],
        has_next=has_next,
        has_previous=after is not None,
        total=total,
    )


def page_limit(first: int | None) -> int:
    limit = DEFAULT_PAGE if first is None else first
    if limit < 0 or limit > MAX_PAGE:
        raise ValidationError(FieldError("first", f"between 0 and {MAX_PAGE}"))
    return limit


def page_statements(
    table: type[VersionedRecord],
    view: View,
    filters: dict[str, Any],
    limit: int,
    after: str | None,
    columns: Iterable[Any],
) -> tuple[Any, Any]:
    """The count and the page (`limit + 1` rows of `columns`, in cursor order) of a connection.

    `page` selects the states; `json_reads` the same rows as JSON: one definition of which
    rows a page holds and in what order.
    """
    _, desc = _ORDER[table.entity_type]
    where = [visible(table, view), *_filters(table, view, filters)]
    key = [func.coalesce(sort_column(table), ""), col(table.id)]
    count_stmt = select(func.count()).select_from(table).where(*where)
    stmt = select(*columns).select_from(table).where(*where)
    if after:
        value, last_id = _decode_cursor(after)
        if desc:
            stmt = stmt.where(or_(key[0] < value, and_(key[0] == value, col(table.id) < last_id)))
        else:
            stmt = stmt.where(or_(key[0] > value, and_(key[0] == value, col(table.id) > last_id)))
    stmt = stmt.order_by(*page_order(table)).limit(limit + 1)
    return count_stmt, stmt


def page_order(table: Any) -> list[Any]:
    """The ORDER BY of a connection of `table` (a record table, or an alias of its rows)."""
    _, desc = _ORDER[table.entity_type]
    key = [func.coalesce(sort_column(table), ""), col(table.id)]
    return [k.desc() for k in key] if desc else key


def sort_column(table: Any) -> Any:
    """The column a connection of `table` is ordered by (then by id), as in its cursors."""
    return getattr(table, _ORDER[table.entity_type][0])


def encode_cursor(value: Any, record_id: str) -> str:
    return _encode_cursor(value or "", record_id)


def _filters(
    table: type[VersionedRecord], view: View, filters: dict[str, Any]
) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for name, value in filters.items():
        if value is None:
            continue
        if name == "search":
            out.append(
                func.lower(typing.cast(Any, table).name).contains(
                    str(value).lower(), autoescape=True
                )
            )
        elif name == "dataCategory":
            # the key itself or any key under it (user.contact matches user.contact.email)
            text = cast(typing.cast(Any, table).data_categories, String)
            out.append(
                or_(
                    text.contains(f'"{value}"', autoescape=True),
                    text.contains(f'"{value}.', autoescape=True),
                )
            )
        elif name == "processorId" and table is ProcessingActivity:
            engaged = select(col(ProcessorEngagement.activity_id)).where(
                visible(ProcessorEngagement, view), col(ProcessorEngagement.processor_id) == value
            )
            out.append(col(table.id).in_(engaged))
        else:
            out.append(getattr(table, snake(name)) == value)
    return out


def _encode_cursor(value: Any, record_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, record_id]).encode()).decode()


MAX_CURSOR_CHARS = 4096


def _is_text(value: str) -> bool:
    """Whether a database can compare `value`: Unicode (no lone surrogate) without NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _decode_cursor(cursor: str) -> tuple[str, str]:
    """The (sort key, id) a cursor of `_encode_cursor` holds; anything else, however it
    decodes, is BAD_USER_INPUT (sort keys and ids are strings: a number, list or null
    would reach the database's comparison as a value of the wrong type)."""
    refused = ValidationError(FieldError("after", "not a cursor of this connection"))
    if len(cursor) > MAX_CURSOR_CHARS:
        raise refused
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, TypeError, RecursionError):
        raise refused from None
    if not (
        isinstance(decoded, list)
        and len(decoded) == 2
        and all(isinstance(part, str) and _is_text(part) for part in decoded)
    ):
        raise refused
    return decoded[0], decoded[1]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


# --- single records and history -------------------------------------------------------


def locate(rt: Runtime, principal: Principal, entity_type: str, record_id: str) -> View:
    """The current view of the organisation owning `record_id`, if the caller may see it."""
    table = TABLE_BY_TYPE.get(entity_type)
    if table is None:
        raise NotFoundError("not found")
    with rt.db.read() as conn:
        org_id = conn.execute(
            select(col(table.org_id)).where(col(table.id) == record_id).limit(1)
        ).scalar_one_or_none()
        if org_id is None:
            raise NotFoundError(f"{entity_type} not found")
        try:
            authorize(principal, read_action(entity_type), org_id)
        except NotFoundError:
            raise NotFoundError(f"{entity_type} not found") from None
        return _view(conn, org_id, None)
