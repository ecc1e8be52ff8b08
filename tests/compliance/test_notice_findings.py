"""The privacy notice in force against the records (Art. 13/14 vs Art. 30), both ways.

A small organisation's records are compared with a notice that leaves things out and names
what is not recorded (every NOTICE_* code fires, each citing spans or records), with a
notice that discloses everything (none fires), and `asOf` picks the notice in force then.
"""

from __future__ import annotations

from collections import defaultdict

from ropa.domain.findings import Finding
from ropa.services import activities, findings, reads
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.runtime import Runtime
from tests.compliance.notice_fixtures import (
    Notice,
    complete_notice,
    gappy_notice,
    instant,
    publish,
    records,
)
from tests.conftest import Org

NOTICE_CODES = {
    "NOTICE_PROCESSOR_UNDISCLOSED",
    "NOTICE_THIRD_PARTY_NOT_RECORDED",
    "NOTICE_RECIPIENT_CATEGORY_NOT_RECORDED",
    "NOTICE_TRANSFER_UNDISCLOSED",
    "NOTICE_TRANSFER_MECHANISM_MISMATCH",
    "NOTICE_CATEGORY_UNDISCLOSED",
    "NOTICE_CATEGORY_NOT_RECORDED",
    "NOTICE_NO_LEGAL_BASIS",
    "NOTICE_NO_RETENTION",
    "NOTICE_NO_CONTACT",
    "NOTICE_OUTDATED",
}


def _notice_findings(
    rt: Runtime, who: Principal, slug: str, as_of: str | None = None
) -> dict[str, list[Finding]]:
    view, _ = reads.open_view(rt, who, slug, as_of)
    out: dict[str, list[Finding]] = defaultdict(list)
    for f in findings.findings(rt, SYSTEM_PRINCIPAL, view):
        if f.code.startswith("NOTICE_"):
            out[f.code].append(f)
    return out


def test_a_notice_that_leaves_records_out_raises_every_notice_finding_with_its_evidence(
    rt: Runtime, org: Org
) -> None:
    dpo = org.as_role("DPO")
    notice = gappy_notice()
    policy = publish(rt, dpo, notice, "v1", "2020-01-01").record
    recs = records(rt, dpo)  # recorded after the notice took effect: it is outdated
    found = _notice_findings(rt, dpo, org.slug)

    assert set(found) == NOTICE_CODES
    text = notice.text()

    undisclosed = {f.entity_id for f in found["NOTICE_PROCESSOR_UNDISCLOSED"]}
    assert undisclosed == {recs.stripe, recs.mailgun}  # Freshdesk is named
    assert all(f.related == (("ProcessingActivity", recs.activity),)
               for f in found["NOTICE_PROCESSOR_UNDISCLOSED"])  # fmt: skip

    (hubspot,) = found["NOTICE_THIRD_PARTY_NOT_RECORDED"]
    assert hubspot.entity_type == "PrivacyPolicy" and hubspot.entity_id == policy["id"]
    assert hubspot.evidence is not None and hubspot.evidence.policy_id == policy["id"]
    (span,) = hubspot.evidence.spans
    assert span.text == "HubSpot" == text[span.start : span.end]

    (analytics,) = found["NOTICE_RECIPIENT_CATEGORY_NOT_RECORDED"]
    assert analytics.evidence is not None
    assert [s.text for s in analytics.evidence.spans] == ["analytics providers"]

    assert [f.entity_id for f in found["NOTICE_TRANSFER_UNDISCLOSED"]] == [recs.to_india]
    (mismatch,) = found["NOTICE_TRANSFER_MECHANISM_MISMATCH"]
    assert mismatch.entity_id == recs.to_us
    assert mismatch.evidence is not None
    assert [s.text for s in mismatch.evidence.spans] == ["Data Privacy Framework"]

    (category,) = found["NOTICE_CATEGORY_UNDISCLOSED"]
    assert category.entity_id == recs.activity and "user.financial" in category.message
    (unrecorded,) = found["NOTICE_CATEGORY_NOT_RECORDED"]
    assert "user.device" in unrecorded.message
    assert unrecorded.evidence is not None
    assert [s.text for s in unrecorded.evidence.spans] == ["IP address"]

    for code in ("NOTICE_NO_LEGAL_BASIS", "NOTICE_NO_RETENTION", "NOTICE_NO_CONTACT"):
        assert [f.entity_id for f in found[code]] == [policy["id"]]

    (outdated,) = found["NOTICE_OUTDATED"]
    assert outdated.seqs and all(s > 0 for s in outdated.seqs)
    assert ("Transfer", recs.to_india) in outdated.related
    assert sum(t == "ProcessorEngagement" for t, _ in outdated.related) == 3


def test_a_notice_that_discloses_everything_raises_no_notice_finding(rt: Runtime, org: Org) -> None:
    dpo = org.as_role("DPO")
    records(rt, dpo)
    publish(rt, dpo, complete_notice(), "v1", "2020-01-01")  # published after the records
    assert dict(_notice_findings(rt, dpo, org.slug)) == {}


def test_a_region_outside_the_eea_discloses_any_third_country(rt: Runtime, org: Org) -> None:
    dpo = org.as_role("DPO")
    records(rt, dpo)
    notice = gappy_notice().says(
        "Data may be processed outside the EEA.", "regions", "outside the EEA",
        name="outside the EEA",
    )  # fmt: skip
    publish(rt, dpo, notice, "v1", "2020-01-01")
    assert "NOTICE_TRANSFER_UNDISCLOSED" not in _notice_findings(rt, dpo, org.slug)


def test_changes_after_the_notice_took_effect_make_it_outdated_and_cite_their_seqs(
    rt: Runtime, org: Org
) -> None:
    dpo = org.as_role("DPO")
    recs = records(rt, dpo)
    publish(rt, dpo, complete_notice(), "v1", "2020-01-01")
    assert "NOTICE_OUTDATED" not in _notice_findings(rt, dpo, org.slug)

    change = activities.update_processing_activity(
        rt,
        dpo,
        recs.activity,
        {"dataCategories": ["user.contact.email", "user.health_and_medical"]},
    )
    assert change.receipt is not None
    found = _notice_findings(rt, dpo, org.slug)
    (outdated,) = found["NOTICE_OUTDATED"]
    assert outdated.seqs == (change.receipt.seq,)
    assert outdated.related == (("ProcessingActivity", recs.activity),)
    # and the new category is not disclosed either
    assert "user.health_and_medical" in found["NOTICE_CATEGORY_UNDISCLOSED"][0].message


def test_the_notice_in_force_at_an_instant_is_the_one_compared_then(rt: Runtime, org: Org) -> None:
    dpo = org.as_role("DPO")
    records(rt, dpo)
    publish(rt, dpo, gappy_notice(), "v1", "2020-01-01")
    between = instant()
    publish(rt, dpo, complete_notice(), "v2", "2021-01-01")
    # a later version effective only in the future is not in force yet
    publish(rt, dpo, Notice(), "v3", "2999-01-01")

    then = _notice_findings(rt, dpo, org.slug, between)
    assert {"NOTICE_THIRD_PARTY_NOT_RECORDED", "NOTICE_NO_CONTACT"} <= set(then)
    assert dict(_notice_findings(rt, dpo, org.slug)) == {}


def test_a_version_without_text_stays_valid_and_is_not_compared(rt: Runtime, org: Org) -> None:
    from ropa.services import policies

    dpo = org.as_role("DPO")
    records(rt, dpo)
    change = policies.publish_privacy_policy(
        rt, dpo, {"version": "old", "effectiveDate": "2020-01-01", "url": "https://a.example/p"}
    )
    assert change.record["text"] is None and change.record["analysis"] is None
    assert dict(_notice_findings(rt, dpo, org.slug)) == {}


def test_every_notice_code_is_documented_with_its_severity_and_article() -> None:
    from pathlib import Path

    from ropa.notices.compare import RULES

    doc = (Path(__file__).parents[2] / "docs" / "findings.md").read_text()
    assert {rule.code for rule in RULES} == NOTICE_CODES | {"NOTICE_DRAFT_PENDING"}
    for rule in RULES:
        row = next((line for line in doc.splitlines() if f"| `{rule.code}`" in line), None)
        assert row is not None, rule.code
        assert rule.severity.value in row and rule.article in row, rule.code
