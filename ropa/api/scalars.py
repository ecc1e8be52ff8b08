"""The `DateTime` scalar under the one rule for instants (`ropa.domain.instants`).

Strawberry's own `DateTime` reads ISO 8601 loosely: a time without an offset becomes a
naive value that was then taken as UTC, and a date alone meant its first moment. Here every
`DateTime` argument and input field is read by `read_instant`: an offset is required and a
date alone means the end of that day in UTC, as in the CLI and the HTTP exports. Answers
are written as before (`isoformat`).
"""

from __future__ import annotations

from datetime import datetime
from operator import methodcaller

from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from ropa.domain.instants import read_instant


def _parse(value: object) -> datetime:
    """A caller's instant; anything else is the caller's mistake (BAD_USER_INPUT), said so."""
    if not isinstance(value, str):
        raise GraphQLError(
            f"DateTime: {value!r} is not a string", extensions={"code": "BAD_USER_INPUT"}
        )
    try:
        return read_instant(value)
    except ValueError as exc:
        raise GraphQLError(f"DateTime: {exc}", extensions={"code": "BAD_USER_INPUT"}) from None


DATETIME = ScalarDefinition(
    name="DateTime",
    description=(
        "An RFC 3339 instant with its offset, e.g. 2024-03-01T12:00:00Z; a date alone "
        "(2024-03-01) means the end of that day in UTC. Answers are ISO 8601 in UTC."
    ),
    specified_by_url=None,
    serialize=methodcaller("isoformat"),
    parse_value=_parse,
    parse_literal=None,
    origin=datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DATETIME}
