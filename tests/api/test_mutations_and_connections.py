"""Every mutation of DESIGN.md over GraphQL, Relay nodes, and the dashboard's filters."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import GraphQLClient, error_codes
from tests.conftest import Org

RECEIPT = "receipt { seq leafHash signature keyId checkpoint }"


def _m(gql: GraphQLClient, token: str, name: str, inp: dict[str, Any], select: str) -> Any:
    body = gql(
        f"mutation($i: {name[0].upper() + name[1:]}Input!) {{ {name}(input: $i) "
        f"{{ {select} {RECEIPT} }} }}",
        {"i": inp},
        token,
    )
    return body["data"][name]


@pytest.fixture
def records(gql: GraphQLClient, org: Org) -> dict[str, str]:
    t = org.tokens["EDITOR"]
    aws = _m(
        gql,
        t,
        "registerProcessor",
        {"name": "AWS", "country": "US", "dpf": True},
        "processor { id }",
    )["processor"]["id"]
    gcp = _m(
        gql, t, "registerProcessor", {"name": "Google Cloud", "country": "US"}, "processor { id }"
    )["processor"]["id"]
    crm = _m(
        gql,
        t,
        "createProcessingActivity",
        {
            "name": "Customer support",
            "dataCategories": ["user.contact.email"],
            "role": "CONTROLLER",
            "status": "ACTIVE",
        },
        "processingActivity { id }",
    )["processingActivity"]["id"]
    hr = _m(
        gql,
        t,
        "createProcessingActivity",
        {
            "name": "Payroll",
            "dataCategories": ["user.financial"],
            "status": "DRAFT",
            "role": "PROCESSOR",
            "controller": {"name": "Client GmbH", "country": "DE"},
        },
        "processingActivity { id }",
    )["processingActivity"]["id"]
    eng = _m(
        gql, t, "engageProcessor", {"activityId": crm, "processorId": aws}, "engagement { id }"
    )["engagement"]["id"]
    xfer = _m(
        gql,
        t,
        "recordTransfer",
        {
            "activityId": crm,
            "recipientProcessorId": aws,
            "fromCountry": "DE",
            "toCountry": "US",
            "mechanism": "DPF",
        },
        "transfer { id }",
    )["transfer"]["id"]
    _m(
        gql,
        t,
        "recordTransfer",
        {
            "activityId": hr,
            "recipientName": "Payroll Bureau",
            "fromCountry": "DE",
            "toCountry": "IN",
            "mechanism": "SCC",
            "sccModule": 1,
        },
        "transfer { id }",
    )
    return {"aws": aws, "gcp": gcp, "crm": crm, "hr": hr, "eng": eng, "xfer": xfer}


def test_update_retire_disengage_and_remove(
    gql: GraphQLClient, org: Org, records: dict[str, str]
) -> None:
    t = org.tokens["EDITOR"]
    up = _m(
        gql,
        t,
        "updateProcessor",
        {"id": records["aws"], "dpaSignedOn": "2026-03-01", "dpaReference": "DPA-1"},
        "processor { dpaSignedOn }",
    )
    assert up["processor"]["dpaSignedOn"] == "2026-03-01" and up["receipt"]["seq"] > 0
    retired = _m(gql, t, "retireProcessor", {"id": records["gcp"]}, "processor { status }")
    assert retired["processor"]["status"] == "RETIRED"
    act = _m(
        gql, t, "retireProcessingActivity", {"id": records["hr"]}, "processingActivity { status }"
    )
    assert act["processingActivity"]["status"] == "RETIRED"
    moved = _m(
        gql,
        t,
        "updateTransfer",
        {"id": records["xfer"], "mechanism": "SCC", "sccModule": 2},
        "transfer { mechanism sccModule }",
    )
    assert moved["transfer"] == {"mechanism": "SCC", "sccModule": 2}
    gone = _m(gql, t, "disengageProcessor", {"id": records["eng"]}, "engagement { id }")
    assert gone["receipt"]["seq"] > moved["receipt"]["seq"]
    _m(gql, t, "removeTransfer", {"id": records["xfer"]}, "transfer { id }")
    body = gql("query($id: ID!) { node(id: $id) { id } }", {"id": records["xfer"]}, t)
    assert body["data"]["node"] is None
    history = gql("query($id: ID!) { history(id: $id) { op after } }", {"id": records["xfer"]}, t)[
        "data"
    ]["history"]
    assert [h["op"] for h in history] == ["recordTransfer", "updateTransfer", "removeTransfer"]
    assert history[-1]["after"] is None


def test_publish_privacy_policy_keeps_every_version(gql: GraphQLClient, org: Org) -> None:
    t = org.tokens["EDITOR"]
    first = _m(
        gql,
        t,
        "publishPrivacyPolicy",
        {
            "version": "1.0",
            "effectiveDate": "2024-01-01",
            "url": "https://acme.example/privacy",
            "text": "We process...",
        },
        "privacyPolicy { version sha256 }",
    )
    assert len(first["privacyPolicy"]["sha256"]) == 64
    _m(
        gql,
        t,
        "publishPrivacyPolicy",
        {"version": "2.0", "effectiveDate": "2025-06-01", "url": "https://acme.example/privacy"},
        "privacyPolicy { version }",
    )
    again = gql(
        'mutation { publishPrivacyPolicy(input: {version: "1.0", '
        'effectiveDate: "2024-01-01", url: "https://acme.example/p"}) { receipt { seq } } }',
        token=t,
        expect_errors=True,
    )
    assert error_codes(again) == ["CONFLICT"]
    versions = gql(
        '{ organization(slug: "acme") { privacyPolicies { edges { node { version } } } } }', token=t
    )["data"]["organization"]["privacyPolicies"]["edges"]
    assert [v["node"]["version"] for v in versions] == ["2.0", "1.0"]


def test_update_organization_records_the_dpo(gql: GraphQLClient, org: Org) -> None:
    out = _m(
        gql,
        org.tokens["DPO"],
        "updateOrganization",
        {"dpo": {"name": "Ana Müller", "email": "dpo@acme.example"}},
        "organization { dpo { name } }",
    )
    assert out["organization"]["dpo"]["name"] == "Ana Müller"


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("{status: ACTIVE}", {"Customer support"}),
        ("{role: PROCESSOR}", {"Payroll"}),
        ('{search: "pay"}', {"Payroll"}),
        ('{dataCategory: "user.contact"}', {"Customer support"}),
        ('{dataCategory: "user.financial"}', {"Payroll"}),
    ],
)
def test_activity_filters(
    gql: GraphQLClient, org: Org, records: dict[str, str], flt: str, expected: set[str]
) -> None:
    body = gql(
        f'{{ organization(slug: "acme") {{ processingActivities(filter: {flt}) '
        "{ totalCount edges { node { name } } } } }",
        token=org.tokens["VIEWER"],
    )
    conn = body["data"]["organization"]["processingActivities"]
    assert {e["node"]["name"] for e in conn["edges"]} == expected
    assert conn["totalCount"] == len(expected)


def test_filters_by_processor_destination_and_mechanism(
    gql: GraphQLClient, org: Org, records: dict[str, str]
) -> None:
    t = org.tokens["VIEWER"]
    by_proc = gql(
        'query($p: ID!) { organization(slug: "acme") { processingActivities('
        "filter: {processorId: $p}) { edges { node { name } } } } }",
        {"p": records["aws"]},
        t,
    )["data"]["organization"]["processingActivities"]
    assert [e["node"]["name"] for e in by_proc["edges"]] == ["Customer support"]
    xfers = gql(
        '{ organization(slug: "acme") { transfers(filter: {toCountry: "IN", '
        "mechanism: SCC}) { edges { node { toCountry sccModule recipientName } } } } }",
        token=t,
    )["data"]["organization"]["transfers"]["edges"]
    assert [x["node"]["recipientName"] for x in xfers] == ["Payroll Bureau"]


def test_cursor_pagination_walks_every_record_once(gql: GraphQLClient, org: Org) -> None:
    t = org.tokens["EDITOR"]
    for i in range(7):
        _m(
            gql,
            t,
            "registerProcessor",
            {"name": f"Vendor {i:02}", "country": "FR"},
            "processor { id }",
        )
    seen, after = [], None
    while True:
        page = gql(
            'query($a: String) { organization(slug: "acme") { processors(first: 3, '
            "after: $a) { edges { cursor node { name } } pageInfo { hasNextPage "
            "endCursor } } } }",
            {"a": after},
            t,
        )["data"]["organization"]["processors"]
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"Vendor {i:02}" for i in range(7)]


def test_node_resolves_every_record_type(
    gql: GraphQLClient, org: Org, records: dict[str, str]
) -> None:
    t = org.tokens["VIEWER"]
    for key, typename in (
        ("aws", "Processor"),
        ("crm", "ProcessingActivity"),
        ("eng", "ProcessorEngagement"),
        ("xfer", "Transfer"),
    ):
        body = gql("query($id: ID!) { node(id: $id) { __typename id } }", {"id": records[key]}, t)
        assert body["data"]["node"] == {"__typename": typename, "id": records[key]}
    org_node = gql('{ organization(slug: "acme") { id } }', token=t)["data"]["organization"]["id"]
    body = gql(
        "query($id: ID!) { node(id: $id) { ... on Organization { slug } } }", {"id": org_node}, t
    )
    assert body["data"]["node"] == {"slug": "acme"}
    bad = gql('{ node(id: "not-an-id") { id } }', token=t, expect_errors=True)
    assert error_codes(bad) == ["BAD_USER_INPUT"]


def test_public_verifier_keys_need_no_token(gql: GraphQLClient, org: Org) -> None:
    keys = gql.http.get("/ledger/keys").json()["keys"]
    assert len(keys) == 1 and keys[0]["verifierKey"].startswith("ropa.test-20261123+")
    assert gql.http.get("/healthz").status_code == 200
