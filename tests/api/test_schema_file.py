"""graphql/schema.graphql is the schema the code serves; operations validate against it."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from ropa.api.sdl import schema_sdl

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = sorted((ROOT / "graphql" / "operations").glob("*.graphql"))


def test_schema_file_matches_the_code() -> None:
    on_disk = (ROOT / "graphql" / "schema.graphql").read_text(encoding="utf-8")
    assert on_disk == schema_sdl(), "graphql/schema.graphql is stale: run `ropa export-schema`"


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.stem)
def test_operation_validates_against_the_schema(path: Path) -> None:
    schema = build_schema(schema_sdl())
    assert validate(schema, parse(path.read_text(encoding="utf-8"))) == []


def test_graphql_folder_is_not_a_python_package() -> None:
    assert not (ROOT / "graphql" / "__init__.py").exists()
