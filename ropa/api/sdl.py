"""The schema as SDL: what `graphql/schema.graphql` holds (a test fails when it is stale)."""

from __future__ import annotations

from ropa.api.schema import schema


def schema_sdl() -> str:
    return schema.as_str() + "\n"
