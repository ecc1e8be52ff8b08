"""Findings about processing activities: Art. 6, 9, 22, 24, 30 and 35.

Only DRAFT and ACTIVE activities are judged; the review rule judges ACTIVE ones only, since
a draft has not been carried out yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from ropa.domain.findings.model import Concern, Rule, Severity, Snapshot, about_activity
from ropa.domain.instants import parse_instant
from ropa.domain.vocabulary import (
    ActivityRole,
    ActivityStatus,
    DpiaStatus,
    LegalBasisArticle,
    SpecialCategory,
)

REVIEW_INTERVAL = timedelta(days=365)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _no_legal_basis(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for activity in snapshot.live_activities():
        # A processor relies on its controller's legal basis (Art. 28, 30(2)).
        if activity["role"] != ActivityRole.PROCESSOR and not activity["legalBases"]:
            yield about_activity(
                activity,
                f'"{activity["name"]}" records no legal basis. Add the Art. 6(1) basis '
                "relied on for each purpose.",
            )


def _special_category_no_condition(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for activity in snapshot.live_activities():
        missing = [
            SpecialCategory(entry["category"]).label
            for entry in activity["specialCategories"]
            if entry["condition"] is None
        ]
        if missing:
            yield about_activity(
                activity,
                f'"{activity["name"]}" processes {", ".join(missing)} without an Art. 9(2) '
                "condition. Processing special categories is prohibited unless one applies.",
            )


def _legitimate_interest_no_assessment(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for activity in snapshot.live_activities():
        for basis in activity["legalBases"]:
            if basis["article"] == LegalBasisArticle.ART6_1_F and _blank(basis["lia"]):
                purpose = basis["purpose"] or "a purpose"
                yield about_activity(
                    activity,
                    f'"{activity["name"]}" relies on legitimate interests for "{purpose}" '
                    "without a legitimate-interest assessment. Record the assessment's "
                    "reference.",
                )


def _consent_no_mechanism(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for activity in snapshot.live_activities():
        for basis in activity["legalBases"]:
            if basis["article"] == LegalBasisArticle.ART6_1_A and _blank(basis["consentMechanism"]):
                purpose = basis["purpose"] or "a purpose"
                yield about_activity(
                    activity,
                    f'"{activity["name"]}" relies on consent for "{purpose}" without saying '
                    "how consent is collected and withdrawn. The controller must be able to "
                    "demonstrate consent (Art. 7(1)).",
                )


def _no_retention(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for activity in snapshot.live_activities():
        retention = activity["retention"]
        # Art. 30(2) does not ask a processor's record for retention periods.
        if activity["role"] != ActivityRole.PROCESSOR and (
            retention is None or (retention["period"] is None and _blank(retention["trigger"]))
        ):
            yield about_activity(
                activity,
                f'"{activity["name"]}" states no retention period. Record how long the data '
                'is kept, as a period (e.g. P2Y) and/or a trigger ("after account closure").',
            )


def _no_security_measures(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for activity in snapshot.live_activities():
        if not activity["securityMeasures"]:
            yield about_activity(
                activity,
                f'"{activity["name"]}" describes no technical or organisational security '
                "measures (Art. 32).",
            )


def _dpia_likely_required(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for activity in snapshot.live_activities():
        dpia = activity["dpia"]  # null: never assessed
        status = dpia["status"] if dpia is not None else None
        if status in (DpiaStatus.DONE, DpiaStatus.IN_PROGRESS):
            continue
        reasons = []
        decisions = activity["automatedDecisionMaking"]
        if decisions is not None and decisions["legalEffect"]:
            reasons.append("automated decisions with legal or similar effects (Art. 35(3)(a))")
        sensitive = activity["specialCategories"] or activity["criminalOffenceData"]
        if sensitive and activity["largeScale"]:
            reasons.append(
                "large-scale processing of special-category or criminal data (Art. 35(3)(b))"
            )
        if activity["systematicMonitoring"]:
            reasons.append("systematic monitoring (Art. 35(3)(c))")
        if reasons:
            yield about_activity(
                activity,
                f'"{activity["name"]}" likely needs a DPIA: {"; ".join(reasons)}. '
                f"Its DPIA status is {status or 'not assessed'}.",
            )


def _review_overdue(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for activity in snapshot.activities:
        if activity["status"] != ActivityStatus.ACTIVE:
            continue
        reviewed = activity["lastReviewedAt"]
        if reviewed is None:
            yield about_activity(activity, f'"{activity["name"]}" has never been reviewed.')
        elif now - parse_instant(reviewed) > REVIEW_INTERVAL:
            yield about_activity(
                activity,
                f'"{activity["name"]}" was last reviewed on {reviewed[:10]}, more than a year ago.',
            )


def _processor_activity_no_controller(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for activity in snapshot.live_activities():
        if activity["role"] == ActivityRole.PROCESSOR and activity["controller"] is None:
            yield about_activity(
                activity,
                f'"{activity["name"]}" is carried out as a processor but does not name the '
                "controller it acts for (Art. 30(2)(a)).",
            )


RULES = (
    Rule("ACTIVITY_NO_LEGAL_BASIS", Severity.HIGH, "Art. 6(1), 30(1)(b)", _no_legal_basis),
    Rule(
        "SPECIAL_CATEGORY_NO_CONDITION",
        Severity.HIGH,
        "Art. 9(1)-(2)",
        _special_category_no_condition,
    ),
    Rule(
        "LEGITIMATE_INTEREST_NO_ASSESSMENT",
        Severity.MEDIUM,
        "Art. 6(1)(f), 5(2)",
        _legitimate_interest_no_assessment,
    ),
    Rule(
        "CONSENT_NO_MECHANISM", Severity.MEDIUM, "Art. 6(1)(a), 7(1), 7(3)", _consent_no_mechanism
    ),
    Rule("NO_RETENTION", Severity.MEDIUM, "Art. 30(1)(f), 5(1)(e)", _no_retention),
    Rule(
        "NO_SECURITY_MEASURES",
        Severity.MEDIUM,
        "Art. 30(1)(g), 30(2)(d), 32",
        _no_security_measures,
    ),
    Rule("DPIA_LIKELY_REQUIRED", Severity.HIGH, "Art. 35(1), 35(3)", _dpia_likely_required),
    Rule("REVIEW_OVERDUE", Severity.LOW, "Art. 24(1), 30", _review_overdue),
    Rule(
        "PROCESSOR_ACTIVITY_NO_CONTROLLER",
        Severity.MEDIUM,
        "Art. 30(2)(a)",
        _processor_activity_no_controller,
    ),
)
