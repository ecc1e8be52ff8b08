"""Roles exactly as DESIGN.md, over GraphQL and the services, for every role.

    VIEWER read; AUDITOR read + ledger + export; EDITOR write activities, processors,
    transfers, policies; DPO EDITOR + breaches + the organisation's tokens; ADMIN
    organisations and keys (and everything).

The table below is written from the design, not from `ropa.services.access`, so a change
to the code's table that the design does not make fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ropa.api.ids import to_global_id
from ropa.errors import ForbiddenError
from ropa.services import breaches, ledger_export, organizations, signing_keys
from ropa.services.access import ROLES
from ropa.services.runtime import Runtime
from tests.api.conftest import GraphQLClient
from tests.conftest import Org

EVERYONE = set(ROLES)
WRITERS = {"EDITOR", "DPO", "ADMIN"}
LEDGER = {"AUDITOR", "DPO", "ADMIN"}
DPO = {"DPO", "ADMIN"}
ADMIN = {"ADMIN"}

ORG = 'query($s: String!) { organization(slug: $s) { %s } }'
ALLOWED: dict[str, tuple[set[str], str, Callable[[Org, dict[str, str]], dict[str, Any]]]] = {
    "read the records": (EVERYONE, ORG % "name processors { totalCount }",
                         lambda o, r: {"s": o.slug}),
    "list breaches": (DPO, ORG % "breaches { totalCount }", lambda o, r: {"s": o.slug}),
    "read a breach by id": (DPO, "query($id: ID!) { node(id: $id) { id } }",
                            lambda o, r: {"id": r["breach"]}),
    "read a breach's history": (DPO, "query($id: ID!) { history(id: $id) { seq } }",
                                lambda o, r: {"id": r["breach"]}),
    "read the ledger's entries": (LEDGER, ORG % "ledger { entries(first: 1) { edges { cursor } } }",
                                  lambda o, r: {"s": o.slug}),
    "list tokens": (DPO, ORG % "tokens { name }", lambda o, r: {"s": o.slug}),
    "register a processor": (
        WRITERS, 'mutation { registerProcessor(input: {name: "V", country: "DE", '
        'allowDuplicate: true}) { processor { id } } }', lambda o, r: {}),
    "report a breach": (
        DPO, 'mutation { reportBreach(input: {title: "B", discoveredAt: "2026-11-01T00:00:00Z"})'
        " { breach { id } } }", lambda o, r: {}),
    "issue a viewer token": (
        DPO, 'mutation { createToken(input: {role: VIEWER, name: "n"}) { secret } }',
        lambda o, r: {}),
    "issue an admin token": (
        ADMIN, 'mutation { createToken(input: {role: ADMIN, name: "n"}) { secret } }',
        lambda o, r: {}),
    "change the organisation's details": (
        DPO, 'mutation { updateOrganization(input: {address: "Elsewhere 1"}) '
        "{ organization { id } } }", lambda o, r: {}),
}


@pytest.fixture
def breach(rt: Runtime, org: Org) -> str:
    state = breaches.report_breach(rt, org.as_role("DPO"), {
        "title": "Laptop lost", "discoveredAt": "2025-01-01T00:00:00.000000Z", "risk": "RISK",
    }).state
    assert state is not None
    return to_global_id("BreachIncident", state["id"])


def test_each_role_may_do_exactly_what_the_design_says(
    gql: GraphQLClient, org: Org, breach: str
) -> None:
    wrong = []
    for action, (allowed, query, variables) in ALLOWED.items():
        for role in ROLES:
            body = gql(query, variables(org, {"breach": breach}), org.tokens[role],
                       expect_errors=True)
            codes = [e["extensions"]["code"] for e in body.get("errors", [])]
            expected = [] if role in allowed else ["FORBIDDEN"]
            if codes != expected:
                wrong.append(f"{role} {action}: {codes or 'allowed'}, "
                             f"expected {expected or 'allowed'}")
    assert not wrong, "\n".join(wrong)


def test_findings_about_breaches_are_shown_only_to_those_who_may_read_breaches(
    gql: GraphQLClient, org: Org, breach: str
) -> None:
    query = ORG % "findings { entityType code }"
    for role in ROLES:
        found = gql(query, {"s": org.slug}, org.tokens[role])["data"]["organization"]["findings"]
        about_breaches = [f["code"] for f in found if f["entityType"] == "BreachIncident"]
        if role in DPO:
            assert "BREACH_NOTIFICATION_OVERDUE" in about_breaches
        else:
            assert about_breaches == [], role


def test_exports_are_for_auditors_the_dpo_and_admin(
    rt: Runtime, org: Org, tmp_path: Path
) -> None:
    for role in ROLES:
        if role in LEDGER:
            assert ledger_export.export_ledger(rt, org.as_role(role), org.slug, tmp_path / role)
        else:
            with pytest.raises(ForbiddenError):
                ledger_export.export_ledger(rt, org.as_role(role), org.slug, tmp_path / role)


def test_organisations_and_signing_keys_are_for_admin_only(rt: Runtime, org: Org) -> None:
    for role in ROLES:
        if role == "ADMIN":
            continue
        with pytest.raises(ForbiddenError):
            organizations.create_organization(
                rt, org.as_role(role), {"slug": f"new-{role.lower()}", "name": "N",
                                        "roles": ["CONTROLLER"], "country": "DE"})
        with pytest.raises(ForbiddenError):
            signing_keys.rotate(rt, org.as_role(role))
    created = organizations.create_organization(
        rt, org.as_role("ADMIN"), {"slug": "new", "name": "New", "roles": ["CONTROLLER"],
                                   "country": "DE"})
    assert created.receipt is not None
