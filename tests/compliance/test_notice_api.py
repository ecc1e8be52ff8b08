"""Privacy notices through GraphQL: published with their text, analysed, signed into the
ledger, compared with the records, and drafted into records by an EDITOR or DPO only.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from ropa.demo.loader import DEMO_SLUGS
from ropa.services.runtime import Runtime
from tests.api.conftest import GraphQLClient, error_codes
from tests.compliance.conftest import Demo
from tests.conftest import Org

PUBLISH = """
mutation Publish($input: PublishPrivacyPolicyInput!) {
  publishPrivacyPolicy(input: $input) {
    privacyPolicy { id version sha256 text textFormat analysis
      thirdParties { name canonical spans { start end text } } disclosedCountries }
    receipt { seq }
  }
}
"""

HISTORY = "query H($id: ID!) { history(id: $id) { op after canonical } }"

FINDINGS = (
    "query F($slug: String!) { organization(slug: $slug) { findings { code entityType entityId "
    "evidence { policyId spans { start end text } } relatedRecordIds ledgerSeqs } } }"
)

TEXTS = {
    "PLAIN": (
        "Privacy notice\n\nWe use HubSpot to send newsletters to your email address. "
        "Your data is stored on servers in the United States. "
        "Questions: privacy@acme.example."
    ),
    "MARKDOWN": (
        "# Privacy notice\n\nWe use **HubSpot** to send newsletters to your *email address*.\n\n"
        "- Your data is stored on servers in the United States.\n\n"
        "Questions: [privacy@acme.example](mailto:privacy@acme.example)."
    ),
    "HTML": (
        "<html><body><h1>Privacy notice</h1><p>We use <b>HubSpot</b> to send newsletters to "
        "your email address.</p><p>Your data is stored on servers in the United States.</p>"
        "<p>Questions: privacy@acme.example.</p></body></html>"
    ),
}


def _publish(gql: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    data = {"version": "v1", "effectiveDate": "2020-01-01", "url": "https://acme.example/p"}
    return gql(PUBLISH, {"input": {**data, **fields}}, token, expect_errors=True)


@pytest.mark.parametrize("fmt", sorted(TEXTS))
def test_a_notice_published_with_its_text_keeps_text_hash_and_analysis_in_the_ledger(
    gql: GraphQLClient, org: Org, fmt: str
) -> None:
    text = TEXTS[fmt]
    body = _publish(gql, org.tokens["DPO"], text=text, textFormat=fmt)
    assert "errors" not in body, body
    policy = body["data"]["publishPrivacyPolicy"]["privacyPolicy"]
    assert policy["sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert (policy["text"], policy["textFormat"]) == (text, fmt)
    (hubspot,) = policy["thirdParties"]
    assert hubspot["canonical"] == "HubSpot, Inc."
    assert all(text[s["start"] : s["end"]] == s["text"] for s in hubspot["spans"])
    assert "US" in policy["disclosedCountries"]

    (entry,) = gql(HISTORY, {"id": policy["id"]}, org.tokens["DPO"])["data"]["history"]
    assert entry["after"]["text"] == text and entry["after"]["textFormat"] == fmt
    assert entry["after"]["analysis"] == policy["analysis"]
    signed = json.loads(entry["canonical"])["after"]
    assert signed["analysis"] == policy["analysis"] and signed["sha256"] == policy["sha256"]


def test_a_given_sha256_must_match_the_text(gql: GraphQLClient, org: Org) -> None:
    text = TEXTS["PLAIN"]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    wrong = _publish(gql, org.tokens["DPO"], text=text, sha256="0" * 64)
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    assert "sha256" in wrong["errors"][0]["message"]
    right = _publish(gql, org.tokens["DPO"], text=text, sha256=digest)
    assert right["data"]["publishPrivacyPolicy"]["privacyPolicy"]["sha256"] == digest


def test_a_text_past_the_limit_is_refused_and_nothing_is_written(
    gql: GraphQLClient, rt: Runtime, org: Org
) -> None:
    from ropa.domain.evidence import MAX_TEXT_BYTES
    from ropa.errors import ValidationError
    from ropa.services import policies

    huge = "é" * (MAX_TEXT_BYTES // 2 + 1)  # fewer characters than bytes
    with pytest.raises(ValidationError, match="text"):
        policies.publish_privacy_policy(
            rt,
            org.as_role("DPO"),
            {"version": "v1", "effectiveDate": "2020-01-01", "url": "https://acme.example/p"},
            huge,
            "PLAIN",
        )
    policies_left = gql(
        "query P($s: String!) { organization(slug: $s) { privacyPolicies { totalCount } } }",
        {"s": org.slug},
        org.tokens["DPO"],
    )
    assert policies_left["data"]["organization"]["privacyPolicies"]["totalCount"] == 0


def test_a_viewer_may_not_draft_and_an_editor_drafts_once(gql: GraphQLClient, org: Org) -> None:
    body = _publish(gql, org.tokens["DPO"], text=TEXTS["PLAIN"], textFormat="PLAIN")
    policy_id = body["data"]["publishPrivacyPolicy"]["privacyPolicy"]["id"]
    refused = gql.operation(
        "DraftFromNotice", {"policyId": policy_id}, org.tokens["VIEWER"], expect_errors=True
    )
    assert error_codes(refused) == ["FORBIDDEN"]

    drafted = gql.operation("DraftFromNotice", {"policyId": policy_id}, org.tokens["EDITOR"])
    payload = drafted["data"]["draftRecordsFromNotice"]
    (hubspot,) = payload["processors"]
    assert (hubspot["name"], hubspot["status"]) == ("HubSpot", "DRAFT")
    assert hubspot["country"] == "US"  # the gazetteer's seat of HubSpot, Inc.
    assert hubspot["sourceEvidence"]["policyId"] == policy_id
    assert [s["text"] for s in hubspot["sourceEvidence"]["spans"]] == ["HubSpot"]
    assert payload["processingActivities"] and all(
        a["status"] == "DRAFT" and a["sourceEvidence"] for a in payload["processingActivities"]
    )
    records = [*payload["processors"], *payload["processingActivities"], *payload["transfers"]]
    assert len(payload["receipts"]) == len(records)

    accepted = gql(
        "mutation A($id: ID!) { updateProcessor(input: {id: $id, status: ACTIVE}) "
        "{ processor { status sourceEvidence { about } } } }",
        {"id": hubspot["id"]},
        org.tokens["DPO"],
    )["data"]["updateProcessor"]["processor"]
    assert accepted == {"status": "ACTIVE", "sourceEvidence": {"about": "thirdParty:HubSpot, Inc."}}

    again = gql.operation("DraftFromNotice", {"policyId": policy_id}, org.tokens["DPO"])
    assert again["data"]["draftRecordsFromNotice"] == {
        "processors": [], "processingActivities": [], "transfers": [], "receipts": []
    }  # fmt: skip


def test_the_demo_organisations_show_notice_findings_on_both_sides(
    gql: GraphQLClient, demo: Demo
) -> None:
    # the notice names what the records lack, and the records hold what it leaves out
    named_not_recorded = {
        "NOTICE_THIRD_PARTY_NOT_RECORDED", "NOTICE_CATEGORY_NOT_RECORDED",
        "NOTICE_RECIPIENT_CATEGORY_NOT_RECORDED",
    }  # fmt: skip
    recorded_not_named = {
        "NOTICE_PROCESSOR_UNDISCLOSED", "NOTICE_CATEGORY_UNDISCLOSED",
        "NOTICE_TRANSFER_UNDISCLOSED",
    }  # fmt: skip
    codes: dict[str, set[str]] = {}
    for slug in DEMO_SLUGS:
        org = gql(FINDINGS, {"slug": slug}, demo.tokens[slug])["data"]["organization"]
        notice = [f for f in org["findings"] if f["code"].startswith("NOTICE_")]
        assert notice, slug
        codes[slug] = {f["code"] for f in notice}
        for f in notice:
            assert f["evidence"] is not None and f["evidence"]["policyId"], (slug, f)
            for span in f["evidence"]["spans"]:
                assert span["text"] and span["end"] > span["start"]
    every = set().union(*codes.values())
    assert every & named_not_recorded and every & recorded_not_named
    assert codes["qwiqi"] & named_not_recorded and codes["qwiqi"] & recorded_not_named
    # gaps the real notices have: no retention period anywhere, no usable contact in two
    assert all("NOTICE_NO_RETENTION" in c for c in codes.values())
    assert {s for s, c in codes.items() if "NOTICE_NO_CONTACT" in c} == {"qiscus", "qwasi"}


def test_a_format_without_text_is_refused_and_a_version_without_text_is_kept(
    gql: GraphQLClient, org: Org
) -> None:
    refused = _publish(gql, org.tokens["DPO"], textFormat="HTML")
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert "textFormat" in refused["errors"][0]["message"]
    bare = _publish(gql, org.tokens["DPO"], sha256="a" * 64)
    policy = bare["data"]["publishPrivacyPolicy"]["privacyPolicy"]
    assert (policy["text"], policy["textFormat"], policy["analysis"]) == (None, None, None)
    assert policy["sha256"] == "a" * 64 and policy["thirdParties"] == []


def test_as_of_compares_the_records_with_the_notice_in_force_then(
    gql: GraphQLClient, org: Org
) -> None:
    import time
    from datetime import UTC, datetime

    token = org.tokens["DPO"]
    silent = "We use HubSpot to send newsletters to your email address."
    _publish(gql, token, text=silent, version="v1", effectiveDate="2020-01-01")
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    _publish(gql, token, text=TEXTS["PLAIN"], version="v2", effectiveDate="2021-01-01")

    def codes(as_of: str | None) -> set[str]:
        body = gql.operation("NoticeFindings", {"slug": org.slug, "asOf": as_of}, token)
        return {f["code"] for f in body["data"]["organization"]["findings"]}

    assert "NOTICE_NO_CONTACT" in codes(between)
    assert "NOTICE_NO_CONTACT" not in codes(None)
    then = gql.operation("NoticeFindings", {"slug": org.slug, "asOf": between}, token)
    versions = [
        e["node"]["version"] for e in then["data"]["organization"]["privacyPolicies"]["edges"]
    ]
    assert versions == ["v1"]
