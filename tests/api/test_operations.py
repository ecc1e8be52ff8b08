"""The operations dashboards and tools send (graphql/operations/), run on the demo data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from ropa.demo.loader import load_demo
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.reads import open_view
from ropa.services.runtime import Runtime
from ropa.services.tokens import create_token
from tests.api.conftest import GraphQLClient, error_codes
from tests.conftest import Org


@pytest.fixture
def demo(rt: Runtime) -> dict[str, str]:
    """The demo organisations, and a DPO token for each."""
    load_demo(rt)
    out = {}
    for slug in ("qualer", "qwiqi", "webengage", "qiscus", "qwasi"):
        view, _ = open_view(rt, SYSTEM_PRINCIPAL, slug)
        out[slug] = create_token(rt, SYSTEM_PRINCIPAL, view.org_id, "DPO", "test").secret
    return out


def test_dashboard_overview_shows_activities_with_bases_processors_and_transfers(
    gql: GraphQLClient, demo: dict[str, str]
) -> None:
    body = gql.operation("DashboardOverview", {"slug": "qualer"}, demo["qualer"])
    org = body["data"]["organization"]
    assert org["name"] == "Qualer, Inc."
    nodes = [e["node"] for e in org["processingActivities"]["edges"]]
    assert org["processingActivities"]["totalCount"] == len(nodes) > 0
    assert any(n["legalBases"] for n in nodes)
    vendors = {e["processor"]["name"] for n in nodes for e in n["engagements"]}
    assert {"HubSpot", "Salesforce", "Freshdesk"} <= vendors
    destinations = {t["toCountry"] for n in nodes for t in n["transfers"]}
    assert "US" in destinations
    assert org["ledger"]["size"] > len(nodes)
    assert org["findings"], "the demo data leaves gaps the findings must show"


def test_every_demo_organisation_answers_the_dashboard(
    gql: GraphQLClient, demo: dict[str, str]
) -> None:
    for slug, token in demo.items():
        org = gql.operation("DashboardOverview", {"slug": slug}, token)["data"]["organization"]
        assert org["processingActivities"]["totalCount"] > 0, slug
    qwiqi = gql.operation("DashboardOverview", {"slug": "qwiqi"}, demo["qwiqi"])
    nodes = [e["node"] for e in qwiqi["data"]["organization"]["processingActivities"]["edges"]]
    assert {"SG", "HK"} <= {t["toCountry"] for n in nodes for t in n["transfers"]}


def test_activity_detail_and_its_history(gql: GraphQLClient, demo: dict[str, str]) -> None:
    token = demo["qualer"]
    dash = gql.operation("DashboardOverview", {"slug": "qualer"}, token)
    activity_id = dash["data"]["organization"]["processingActivities"]["edges"][0]["node"]["id"]
    gql(
        'mutation($id: ID!) { updateProcessingActivity(input: {id: $id, owner: "Head of Sales"}) '
        "{ receipt { seq } } }",
        {"id": activity_id},
        token,
    )
    body = gql.operation("ActivityDetail", {"id": activity_id}, token)
    assert body["data"]["node"]["owner"] == "Head of Sales"
    history = body["data"]["history"]
    assert [h["op"] for h in history] == ["createProcessingActivity", "updateProcessingActivity"]
    assert history[1]["before"] == history[0]["after"]
    assert history[1]["after"]["owner"] == "Head of Sales"
    assert history[1]["actorRole"] == "DPO"


def test_tool_operations_register_engage_record_and_report(gql: GraphQLClient, org: Org) -> None:
    editor, dpo = org.tokens["EDITOR"], org.tokens["DPO"]
    proc = gql.operation(
        "RegisterProcessor",
        {
            "input": {
                "name": "Salesforce",
                "legalName": "Salesforce, Inc.",
                "country": "US",
                "dpf": True,
                "services": ["CRM"],
                "externalRef": "sf-1",
            }
        },
        editor,
    )["data"]["registerProcessor"]
    assert proc["receipt"]["seq"] >= 0 and len(proc["receipt"]["leafHash"]) == 64
    activity = gql(
        'mutation { createProcessingActivity(input: {name: "CRM", purposes: ["sales"], '
        'dataCategories: ["user.contact.email"], legalBases: [{article: ART6_1_B, '
        'purpose: "sales"}]}) { processingActivity { id } } }',
        token=editor,
    )["data"]["createProcessingActivity"]["processingActivity"]
    engaged = gql.operation(
        "EngageProcessor",
        {
            "input": {
                "activityId": activity["id"],
                "processorId": proc["processor"]["id"],
                "purpose": "CRM hosting",
                "dataCategories": ["user.contact.email"],
                "locations": ["US"],
            }
        },
        editor,
    )["data"]["engageProcessor"]
    assert engaged["engagement"]["processor"]["name"] == "Salesforce"
    transfer = gql.operation(
        "RecordTransfer",
        {
            "input": {
                "activityId": activity["id"],
                "recipientProcessorId": proc["processor"]["id"],
                "fromCountry": "DE",
                "toCountry": "US",
                "mechanism": "SCC",
                "sccModule": 2,
                "tia": {"date": "2026-01-10", "reference": "TIA-7"},
            }
        },
        editor,
    )["data"]["recordTransfer"]
    assert transfer["transfer"]["recipientProcessor"]["name"] == "Salesforce"
    breach = gql.operation(
        "ReportBreach",
        {
            "input": {
                "title": "Lost laptop",
                "discoveredAt": "2026-11-20T08:00:00Z",
                "risk": "HIGH_RISK",
                "affectedActivityIds": [activity["id"]],
            }
        },
        dpo,
    )["data"]["reportBreach"]
    assert breach["breach"]["notificationDeadline"].startswith("2026-11-23T08:00:00")
    receipts = [
        proc["receipt"]["seq"],
        engaged["receipt"]["seq"],
        transfer["receipt"]["seq"],
        breach["receipt"]["seq"],
    ]
    assert receipts == sorted(receipts)


def test_bad_input_names_every_offending_field(gql: GraphQLClient, org: Org) -> None:
    body = gql(
        'mutation { createProcessingActivity(input: {name: "X", '
        'dataCategories: ["user.contact.email", "user.nonsense"], '
        'legalBases: [{article: ART6_1_F}], retention: {period: "two years"}}) '
        "{ processingActivity { id } } }",
        token=org.tokens["EDITOR"],
        expect_errors=True,
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    fields = {f["field"] for f in body["errors"][0]["extensions"]["fields"]}
    assert {"dataCategories.1", "legalBases.0.purpose", "retention.period"} <= fields
    body = gql(
        'mutation { reportBreach(input: {title: "t", occurredAt: "2026-11-20T10:00:00Z", '
        'discoveredAt: "2026-11-19T10:00:00Z", approxRecords: -3}) { breach { id } } }',
        token=org.tokens["DPO"],
        expect_errors=True,
    )
    fields = {f["field"] for f in body["errors"][0]["extensions"]["fields"]}
    assert {"discoveredAt", "approxRecords"} <= fields


def test_scc_without_module_and_unknown_country_are_refused(gql: GraphQLClient, org: Org) -> None:
    activity = gql(
        'mutation { createProcessingActivity(input: {name: "Hosting"}) '
        "{ processingActivity { id } } }",
        token=org.tokens["EDITOR"],
    )["data"]["createProcessingActivity"]["processingActivity"]
    body = gql.operation(
        "RecordTransfer",
        {
            "input": {
                "activityId": activity["id"],
                "recipientName": "Acme Ltd",
                "fromCountry": "DE",
                "toCountry": "ZZ",
                "mechanism": "SCC",
            }
        },
        org.tokens["EDITOR"],
        expect_errors=True,
    )
    fields = {f["field"] for f in body["errors"][0]["extensions"]["fields"]}
    assert {"toCountry", "sccModule"} <= fields


def test_an_unknown_token_is_unauthenticated(gql: GraphQLClient, org: Org) -> None:
    body = gql('{ organization(slug: "acme") { name } }', token="ropa_nope", expect_errors=True)
    assert error_codes(body) == ["UNAUTHENTICATED"]


def test_internal_errors_are_masked(gql: GraphQLClient, org: Org, rt: Runtime) -> None:
    # an operator's mistake the code does not expect: a table gone missing
    with rt.db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE processor RENAME TO processor_gone"))
    body = gql(
        '{ organization(slug: "acme") { name processors { totalCount } } }',
        token=org.tokens["VIEWER"],
        expect_errors=True,
    )
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    message = body["errors"][0]["message"]
    assert message == "Internal server error"
    assert set(body["errors"][0]["extensions"]) == {"code"}  # no exception, no SQL


@contextmanager
def _count_statements(rt: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)


def _activities(gql: GraphQLClient, token: str, n: int) -> None:
    proc = gql.operation("RegisterProcessor", {"input": {"name": f"P{n}", "country": "US"}}, token)[
        "data"
    ]["registerProcessor"]["processor"]["id"]
    for i in range(n):
        act = gql(
            "mutation($n: String!) { createProcessingActivity(input: {name: $n, "
            'legalBases: [{article: ART6_1_B, purpose: "p"}]}) { processingActivity { id } } }',
            {"n": f"A{n}-{i}"},
            token,
        )["data"]["createProcessingActivity"]["processingActivity"]["id"]
        gql.operation("EngageProcessor", {"input": {"activityId": act, "processorId": proc}}, token)
        gql.operation(
            "RecordTransfer",
            {
                "input": {
                    "activityId": act,
                    "recipientProcessorId": proc,
                    "fromCountry": "DE",
                    "toCountry": "US",
                    "mechanism": "DPF",
                }
            },
            token,
        )


def test_nested_dashboard_runs_a_number_of_statements_that_does_not_grow_with_rows(
    gql: GraphQLClient, rt: Runtime
) -> None:
    from tests.conftest import make_org

    counts = []
    for n in (2, 10, 30):
        org = make_org(rt)
        _activities(gql, org.tokens["EDITOR"], n)
        with _count_statements(rt) as seen:
            body = gql.operation("DashboardOverview", {"slug": org.slug}, org.tokens["DPO"])
        nodes = body["data"]["organization"]["processingActivities"]["edges"]
        assert len(nodes) == n
        assert all(e["node"]["engagements"] and e["node"]["transfers"] for e in nodes)
        counts.append(len(seen))
    # One batch per relation; a batch may be split in two when its loads arrive on
    # different turns of the event loop, so allow that jitter, but never growth with rows.
    assert max(counts) - min(counts) <= 2, f"statements grew with rows: {counts}"
    assert max(counts) <= 60, counts  # SQLite counts its BEGIN statements too


def test_writes_without_a_signing_key_say_so_without_internals(
    gql: GraphQLClient, org: Org, rt: Runtime
) -> None:
    from pathlib import Path

    from ropa.config import Settings

    rt.settings = Settings(database_url=rt.settings.database_url, key_file=Path("/nonexistent/k"))
    rt._key = None  # as a deployment started without its key
    body = gql.operation(
        "RegisterProcessor",
        {"input": {"name": "AWS", "country": "US"}},
        org.tokens["EDITOR"],
        expect_errors=True,
    )
    assert error_codes(body) == ["SERVICE_UNAVAILABLE"]
    assert "nonexistent" not in body["errors"][0]["message"]
    reads = gql('{ organization(slug: "acme") { name } }', token=org.tokens["VIEWER"])
    assert reads["data"]["organization"]["name"] == "Acme"
