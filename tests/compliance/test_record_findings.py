"""Findings on each record (`ProcessingActivity.findings`, `Processor.findings`, ...), through
GraphQL: the demo organisations show what their policies leave out, a record made to break a
rule shows it, and `asOf` answers with the findings of that instant.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from ropa.services import findings as findings_service
from ropa.services.runtime import Runtime
from tests.api.conftest import GraphQLClient
from tests.compliance.conftest import Demo, clean_activity
from tests.conftest import Org

RECORDS = """
query Records($slug: String!, $asOf: DateTime) {
  organization(slug: $slug, asOf: $asOf) {
    id
    findings { code entityType entityId }
    processingActivities(first: 20) {
      edges { node { id name findings { code entityId }
        transfers { id toCountry findings { code entityId } } } }
    }
    processors(first: 20) { edges { node { id name findings { code entityId } } } }
    transfers(first: 20) { edges { node { id toCountry findings { code entityId } } } }
    breaches(first: 20) { edges { node { id title findings { code entityId } } } }
  }
}
"""


def _records(gql: GraphQLClient, slug: str, token: str, as_of: str | None = None) -> Any:
    return gql(RECORDS, {"slug": slug, "asOf": as_of}, token)["data"]["organization"]


def _codes_by_name(org: Any, connection: str, label: str = "name") -> dict[str, set[str]]:
    return {
        e["node"][label]: {f["code"] for f in e["node"]["findings"]}
        for e in org[connection]["edges"]
    }


def _assert_record_findings_are_the_organisations(org: Any) -> None:
    by_entity: dict[str, list[str]] = defaultdict(list)
    for f in org["findings"]:
        by_entity[f["entityId"]].append(f["code"])
    nodes = [e["node"] for c in ("processingActivities", "processors", "transfers", "breaches")
             for e in org[c]["edges"]]
    nodes += [t for e in org["processingActivities"]["edges"] for t in e["node"]["transfers"]]
    for node in nodes:
        assert [f["code"] for f in node["findings"]] == by_entity.get(node["id"], [])
        assert all(f["entityId"] == node["id"] for f in node["findings"])


def test_demo_records_show_the_findings_their_policies_deserve(
    gql: GraphQLClient, demo: Demo
) -> None:
    qualer = _records(gql, "qualer", demo.tokens["qualer"])
    _assert_record_findings_are_the_organisations(qualer)
    activities = _codes_by_name(qualer, "processingActivities")
    # "normally" legitimate interests, never with an assessment
    assert "LEGITIMATE_INTEREST_NO_ASSESSMENT" in activities["Marketing, events and webinars"]
    assert "LEGITIMATE_INTEREST_NO_ASSESSMENT" in activities[
        "Provision of Qualer products and services to clients"]
    integrations = activities["Integration of client accounts with external systems"]
    assert "NO_RETENTION" in integrations
    assert "LEGITIMATE_INTEREST_NO_ASSESSMENT" not in integrations  # consent, with its mechanism
    # vendors named in the policy: no DPA recorded, except the two the history signs
    processors = _codes_by_name(qualer, "processors")
    for vendor in ("Freshdesk", "Salesforce", "Google Drive", "Amazon Web Services (AWS)"):
        assert "PROCESSOR_NO_DPA" in processors[vendor]
    assert processors["HubSpot"] == set()  # DPA 2019-03-28
    assert processors["Microsoft SharePoint and OneDrive"] == set()  # DPA 2020-02-03
    assert processors["Dropbox"] == set()  # retired 2024-06-03
    # "servers in the USA", no mechanism: five DE->US transfers, each flagged; the HubSpot
    # transfer moved from the Privacy Shield to SCC to the DPF, and is not
    transfers = [e["node"] for e in qualer["transfers"]["edges"]]
    assert [t["toCountry"] for t in transfers] == ["US"] * 6
    flagged = [t for t in transfers if {f["code"] for f in t["findings"]}]
    assert len(flagged) == 5
    assert all({f["code"] for f in t["findings"]} == {"TRANSFER_NO_MECHANISM"} for t in flagged)
    assert ("ORGANIZATION_NO_DPO", "Organization", qualer["id"]) in {
        (f["code"], f["entityType"], f["entityId"]) for f in qualer["findings"]}

    qwasi = _records(gql, "qwasi", demo.tokens["qwasi"])
    _assert_record_findings_are_the_organisations(qwasi)
    activities = _codes_by_name(qwasi, "processingActivities")
    assert {"ACTIVITY_NO_LEGAL_BASIS", "NO_RETENTION"} <= activities[
        "Visitor enquiries and service management"]
    tracking = activities["Website and service usage tracking"]
    assert {"ACTIVITY_NO_LEGAL_BASIS", "NO_RETENTION", "DPIA_LIKELY_REQUIRED"} <= tracking
    assert "CONSENT_NO_MECHANISM" in activities["Marketing and research to visitors"]
    # as a processor it relies on its customers' bases and retention
    assert activities["Mobile engagement services for customers (AIM and Marketing Center)"] == {
        "REVIEW_OVERDUE"}
    assert qwasi["processors"]["edges"] == []
    assert qwasi["transfers"]["edges"] == []

    qwiqi = _records(gql, "qwiqi", demo.tokens["qwiqi"])
    _assert_record_findings_are_the_organisations(qwiqi)
    transfers = [e["node"] for e in qwiqi["transfers"]["edges"]]
    assert sorted({t["toCountry"] for t in transfers}) == ["HK", "SG"]
    assert len(transfers) == 12
    assert all("TRANSFER_NO_MECHANISM" in {f["code"] for f in t["findings"]} for t in transfers)
    assert "ACTIVITY_NO_LEGAL_BASIS" in _codes_by_name(qwiqi, "processingActivities")[
        "Job applicants, employees and contractors"]

    webengage = _records(gql, "webengage", demo.tokens["webengage"])
    _assert_record_findings_are_the_organisations(webengage)
    assert "ORGANIZATION_NO_DPO" not in {f["code"] for f in webengage["findings"]}  # names one
    assert all("TRANSFER_NO_MECHANISM" in {f["code"] for f in e["node"]["findings"]}
               for e in webengage["transfers"]["edges"])

    qiscus = _records(gql, "qiscus", demo.tokens["qiscus"])
    _assert_record_findings_are_the_organisations(qiscus)
    processors = _codes_by_name(qiscus, "processors")
    assert "PROCESSOR_NO_DPA" in processors["Amazon Web Services (AWS)"]
    assert "ACTIVITY_NO_LEGAL_BASIS" in _codes_by_name(qiscus, "processingActivities")[
        "Marketing e-mails"]


def test_findings_are_computed_once_per_request_and_view(
    gql: GraphQLClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = org.tokens["DPO"]  # the records query reads breaches: the DPO's
    for n in range(4):
        gql(CREATE, {"input": clean_activity(name=f"A{n}", legalBases=[])}, token)
    calls: list[object] = []
    compute = findings_service.findings

    def counting(rt: Runtime, principal: Any, view: Any) -> Any:
        calls.append(view)
        return compute(rt, principal, view)

    monkeypatch.setattr(findings_service, "findings", counting)
    body = gql(RECORDS, {"slug": org.slug}, token)["data"]["organization"]
    assert len(calls) == 1
    assert all({f["code"] for f in e["node"]["findings"]} == {"ACTIVITY_NO_LEGAL_BASIS"}
               for e in body["processingActivities"]["edges"])
    # a second view in the same request (asOf) is its own computation
    gql("""query($s: String!, $t: DateTime) { now: organization(slug: $s) { findings { code } }
          then: organization(slug: $s, asOf: $t) { findings { code } } }""",
        {"s": org.slug, "t": datetime.now(UTC).isoformat()}, token)
    assert len(calls) == 3


CREATE = """mutation($input: CreateProcessingActivityInput!) {
  createProcessingActivity(input: $input) { processingActivity { id findings { code } } } }"""
UPDATE = """mutation($input: UpdateProcessingActivityInput!) {
  updateProcessingActivity(input: $input) { processingActivity { id findings { code } } } }"""
ACTIVITY = """query($id: ID!) {
  node(id: $id) { ... on ProcessingActivity { findings { code } } } }"""


def _codes(items: list[dict[str, str]]) -> set[str]:
    return {f["code"] for f in items}


def test_a_record_made_to_break_a_rule_shows_it_and_asof_keeps_it(
    gql: GraphQLClient, org: Org
) -> None:
    token = org.tokens["DPO"]
    clean = gql(CREATE, {"input": clean_activity()}, token)["data"]["createProcessingActivity"]
    assert clean["processingActivity"]["findings"] == []

    made = gql(CREATE, {"input": clean_activity(
        name="Newsletter", legalBases=[{"article": "ART6_1_F", "purpose": "marketing"}],
        specialCategories=[{"category": "HEALTH"}], retention=None,
    )}, token)["data"]["createProcessingActivity"]["processingActivity"]
    assert _codes(made["findings"]) == {
        "LEGITIMATE_INTEREST_NO_ASSESSMENT", "SPECIAL_CATEGORY_NO_CONDITION", "NO_RETENTION"}
    time.sleep(0.002)
    before_fix = datetime.now(UTC).isoformat()
    time.sleep(0.002)

    fixed = gql(UPDATE, {"input": {
        "id": made["id"],
        "legalBases": [{"article": "ART6_1_F", "purpose": "marketing", "lia": "LIA-7"}],
        "specialCategories": [{"category": "HEALTH", "condition": "ART9_2_A"}],
        "retention": {"period": "P1Y"},
    }}, token)["data"]["updateProcessingActivity"]["processingActivity"]
    assert fixed["findings"] == []
    assert gql(ACTIVITY, {"id": made["id"]}, token)["data"]["node"]["findings"] == []
    then = _records(gql, org.slug, token, before_fix)
    newsletter = _codes_by_name(then, "processingActivities")["Newsletter"]
    assert newsletter == {
        "LEGITIMATE_INTEREST_NO_ASSESSMENT", "SPECIAL_CATEGORY_NO_CONDITION", "NO_RETENTION"}


def test_transfers_processors_and_breaches_carry_their_own_findings(
    gql: GraphQLClient, org: Org
) -> None:
    token = org.tokens["DPO"]
    activity = gql(CREATE, {"input": clean_activity()}, token)["data"][
        "createProcessingActivity"]["processingActivity"]["id"]
    vendor = gql.operation("RegisterProcessor", {"input": {
        "name": "Mailer", "country": "US", "dpf": False}}, token)["data"]["registerProcessor"]
    vendor_id = vendor["processor"]["id"]
    gql.operation("EngageProcessor", {"input": {
        "activityId": activity, "processorId": vendor_id}}, token)
    transfer = gql.operation("RecordTransfer", {"input": {
        "activityId": activity, "recipientProcessorId": vendor_id, "fromCountry": "DE",
        "toCountry": "US"}}, token)["data"]["recordTransfer"]["transfer"]["id"]
    gql("""mutation($i: RecordTransferInput!) { recordTransfer(input: $i) { transfer { id } } }""",
        {"i": {"activityId": activity, "recipientName": "Cloud", "fromCountry": "DE",
               "toCountry": "IN", "mechanism": "SCC", "sccModule": 2}}, token)
    breach = gql.operation("ReportBreach", {"input": {
        "title": "Lost laptop", "discoveredAt": "2026-01-05T09:00:00Z", "risk": "HIGH_RISK",
    }}, token)["data"]["reportBreach"]["breach"]["id"]

    org_view = _records(gql, org.slug, token)
    _assert_record_findings_are_the_organisations(org_view)
    assert _codes_by_name(org_view, "processors") == {"Mailer": {"PROCESSOR_NO_DPA"}}
    transfers = {e["node"]["toCountry"]: _codes(e["node"]["findings"])
                 for e in org_view["transfers"]["edges"]}
    assert transfers == {"US": {"TRANSFER_NO_MECHANISM"}, "IN": {"TRANSFER_SCC_NO_TIA"}}
    breaches = {e["node"]["id"]: _codes(e["node"]["findings"])
                for e in org_view["breaches"]["edges"]}
    assert breaches == {breach: {"BREACH_NOTIFICATION_OVERDUE", "BREACH_SUBJECTS_NOT_INFORMED"}}
    assert transfer in {e["node"]["id"] for e in org_view["transfers"]["edges"]}
