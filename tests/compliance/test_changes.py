"""`Organization.changes(from:, to:)`: every change between two instants, by record, with a
field-level diff, matching the signed ledger entries of that range one for one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tests.api.conftest import GraphQLClient, error_codes
from tests.compliance.conftest import clean_activity
from tests.conftest import Org

CHANGES = """query($slug: String!, $from: DateTime!, $to: DateTime!, $type: String) {
  organization(slug: $slug) {
    changes(from: $from, to: $to, entityType: $type) {
      entityType entityId name before after
      fields { field before after }
      entries { seq ts op actorRole leafHash fields { field before after } }
    }
  }
}"""
UPDATE_PROCESSOR = """mutation($i: UpdateProcessorInput!) {
  updateProcessor(input: $i) { processor { id } } }"""
ENTRIES = """query($slug: String!) { organization(slug: $slug) { ledger {
  entries(first: 500) { edges { node { seq ts op entityType entityId leafHash } } } } } }"""
PROOF = """query($slug: String!, $seq: Int!, $size: Int!) { organization(slug: $slug) { ledger {
  inclusionProof(seq: $seq, treeSize: $size) { leafHash } } } }"""


def _instant() -> str:
    time.sleep(0.002)
    moment = datetime.now(UTC).isoformat()
    time.sleep(0.002)
    return moment


def _mutate(gql: GraphQLClient, token: str, name: str, data: dict[str, Any]) -> Any:
    field = name[0].lower() + name[1:]
    kind = {"createProcessingActivity": "CreateProcessingActivityInput"}.get(
        field, name + "Input")
    body = gql(f"mutation($i: {kind}!) {{ {field}(input: $i) {{ receipt {{ seq }} }} }}",
               {"i": data}, token)
    return body["data"][field]


def test_changes_between_two_instants_are_the_ledger_entries_of_that_range(
    gql: GraphQLClient, org: Org
) -> None:
    token = org.tokens["DPO"]
    vendor = gql.operation("RegisterProcessor", {"input": {
        "name": "Mailer", "country": "US", "dpf": False}}, token)["data"]["registerProcessor"]
    vendor_id = vendor["processor"]["id"]
    activity = gql("""mutation($i: CreateProcessingActivityInput!) { createProcessingActivity(
        input: $i) { processingActivity { id } } }""", {"i": clean_activity(name="Newsletter")},
        token)["data"]["createProcessingActivity"]["processingActivity"]["id"]
    start = _instant()

    gql.operation("RecordTransfer", {"input": {
        "activityId": activity, "recipientProcessorId": vendor_id, "fromCountry": "DE",
        "toCountry": "US", "mechanism": "SCC", "sccModule": 2}}, token)
    gql(UPDATE_PROCESSOR,
        {"i": {"id": vendor_id, "dpf": True, "dpaSignedOn": "2026-02-01"}}, token)
    gql("""mutation($i: UpdateProcessingActivityInput!) { updateProcessingActivity(input: $i) {
        processingActivity { id } } }""",
        {"i": {"id": activity, "retention": {"period": "P1Y", "trigger": "after unsubscribe"}}},
        token)
    gql(UPDATE_PROCESSOR,
        {"i": {"id": vendor_id, "certifications": ["ISO 27001"]}}, token)
    end = _instant()
    gql(UPDATE_PROCESSOR,
        {"i": {"id": vendor_id, "name": "Mailer Inc."}}, token)  # after the range

    auditor = org.tokens["AUDITOR"]
    report = gql(CHANGES, {"slug": org.slug, "from": start, "to": end}, auditor)
    records = report["data"]["organization"]["changes"]
    ledger = [e["node"] for e in gql(ENTRIES, {"slug": org.slug}, auditor)["data"][
        "organization"]["ledger"]["entries"]["edges"]]
    in_range = [e for e in ledger
                if datetime.fromisoformat(start) < datetime.fromisoformat(e["ts"])
                <= datetime.fromisoformat(end)]
    assert len(in_range) == 4
    flat = [(e["seq"], e["ts"], e["op"], r["entityType"], r["entityId"], e["leafHash"])
            for r in records for e in r["entries"]]
    assert sorted(flat) == [(e["seq"], e["ts"], e["op"], e["entityType"], e["entityId"],
                             e["leafHash"]) for e in in_range]

    by_type = {r["entityType"]: r for r in records}
    assert [r["entityType"] for r in records] == ["Transfer", "Processor", "ProcessingActivity"]
    # "when did we start sending data to the US?": the transfer's creation, with its seq
    transfer = by_type["Transfer"]
    assert transfer["before"] is None
    assert transfer["after"]["toCountry"] == "US"
    assert transfer["name"] == "DE → US: Mailer"
    (created,) = transfer["entries"]
    assert created["op"] == "recordTransfer"
    assert {"field": "toCountry", "before": None, "after": "US"} in created["fields"]
    assert not any(f["field"] == "tia" for f in created["fields"])  # empty on both sides
    # the processor changed twice; its net diff spans both entries
    processor = by_type["Processor"]
    assert [len(e["fields"]) for e in processor["entries"]] == [2, 1]
    assert processor["fields"] == [  # in the order of the signed (RFC 8785) JSON
        {"field": "certifications", "before": [], "after": ["ISO 27001"]},
        {"field": "dpaSignedOn", "before": None, "after": "2026-02-01"},
        {"field": "dpf", "before": False, "after": True},
    ]
    assert processor["after"]["name"] == "Mailer"  # the rename came after `to`
    # nested objects by dotted path
    assert by_type["ProcessingActivity"]["fields"] == [
        {"field": "retention.period", "before": "P6Y", "after": "P1Y"},
        {"field": "retention.trigger", "before": "after employment ends",
         "after": "after unsubscribe"},
    ]
    # every change can be proven against the tree of that moment
    seq = created["seq"]
    proof = gql(PROOF, {"slug": org.slug, "seq": seq, "size": seq + 1}, auditor)
    assert proof["data"]["organization"]["ledger"]["inclusionProof"]["leafHash"] == created[
        "leafHash"]

    only = gql(CHANGES, {"slug": org.slug, "from": start, "to": end, "type": "Transfer"},
               auditor)["data"]["organization"]["changes"]
    assert [r["entityType"] for r in only] == ["Transfer"]


def test_changes_to_tokens_and_breaches_are_shown_only_to_roles_that_may_read_them(
    gql: GraphQLClient, org: Org
) -> None:
    start = datetime(2000, 1, 1, tzinfo=UTC).isoformat()
    gql("""mutation($i: ReportBreachInput!) { reportBreach(input: $i) { breach { id } } }""",
        {"i": {"title": "Lost phone", "discoveredAt": "2026-01-01T00:00:00Z"}},
        org.tokens["DPO"])
    end = _instant()
    seen = {
        role: {r["entityType"] for r in gql(CHANGES, {"slug": org.slug, "from": start,
                                                      "to": end}, org.tokens[role])[
            "data"]["organization"]["changes"]}
        for role in ("VIEWER", "AUDITOR", "DPO")
    }
    assert seen["VIEWER"] == {"Organization"}
    assert seen["AUDITOR"] == {"Organization"}
    assert seen["DPO"] == {"Organization", "ApiToken", "BreachIncident"}


def test_an_empty_or_backward_range(gql: GraphQLClient, org: Org) -> None:
    token = org.tokens["VIEWER"]
    now = _instant()
    assert gql(CHANGES, {"slug": org.slug, "from": now, "to": now}, token)["data"][
        "organization"]["changes"] == []
    body = gql(CHANGES, {"slug": org.slug, "from": now, "to": "2020-01-01T00:00:00Z"}, token,
               expect_errors=True)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["fields"][0]["field"] == "to"
