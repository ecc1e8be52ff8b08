"""The code's access table, checked against what the service does, for every role and every
part of the service: each field of the schema (walked, not listed), each mutation, each
HTTP route. A role the table (`ropa.services.access`) gives the field's action is never
FORBIDDEN; a role without it always is. docs/security.md shows the same table
(`ropa access-table`).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLObjectType,
    get_named_type,
    is_composite_type,
    is_list_type,
    is_non_null_type,
)
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from ropa.api.ids import to_global_id
from ropa.api.schema import schema as SCHEMA
from ropa.api.types import NODE_TYPES
from ropa.app import create_app
from ropa.services.access import (
    MUTATION_ACTIONS,
    ROLE_ACTIONS,
    ROLES,
    Action,
    field_action,
    markdown_table,
)
from ropa.services.runtime import Runtime
from tests.security.conftest import Victim

GRAPHQL = SCHEMA._schema
DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"
SCALARS = {
    "Int": "1",
    "Float": "1.0",
    "String": '"x"',
    "Boolean": "false",
    "DateTime": '"2026-01-01T00:00:00Z"',
    "Date": '"2026-01-01"',
    "JSON": "{}",
}


def _literal(type_: GraphQLInputType, id_value: str) -> str:
    """A value of `type_`: its required fields only, each of the simplest kind."""
    if is_non_null_type(type_):
        return _literal(type_.of_type, id_value)  # type: ignore[attr-defined]
    if is_list_type(type_):
        return "[]"
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if isinstance(named, GraphQLInputObjectType):
        parts = [
            f"{name}: {_literal(f.type, id_value)}"
            for name, f in named.fields.items()
            if is_non_null_type(f.type)
        ]
        return "{" + ", ".join(parts) + "}"
    if named.name == "ID":
        return f'"{id_value}"'
    return SCALARS.get(named.name, '"x"')


def _selection(type_name: str, field_name: str, id_value: str) -> str:
    owner = GRAPHQL.type_map[type_name]
    assert isinstance(owner, GraphQLObjectType)
    field = owner.fields[field_name]
    args = [
        f"{n}: {_literal(a.type, id_value)}"
        for n, a in field.args.items()
        if is_non_null_type(a.type)
    ]
    text = field_name + (f"({', '.join(args)})" if args else "")
    if is_composite_type(get_named_type(field.type)):
        text += " { __typename }"
    return text


def _wrap(type_name: str, selection: str, victim: Victim) -> str:
    """A query reaching `selection` on an object of `type_name` in the victim's records."""
    slug, ids = victim.org.slug, victim.ids
    activity = to_global_id("ProcessingActivity", ids["ProcessingActivity"])
    if type_name == "Query":
        return "{ " + selection + " }"
    if type_name == "Organization":
        return f'{{ organization(slug: "{slug}") {{ {selection} }} }}'
    if type_name == "Ledger":
        return f'{{ organization(slug: "{slug}") {{ ledger {{ {selection} }} }} }}'
    if type_name == "LedgerEntry":
        return f'{{ history(id: "{activity}") {{ {selection} }} }}'
    node = to_global_id(type_name, ids[type_name])
    return f'{{ node(id: "{node}") {{ ... on {type_name} {{ {selection} }} }} }}'


FIELD_CASES = [
    (type_name, field_name)
    for type_name in ("Query", "Organization", "Ledger", "LedgerEntry", *NODE_TYPES)
    for field_name in GRAPHQL.type_map[type_name].fields  # type: ignore[attr-defined]
]


def _codes(body: dict[str, Any]) -> set[str]:
    return {(e.get("extensions") or {}).get("code", "") for e in body.get("errors") or []}


@pytest.fixture
def served(rt: Runtime, victim: Victim) -> TestClient:
    return TestClient(create_app(rt))


def test_every_role_gets_exactly_the_fields_the_access_table_gives_it(
    served: TestClient, victim: Victim
) -> None:
    activity = to_global_id("ProcessingActivity", victim.ids["ProcessingActivity"])
    mismatches: list[str] = []
    for type_name, field_name in FIELD_CASES:
        query = _wrap(type_name, _selection(type_name, field_name, activity), victim)
        action = field_action(type_name, field_name)
        for role in ROLES:
            body = served.post(
                "/graphql",
                json={"query": query},
                headers={"Authorization": f"Bearer {victim.org.tokens[role]}"},
            ).json()
            codes = _codes(body)
            assert "INTERNAL_SERVER_ERROR" not in codes, (type_name, field_name, role, body)
            assert "GRAPHQL_VALIDATION_FAILED" not in codes, (query, body)
            refused = "FORBIDDEN" in codes
            if refused == (action in ROLE_ACTIONS[role]):
                mismatches.append(
                    f"{role} {type_name}.{field_name}: needs {action.value}, "
                    f"{'refused' if refused else 'allowed'}"
                )
    assert not mismatches, "\n".join(mismatches)


def _mutation_record_type(name: str) -> str:
    for word, record in (
        ("Breach", "BreachIncident"),
        ("Authority", "BreachIncident"),
        ("DataSubjects", "BreachIncident"),
        ("Token", "ApiToken"),
        ("ProcessingActivity", "ProcessingActivity"),
        ("Disengage", "ProcessorEngagement"),
        ("Transfer", "Transfer"),
        ("Processor", "Processor"),
    ):
        if word.lower() in name.lower():
            return record
    return "Organization"


def test_every_mutation_is_forbidden_exactly_to_the_roles_the_access_table_says(
    served: TestClient, victim: Victim
) -> None:
    mutation_type = GRAPHQL.mutation_type
    assert mutation_type is not None
    assert set(mutation_type.fields) == set(MUTATION_ACTIONS), "a mutation the table lacks"
    mismatches: list[str] = []
    for name, field in mutation_type.fields.items():
        record = _mutation_record_type(name)
        id_value = to_global_id(record, victim.ids[record])
        args = ", ".join(f"{n}: {_literal(a.type, id_value)}" for n, a in field.args.items())
        query = f"mutation {{ {name}({args}) {{ __typename }} }}"
        for role in ROLES:
            body = served.post(
                "/graphql",
                json={"query": query},
                headers={"Authorization": f"Bearer {victim.org.tokens[role]}"},
            ).json()
            codes = _codes(body)
            assert "INTERNAL_SERVER_ERROR" not in codes, (name, role, body)
            assert "GRAPHQL_VALIDATION_FAILED" not in codes, (query, body)
            refused = "FORBIDDEN" in codes
            if refused == (MUTATION_ACTIONS[name] in ROLE_ACTIONS[role]):
                mismatches.append(f"{role} {name}: {codes}")
    assert not mismatches, "\n".join(mismatches)


def test_the_export_route_is_forbidden_exactly_to_the_roles_without_export(
    served: TestClient, victim: Victim
) -> None:
    for role in ROLES:
        response = served.get(
            "/export/ropa.json",
            params={"slug": victim.org.slug},
            headers={"Authorization": f"Bearer {victim.org.tokens[role]}"},
        )
        allowed = Action.EXPORT in ROLE_ACTIONS[role]
        assert response.status_code == (200 if allowed else 403), (role, response.text)


def _org_labels(text: str) -> set[str]:
    return {
        s.labels["org_id"]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if "org_id" in s.labels
    }


def test_per_organisation_metrics_need_the_metrics_token_or_admin(
    rt: Runtime, victim: Victim
) -> None:
    secret = "scrape-me-7f3a"
    settings = replace(
        rt.settings, metrics_token_sha256=hashlib.sha256(secret.encode()).hexdigest()
    )
    with TestClient(create_app(Runtime(settings))) as client:
        anonymous = client.get("/metrics")
        assert anonymous.status_code == 200
        assert _org_labels(anonymous.text) == set()
        assert victim.org.id not in anonymous.text
        scraper = client.get("/metrics", headers={"Authorization": f"Bearer {secret}"})
        assert victim.org.id in _org_labels(scraper.text)
        for role in ROLES:
            seen = client.get(
                "/metrics", headers={"Authorization": f"Bearer {victim.org.tokens[role]}"}
            )
            assert seen.status_code == 200
            assert bool(_org_labels(seen.text)) == (Action.READ_METRICS in ROLE_ACTIONS[role]), role
        wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        assert wrong.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_role_table_in_the_docs_is_the_codes_table() -> None:
    assert markdown_table() in DOCS.read_text(), (
        "docs/security.md's role table differs from ropa.services.access: paste the "
        "output of `ropa access-table`"
    )
