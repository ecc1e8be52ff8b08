"""The demo's history, as a DPO would look back at it with `asOf`, on both databases.

Notices at their dates, organisations appearing over the years, a US transfer moving from
the Privacy Shield to SCC after Schrems II and to the DPF, a breach and its 72-hour clock,
a processor retired; and the ledger's `ts` at the instants the history claims.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from ropa.app import create_app
from ropa.demo.loader import (
    DEMO_SLUGS,
    OrganizationLoader,
    demo_data,
    history,
    instant,
    load_demo,
)
from ropa.services import tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.runtime import Runtime
from ropa.store.tables import LedgerEntry
from tests.api.conftest import GraphQLClient

QUALER = """
query($asOf: DateTime) { organization(slug: "qualer", asOf: $asOf) {
  privacyPolicies { edges { node { version effectiveDate } } }
  processors(first: 20) { edges { node { name status dpf dpaSignedOn } } }
  transfers(first: 20, filter: { toCountry: "US" }) {
    edges { node { mechanism sccModule recipientProcessor { name } } } }
  breaches { edges { node { title status notificationDeadline overdue
    authorityNotifications { notifiedAt phase } } } }
  findings { code }
  ledger { size }
} }
"""
EXISTS = """query($slug: String!, $asOf: DateTime) {
  organization(slug: $slug, asOf: $asOf) { privacyPolicies { edges { node { effectiveDate } } } }
}"""


@pytest.fixture
def demo(rt: Runtime) -> tuple[GraphQLClient, dict[str, str], dict[str, str]]:
    ids = load_demo(rt)
    secrets = {
        slug: tokens.create_token(rt, SYSTEM_PRINCIPAL, ids[slug], "DPO", "history").secret
        for slug in DEMO_SLUGS
    }
    return GraphQLClient(TestClient(create_app(rt))), secrets, ids


def _qualer(gql: GraphQLClient, token: str, as_of: str | None) -> dict[str, Any]:
    body = gql(QUALER, {"asOf": as_of}, token)
    org: dict[str, Any] = body["data"]["organization"]
    return org


def _hubspot_transfer(org: dict[str, Any]) -> dict[str, Any]:
    [transfer] = [
        e["node"]
        for e in org["transfers"]["edges"]
        if (e["node"]["recipientProcessor"] or {}).get("name") == "HubSpot"
    ]
    return transfer


def test_the_us_transfer_moves_from_privacy_shield_to_scc_to_dpf(
    demo: tuple[GraphQLClient, dict[str, str], dict[str, str]],
) -> None:
    gql, secrets, _ = demo
    token = secrets["qualer"]
    steps = {
        "2019-06-01T00:00:00Z": ("PRIVACY_SHIELD", False),
        "2020-07-20T00:00:00Z": ("PRIVACY_SHIELD", True),  # after Schrems II: flagged
        "2021-06-01T00:00:00Z": ("SCC", False),
        "2023-08-01T00:00:00Z": ("DPF", False),
        None: ("DPF", False),
    }
    for as_of, (mechanism, flagged) in steps.items():
        org = _qualer(gql, token, as_of)
        assert _hubspot_transfer(org)["mechanism"] == mechanism, as_of
        codes = {f["code"] for f in org["findings"]}
        assert ("TRANSFER_PRIVACY_SHIELD_INVALID" in codes) == flagged, as_of
    assert _hubspot_transfer(_qualer(gql, token, "2021-06-01T00:00:00Z"))["sccModule"] == 2


def test_the_breach_runs_its_72_hour_clock_and_closes(
    demo: tuple[GraphQLClient, dict[str, str], dict[str, str]],
) -> None:
    gql, secrets, _ = demo
    token = secrets["qualer"]
    assert _qualer(gql, token, "2022-03-14T08:59:00Z")["breaches"]["edges"] == []
    [reported] = _qualer(gql, token, "2022-03-15T00:00:00Z")["breaches"]["edges"]
    assert reported["node"]["status"] == "CONTAINED"
    assert reported["node"]["notificationDeadline"].startswith("2022-03-17T08:10:00")
    assert reported["node"]["overdue"] is False
    assert reported["node"]["authorityNotifications"] == []
    [notified] = _qualer(gql, token, "2022-03-20T00:00:00Z")["breaches"]["edges"]
    assert [n["phase"] for n in notified["node"]["authorityNotifications"]] == ["INITIAL"]
    assert notified["node"]["overdue"] is False
    [closed] = _qualer(gql, token, None)["breaches"]["edges"]
    assert closed["node"]["status"] == "CLOSED"


def test_processors_are_added_signed_certified_and_retired_over_the_years(
    demo: tuple[GraphQLClient, dict[str, str], dict[str, str]],
) -> None:
    gql, secrets, _ = demo
    token = secrets["qualer"]

    def vendors(as_of: str | None) -> dict[str, dict[str, Any]]:
        org = _qualer(gql, token, as_of)
        return {e["node"]["name"]: e["node"] for e in org["processors"]["edges"]}

    in_2019 = vendors("2019-06-01T00:00:00Z")
    assert set(in_2019) == {"Freshdesk", "HubSpot", "Salesforce"}
    assert in_2019["HubSpot"]["dpaSignedOn"] == "2019-03-28"
    assert not any(v["dpf"] for v in in_2019.values())  # no DPF before 2023
    in_2023 = vendors("2023-08-01T00:00:00Z")
    assert len(in_2023) == 7
    assert in_2023["Dropbox"]["status"] == "ACTIVE"
    assert all(v["dpf"] for v in in_2023.values())
    assert vendors(None)["Dropbox"]["status"] == "RETIRED"


@pytest.mark.parametrize(
    ("slug", "before", "after", "effective"),
    [
        ("qwasi", "2018-05-24T00:00:00Z", "2018-06-01T00:00:00Z", "2018-05-25"),
        ("qualer", "2019-03-03T00:00:00Z", "2020-02-01T00:00:00Z", "2020-01-23"),
        ("webengage", "2019-10-01T00:00:00Z", "2019-10-03T00:00:00Z", "2018-05-23"),
        ("qiscus", "2021-02-28T00:00:00Z", "2021-03-02T00:00:00Z", "2021-03-01"),
        ("qwiqi", "2024-11-10T00:00:00Z", "2024-11-12T00:00:00Z", "2024-11-11"),
    ],
)
def test_organisations_and_their_notices_appear_at_their_dates(
    demo: tuple[GraphQLClient, dict[str, str], dict[str, str]],
    slug: str,
    before: str,
    after: str,
    effective: str,
) -> None:
    gql, secrets, _ = demo
    token = secrets[slug]
    missing = gql(EXISTS, {"slug": slug, "asOf": before}, token, expect_errors=True)
    assert [e["extensions"]["code"] for e in missing["errors"]] == ["NOT_FOUND"]
    there = gql(EXISTS, {"slug": slug, "asOf": after}, token)["data"]["organization"]
    assert [e["node"]["effectiveDate"] for e in there["privacyPolicies"]["edges"]] == [effective]


def test_ledger_entries_carry_the_instants_of_the_history_in_order(
    rt: Runtime,
    demo: tuple[GraphQLClient, dict[str, str], dict[str, str]],
) -> None:
    _, _, ids = demo
    for slug in DEMO_SLUGS:
        with rt.db.read() as conn:
            rows = conn.execute(
                select(LedgerEntry.ts, LedgerEntry.canonical)
                .where(LedgerEntry.org_id == ids[slug])
                .order_by(LedgerEntry.seq)
            ).all()
        stamps = [ts for ts, _ in rows]
        assert stamps == sorted(stamps), slug
        stamps = stamps[:-1]  # the last is the test's token, issued now
        # every event of the file is one entry, at the instant the file gives
        wanted = sorted(e.at for e in history(demo_data(slug), OrganizationLoader(rt)))
        assert stamps == wanted, slug
        first = json.loads(rows[0][1])
        assert first["op"] == "createOrganization"
        assert first["ts"] == instant(demo_data(slug)["organization"]["since"])


def test_the_dashboard_as_of_a_day_shows_the_ledger_head_its_records_come_from(
    rt: Runtime,
    demo: tuple[GraphQLClient, dict[str, str], dict[str, str]],
) -> None:
    gql, secrets, ids = demo
    at = "2022-03-14T10:00:00Z"  # reported, not yet contained
    body = gql.operation("DashboardOverview", {"slug": "qualer", "asOf": at}, secrets["qualer"])
    org = body["data"]["organization"]
    [breach] = org["breaches"]["edges"]  # OPEN that morning, closed today
    assert breach["node"]["overdue"] is False
    with rt.db.read() as conn:
        written_by_then = conn.execute(
            select(LedgerEntry.seq).where(
                LedgerEntry.org_id == ids["qualer"], LedgerEntry.ts <= instant(at)
            )
        ).all()
    ledger = org["ledger"]
    assert ledger["size"] == len(written_by_then)
    assert ledger["checkpoint"].split("\n")[1] == str(ledger["size"])
    today = gql.operation("DashboardOverview", {"slug": "qualer"}, secrets["qualer"])
    assert today["data"]["organization"]["ledger"]["size"] > ledger["size"]
