from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ropa.domain.findings import RULES, Finding, Severity, Snapshot, compute_findings

State = dict[str, Any]

DOC = Path(__file__).parents[2] / "docs" / "findings.md"


@pytest.fixture
def snapshot(
    organization: State,
    activity: State,
    processor: State,
    engagement: State,
    transfer: State,
    breach: State,
    policy: State,
) -> Snapshot:
    return Snapshot(
        organization=organization,
        activities=[activity],
        processors=[processor],
        engagements=[engagement],
        transfers=[transfer],
        breaches=[breach],
        policies=[policy],
    )


def fired(snapshot: Snapshot, now: datetime) -> list[tuple[str, str]]:
    return [(f.code, f.entity_id) for f in compute_findings(snapshot, now)]


def only(snapshot: Snapshot, now: datetime, code: str) -> list[Finding]:
    return [f for f in compute_findings(snapshot, now) if f.code == code]


# The whole set


def test_clean_records_raise_no_finding(snapshot: Snapshot, now: datetime) -> None:
    assert compute_findings(snapshot, now) == []


def test_codes_are_unique_and_upper_snake_case() -> None:
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))
    assert all(code.replace("_", "").isalpha() and code.isupper() for code in codes)


def test_every_code_is_documented_with_its_severity_and_article() -> None:
    doc = DOC.read_text()
    for rule in RULES:
        row = next((line for line in doc.splitlines() if f"`{rule.code}`" in line), None)
        assert row is not None, rule.code
        assert rule.severity.value in row, rule.code
        assert rule.article in row, rule.code


def test_findings_come_most_severe_first_in_a_stable_order(
    snapshot: Snapshot, activity: State, organization: State, now: datetime
) -> None:
    organization["dpo"] = None
    activity.update(legalBases=[], securityMeasures=[], lastReviewedAt=None)
    found = compute_findings(snapshot, now)
    assert [f.code for f in found] == [
        "ACTIVITY_NO_LEGAL_BASIS",
        "NO_SECURITY_MEASURES",
        "REVIEW_OVERDUE",
        "ORGANIZATION_NO_DPO",
    ]
    assert [f.severity for f in found] == [
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
        Severity.INFO,
    ]
    snapshot.activities.reverse()
    assert compute_findings(snapshot, now) == found


def test_now_must_be_aware(snapshot: Snapshot) -> None:
    with pytest.raises(ValueError):
        compute_findings(snapshot, datetime(2026, 11, 23))


def test_retired_activities_raise_no_finding(
    snapshot: Snapshot, activity: State, now: datetime
) -> None:
    activity.update(legalBases=[], securityMeasures=[], retention=None, status="RETIRED")
    snapshot.transfers[0]["mechanism"] = None
    assert compute_findings(snapshot, now) == []


def test_draft_activities_are_judged(snapshot: Snapshot, activity: State, now: datetime) -> None:
    activity.update(legalBases=[], status="DRAFT", lastReviewedAt=None)
    assert fired(snapshot, now) == [("ACTIVITY_NO_LEGAL_BASIS", activity["id"])]


# Organization


def test_organization_no_dpo(snapshot: Snapshot, organization: State, now: datetime) -> None:
    organization["dpo"] = None
    [finding] = compute_findings(snapshot, now)
    assert (finding.code, finding.severity, finding.entity_type) == (
        "ORGANIZATION_NO_DPO",
        Severity.INFO,
        "Organization",
    )
    assert finding.entity_id == organization["id"]


# Activities


def test_activity_no_legal_basis(snapshot: Snapshot, activity: State, now: datetime) -> None:
    activity["legalBases"] = []
    [finding] = compute_findings(snapshot, now)
    assert finding.code == "ACTIVITY_NO_LEGAL_BASIS"
    assert finding.entity_type == "ProcessingActivity"
    assert '"Customer support"' in finding.message


def test_a_processor_activity_needs_no_legal_basis_of_its_own(
    snapshot: Snapshot, activity: State, now: datetime
) -> None:
    activity.update(
        role="PROCESSOR",
        legalBases=[],
        controller={"name": "Client AG", "contact": None, "country": "AT"},
    )
    assert compute_findings(snapshot, now) == []


def test_special_category_no_condition(snapshot: Snapshot, activity: State, now: datetime) -> None:
    activity["specialCategories"] = [
        {"category": "HEALTH", "condition": None},
        {"category": "BIOMETRIC", "condition": "ART9_2_A"},
    ]
    [finding] = compute_findings(snapshot, now)
    assert finding.code == "SPECIAL_CATEGORY_NO_CONDITION"
    assert "data concerning health" in finding.message
    assert "biometric" not in finding.message


def test_special_categories_with_conditions_are_silent(
    snapshot: Snapshot, activity: State, now: datetime
) -> None:
    activity["specialCategories"] = [{"category": "HEALTH", "condition": "ART9_2_H"}]
    assert compute_findings(snapshot, now) == []


def test_legitimate_interest_no_assessment(
    snapshot: Snapshot, activity: State, now: datetime
) -> None:
    basis = {"article": "ART6_1_F", "purpose": "Fraud prevention", "lia": None}
    activity["legalBases"].append(basis | {"consentMechanism": None})
    [finding] = compute_findings(snapshot, now)
    assert finding.code == "LEGITIMATE_INTEREST_NO_ASSESSMENT"
    assert "Fraud prevention" in finding.message
    activity["legalBases"][1]["lia"] = "LIA-2026-03"
    assert compute_findings(snapshot, now) == []


def test_consent_no_mechanism(snapshot: Snapshot, activity: State, now: datetime) -> None:
    basis = {"article": "ART6_1_A", "purpose": "Newsletter", "lia": None, "consentMechanism": " "}
    activity["legalBases"].append(basis)
    assert fired(snapshot, now) == [("CONSENT_NO_MECHANISM", activity["id"])]
    basis["consentMechanism"] = "Double opt-in; unsubscribe link in every e-mail"
    assert compute_findings(snapshot, now) == []


def test_no_retention(snapshot: Snapshot, activity: State, now: datetime) -> None:
    activity["retention"] = None
    assert fired(snapshot, now) == [("NO_RETENTION", activity["id"])]
    activity["retention"] = {"period": None, "trigger": "after account closure"}
    assert compute_findings(snapshot, now) == []


def test_no_security_measures(snapshot: Snapshot, activity: State, now: datetime) -> None:
    activity["securityMeasures"] = []
    assert fired(snapshot, now) == [("NO_SECURITY_MEASURES", activity["id"])]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"specialCategories": [{"category": "HEALTH", "condition": "ART9_2_H"}]},
            "Art. 35(3)(b)",
        ),
        ({"criminalOffenceData": True}, "Art. 35(3)(b)"),
        ({"systematicMonitoring": True, "largeScale": False}, "Art. 35(3)(c)"),
        (
            {"automatedDecisionMaking": {"description": "Credit scoring", "legalEffect": True}},
            "Art. 35(3)(a)",
        ),
    ],
)
def test_dpia_likely_required(
    snapshot: Snapshot, activity: State, now: datetime, change: State, reason: str
) -> None:
    activity.update(largeScale=True)
    activity.update(change)
    [finding] = compute_findings(snapshot, now)
    assert finding.code == "DPIA_LIKELY_REQUIRED"
    assert reason in finding.message


@pytest.mark.parametrize("status", ["DONE", "IN_PROGRESS"])
def test_a_dpia_done_or_in_progress_clears_it(
    snapshot: Snapshot, activity: State, now: datetime, status: str
) -> None:
    activity.update(systematicMonitoring=True)
    activity["dpia"] = {"status": status, "date": "2026-01-10", "reference": "DPIA-1"}
    assert compute_findings(snapshot, now) == []


def test_no_dpia_trigger_without_scale_or_effect(
    snapshot: Snapshot, activity: State, now: datetime
) -> None:
    activity["specialCategories"] = [{"category": "HEALTH", "condition": "ART9_2_H"}]
    activity["automatedDecisionMaking"] = {"description": "Routing", "legalEffect": False}
    assert compute_findings(snapshot, now) == []


def test_review_overdue_after_a_year(snapshot: Snapshot, activity: State, now: datetime) -> None:
    activity["lastReviewedAt"] = "2025-11-23T11:59:59.000000Z"
    [finding] = compute_findings(snapshot, now)
    assert finding.code == "REVIEW_OVERDUE"
    assert "2025-11-23" in finding.message
    activity["lastReviewedAt"] = "2025-11-23T12:00:00.000000Z"
    assert compute_findings(snapshot, now) == []


def test_review_overdue_when_never_reviewed_but_not_for_drafts(
    snapshot: Snapshot, activity: State, now: datetime
) -> None:
    activity["lastReviewedAt"] = None
    assert fired(snapshot, now) == [("REVIEW_OVERDUE", activity["id"])]
    activity["status"] = "DRAFT"
    assert compute_findings(snapshot, now) == []


def test_processor_activity_no_controller(
    snapshot: Snapshot, activity: State, now: datetime
) -> None:
    activity.update(role="PROCESSOR", legalBases=[], controller=None)
    assert fired(snapshot, now) == [("PROCESSOR_ACTIVITY_NO_CONTROLLER", activity["id"])]


# Processors and engagements


def test_processor_no_dpa(snapshot: Snapshot, processor: State, now: datetime) -> None:
    processor["dpaSignedOn"] = None
    [finding] = compute_findings(snapshot, now)
    assert (finding.code, finding.entity_type) == ("PROCESSOR_NO_DPA", "Processor")
    assert "Freshdesk" in finding.message
    assert '"Customer support"' in finding.message


def test_no_dpa_is_silent_when_nothing_live_engages_the_processor(
    snapshot: Snapshot, processor: State, activity: State, now: datetime
) -> None:
    processor["dpaSignedOn"] = None
    activity["status"] = "RETIRED"
    assert compute_findings(snapshot, now) == []
    activity["status"] = "ACTIVE"
    processor["status"] = "RETIRED"
    assert compute_findings(snapshot, now) == []


def test_engagement_outside_dpa(
    snapshot: Snapshot, processor: State, engagement: State, now: datetime
) -> None:
    engagement["dataCategories"] = ["user.contact.email", "user.financial.credit_card"]
    [finding] = compute_findings(snapshot, now)
    assert (finding.code, finding.entity_type, finding.entity_id) == (
        "ENGAGEMENT_OUTSIDE_DPA",
        "ProcessorEngagement",
        engagement["id"],
    )
    assert "user.financial.credit_card" in finding.message
    assert "user.contact.email" not in finding.message


def test_an_ancestor_key_in_the_dpa_covers_its_descendants(
    snapshot: Snapshot, processor: State, engagement: State, now: datetime
) -> None:
    processor["dpaDataCategories"] = ["user"]
    engagement["dataCategories"] = ["user.financial.credit_card", "user.contact.email"]
    assert compute_findings(snapshot, now) == []


def test_a_dpa_that_states_no_categories_is_not_compared(
    snapshot: Snapshot, processor: State, engagement: State, now: datetime
) -> None:
    processor["dpaDataCategories"] = []
    engagement["dataCategories"] = ["user.financial.credit_card"]
    assert compute_findings(snapshot, now) == []


def test_subprocessor_outside_eea_unrecorded(
    snapshot: Snapshot, processor: State, now: datetime
) -> None:
    processor["subProcessors"].append({"name": "Offshore Support", "country": "IN", "service": ""})
    [finding] = compute_findings(snapshot, now)
    assert (finding.code, finding.entity_id) == (
        "SUBPROCESSOR_OUTSIDE_EEA_UNRECORDED",
        processor["id"],
    )
    assert "Offshore Support" in finding.message
    assert "India (IN)" in finding.message


def test_subprocessors_in_the_eea_adequate_or_recorded_are_silent(
    snapshot: Snapshot, processor: State, transfer: State, now: datetime
) -> None:
    processor["subProcessors"] = [
        {"name": "Hetzner", "country": "DE", "service": "hosting"},
        {"name": "Support Desk", "country": "GB", "service": "support"},
        {"name": "AWS", "country": "US", "service": "hosting"},
    ]
    assert compute_findings(snapshot, now) == []
    snapshot.transfers.clear()
    assert fired(snapshot, now) == [("SUBPROCESSOR_OUTSIDE_EEA_UNRECORDED", processor["id"])]


# Transfers


def test_transfer_no_mechanism(snapshot: Snapshot, transfer: State, now: datetime) -> None:
    transfer.update(toCountry="IN", mechanism=None, sccModule=None, tia=None)
    snapshot.processors[0]["subProcessors"] = []
    [finding] = compute_findings(snapshot, now)
    assert (finding.code, finding.entity_type, finding.entity_id) == (
        "TRANSFER_NO_MECHANISM",
        "Transfer",
        transfer["id"],
    )
    assert "India (IN)" in finding.message


def test_no_mechanism_is_needed_where_a_decision_applies(
    snapshot: Snapshot, transfer: State, now: datetime
) -> None:
    transfer.update(mechanism=None, sccModule=None, tia=None)  # US recipient, DPF-certified
    assert compute_findings(snapshot, now) == []
    snapshot.processors[0]["subProcessors"].clear()
    transfer["toCountry"] = "JP"
    assert compute_findings(snapshot, now) == []
    transfer["toCountry"] = "FR"  # not a transfer to a third country at all
    assert compute_findings(snapshot, now) == []


def test_a_us_recipient_without_dpf_needs_a_mechanism(
    snapshot: Snapshot, transfer: State, processor: State, now: datetime
) -> None:
    transfer.update(mechanism=None, sccModule=None, tia=None)
    processor["dpf"] = False
    assert fired(snapshot, now) == [("TRANSFER_NO_MECHANISM", transfer["id"])]


def test_a_planned_transfer_is_judged_on_its_first_day(
    snapshot: Snapshot, transfer: State, now: datetime
) -> None:
    transfer.update(toCountry="GB", mechanism=None, sccModule=None, tia=None)
    snapshot.processors[0]["subProcessors"].clear()
    transfer["startedOn"] = "2032-01-01"  # after the UK decision's sunset
    [finding] = compute_findings(snapshot, now)
    assert finding.code == "TRANSFER_NO_MECHANISM"
    assert "2032-01-01" in finding.message


def test_transfer_adequacy_not_in_force(snapshot: Snapshot, transfer: State, now: datetime) -> None:
    transfer.update(toCountry="IN", mechanism="ADEQUACY", sccModule=None, tia=None)
    snapshot.processors[0]["subProcessors"] = []
    assert fired(snapshot, now) == [("TRANSFER_ADEQUACY_NOT_IN_FORCE", transfer["id"])]


def test_adequacy_is_judged_on_the_day_asked(snapshot: Snapshot, transfer: State) -> None:
    transfer.update(toCountry="BR", mechanism="ADEQUACY", sccModule=None, tia=None)
    snapshot.processors[0]["subProcessors"] = []
    snapshot.breaches.clear()
    assert compute_findings(snapshot, datetime(2026, 1, 27, tzinfo=UTC)) == []
    assert fired(snapshot, datetime(2026, 1, 26, 23, 59, tzinfo=UTC)) == [
        ("TRANSFER_ADEQUACY_NOT_IN_FORCE", transfer["id"])
    ]


def test_transfer_dpf_not_certified(
    snapshot: Snapshot, transfer: State, processor: State, now: datetime
) -> None:
    transfer.update(mechanism="DPF", sccModule=None, tia=None)
    assert compute_findings(snapshot, now) == []
    processor["dpf"] = False
    [finding] = compute_findings(snapshot, now)
    assert finding.code == "TRANSFER_DPF_NOT_CERTIFIED"
    assert "not recorded as DPF-certified" in finding.message


def test_dpf_outside_the_us(snapshot: Snapshot, transfer: State, now: datetime) -> None:
    transfer.update(toCountry="CA", mechanism="DPF", sccModule=None, tia=None)
    snapshot.processors[0]["subProcessors"].clear()
    [finding] = compute_findings(snapshot, now)
    assert finding.code == "TRANSFER_DPF_NOT_CERTIFIED"
    assert "only covers recipients in the US" in finding.message


def test_dpf_before_the_decision(snapshot: Snapshot, transfer: State) -> None:
    transfer.update(mechanism="DPF", sccModule=None, tia=None)
    snapshot.breaches.clear()
    snapshot.activities[0]["lastReviewedAt"] = "2023-01-01T00:00:00.000000Z"
    assert fired(snapshot, datetime(2023, 7, 9, tzinfo=UTC)) == [
        ("TRANSFER_DPF_NOT_CERTIFIED", transfer["id"])
    ]


def test_privacy_shield_holds_until_schrems_ii_and_is_flagged_after(
    snapshot: Snapshot, transfer: State
) -> None:
    transfer.update(mechanism="PRIVACY_SHIELD", sccModule=None, tia=None, startedOn=None)
    snapshot.breaches.clear()
    snapshot.activities[0]["lastReviewedAt"] = "2020-01-01T00:00:00.000000Z"
    assert fired(snapshot, datetime(2020, 7, 15, 23, tzinfo=UTC)) == []
    [finding] = compute_findings(snapshot, datetime(2020, 7, 16, 9, tzinfo=UTC))
    assert finding.code == "TRANSFER_PRIVACY_SHIELD_INVALID"
    assert "2020-07-16" in finding.message
    transfer["toCountry"] = "CA"
    snapshot.processors[0]["subProcessors"].clear()
    assert fired(snapshot, datetime(2019, 1, 1, tzinfo=UTC)) == [
        ("TRANSFER_PRIVACY_SHIELD_INVALID", transfer["id"])
    ]


def test_transfer_scc_no_tia(snapshot: Snapshot, transfer: State, now: datetime) -> None:
    transfer["tia"] = None
    assert fired(snapshot, now) == [("TRANSFER_SCC_NO_TIA", transfer["id"])]


def test_scc_within_the_eea_needs_no_tia(
    snapshot: Snapshot, transfer: State, now: datetime
) -> None:
    transfer.update(toCountry="IE", tia=None)
    snapshot.processors[0]["subProcessors"].clear()
    assert compute_findings(snapshot, now) == []


def test_transfers_of_retired_activities_are_silent(
    snapshot: Snapshot, transfer: State, activity: State, now: datetime
) -> None:
    transfer.update(toCountry="IN", mechanism=None, sccModule=None, tia=None)
    activity["status"] = "RETIRED"
    assert compute_findings(snapshot, now) == []


# Breaches


def test_breach_notification_overdue(snapshot: Snapshot, breach: State, now: datetime) -> None:
    breach["authorityNotifications"] = []
    [finding] = compute_findings(snapshot, now)
    assert (finding.code, finding.entity_type) == ("BREACH_NOTIFICATION_OVERDUE", "BreachIncident")
    assert "2026-11-05 10:00 UTC" in finding.message


def test_overdue_is_judged_at_the_instant_asked(snapshot: Snapshot, breach: State) -> None:
    breach["authorityNotifications"] = []
    deadline = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    assert compute_findings(snapshot, deadline) == []
    assert fired(snapshot, deadline + timedelta(seconds=1)) == [
        ("BREACH_NOTIFICATION_OVERDUE", breach["id"])
    ]


def test_unlikely_risk_needs_no_notification(
    snapshot: Snapshot, breach: State, now: datetime
) -> None:
    breach.update(authorityNotifications=[], risk="UNLIKELY")
    assert compute_findings(snapshot, now) == []


def test_breach_subjects_not_informed(snapshot: Snapshot, breach: State, now: datetime) -> None:
    breach["risk"] = "HIGH_RISK"
    assert fired(snapshot, now) == [("BREACH_SUBJECTS_NOT_INFORMED", breach["id"])]
    breach["subjectCommunication"] = {"notifiedAt": "2026-11-04T08:00:00.000000Z", "channel": "sms"}
    assert compute_findings(snapshot, now) == []


def test_an_art_34_3_exemption_clears_it(snapshot: Snapshot, breach: State, now: datetime) -> None:
    breach.update(risk="HIGH_RISK", subjectCommunicationExemption="ART34_3_A")
    assert compute_findings(snapshot, now) == []
