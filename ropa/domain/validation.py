"""Validation of proposed record states, one function per record type.

Each function takes the complete state the service layer built (docs/data-model.md) and
raises one `ValidationError` listing every offending field, or returns None. Checks follow
the record's article:

- Organization: Art. 4(7)-(8) roles, Art. 27 EU representative, Art. 37(7) DPO contact;
- ProcessingActivity: Art. 30(1) and 30(2), Art. 6(1) legal bases, Art. 9(2) conditions,
  Art. 22 automated decisions, Art. 35 DPIA;
- Processor and ProcessorEngagement: Art. 28, Art. 30(1)(d);
- Transfer: Chapter V, Art. 45-49;
- BreachIncident: Art. 33-34 (the rules themselves are in `ropa.domain.breach`).

These checks judge one state alone, except two that the service layer asks with what
only it knows: `future_errors` (an instant not come yet at the time of recording, such as
a `lastReviewedAt` that would silence the review finding for years) and `name_key` (a
processor's name as compared for duplicates in the register: case, spacing and
punctuation ignored). Whether a record is complete enough
is a finding (`ropa.domain.findings`), not a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ropa.domain import breach
from ropa.domain.checks import FieldChecks, join
from ropa.domain.countries import is_eea
from ropa.domain.durations import is_duration
from ropa.domain.evidence import check_evidence, check_notice_text
from ropa.domain.instants import is_instant, parse_instant
from ropa.domain.taxonomy import is_data_category, is_data_subject, is_data_use
from ropa.domain.vocabulary import (
    ActivityRole,
    ActivityStatus,
    Art9Condition,
    Art34Exemption,
    Art49Derogation,
    BreachRisk,
    BreachStatus,
    DpiaStatus,
    LegalBasisArticle,
    NotificationPhase,
    OrganizationRole,
    ProcessorStatus,
    Role,
    Source,
    SpecialCategory,
    TextFormat,
    TransferMechanism,
)
from ropa.errors import FieldError

State = Mapping[str, Any]

_SLUG = re.compile(r"[a-z0-9-]{2,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_URL = re.compile(r"https?://[^\s/]+\S*")

_PARTY = ("name", "contact", "country")


def validate_organization(state: State) -> None:
    check = FieldChecks()
    fields = (
        "id", "slug", "name", "roles", "country", "address", "contactEmail", "dpo",
        "euRepresentative",
    )  # fmt: skip
    s = check.shape(state, "", fields)
    if s is None:
        check.raise_if_any()
        return
    check.uuid(s.get("id"), "id")
    slug = check.text(s.get("slug"), "slug", required=True)
    if slug is not None and not _SLUG.fullmatch(slug):
        check.fail("slug", "must be 2 to 63 lower-case letters, digits or hyphens")
    check.text(s.get("name"), "name", required=True)
    check.choices(s.get("roles"), "roles", OrganizationRole)
    if s.get("roles") == []:
        check.fail("roles", "must name at least one role: CONTROLLER or PROCESSOR")
    check.country(s.get("country"), "country")
    check.text(s.get("address"), "address")
    check.email(s.get("contactEmail"), "contactEmail")

    dpo = check.shape(s.get("dpo"), "dpo", ("name", "email", "phone"), nullable=True)
    if dpo is not None:
        check.text(dpo.get("name"), "dpo.name", required=True)
        check.email(dpo.get("email"), "dpo.email")
        check.text(dpo.get("phone"), "dpo.phone")

    representative = check.shape(
        s.get("euRepresentative"),
        "euRepresentative",
        ("name", "email", "address", "country"),
        nullable=True,
    )
    if representative is not None:
        check.text(representative.get("name"), "euRepresentative.name", required=True)
        check.email(representative.get("email"), "euRepresentative.email")
        check.text(representative.get("address"), "euRepresentative.address")
        country = check.country(representative.get("country"), "euRepresentative.country")
        if country is not None and not is_eea(country):
            check.fail("euRepresentative.country", "must be in the EEA (Art. 27(3))")
    check.raise_if_any()


def validate_privacy_policy(state: State) -> None:
    check = FieldChecks()
    fields = (
        "id", "version", "effectiveDate", "url", "sha256", "summary", "text", "textFormat",
        "analysis",
    )  # fmt: skip
    s = check.shape(state, "", fields)
    if s is not None:
        check.uuid(s.get("id"), "id")
        check.text(s.get("version"), "version", required=True)
        check.date(s.get("effectiveDate"), "effectiveDate", nullable=False)
        url = check.text(s.get("url"), "url", required=True)
        if url is not None and not _URL.fullmatch(url):
            check.fail("url", "must be an http or https address")
        digest = check.text(s.get("sha256"), "sha256")
        if digest is not None and not _SHA256.fullmatch(digest):
            check.fail("sha256", "must be 64 lower-case hexadecimal digits")
        check.text(s.get("summary"), "summary")
        check.choice(s.get("textFormat"), "textFormat", TextFormat, nullable=True)
        check_notice_text(check, s)
    check.raise_if_any()


def validate_processing_activity(state: State) -> None:
    check = FieldChecks()
    fields = (
        "id", "name", "description", "role", "controller", "jointControllers", "purposes",
        "dataUses", "dataSubjectCategories", "dataCategories", "specialCategories",
        "criminalOffenceData", "legalBases", "recipientCategories", "retention",
        "securityMeasures", "sources", "automatedDecisionMaking", "dpia",
        "systematicMonitoring", "largeScale", "status", "owner", "lastReviewedAt", "evidence",
    )  # fmt: skip
    s = check.shape(state, "", fields)
    if s is None:
        check.raise_if_any()
        return
    check.uuid(s.get("id"), "id")
    check.text(s.get("name"), "name", required=True)
    check.text(s.get("description"), "description")
    role = check.choice(s.get("role"), "role", ActivityRole)

    # Art. 30(2)(a): a processor's record names the controller it acts for.
    controller = s.get("controller")
    _party(check, controller, "controller", nullable=True)
    if role is ActivityRole.PROCESSOR and controller is None and "controller" in s:
        check.fail("controller", "is required when the organisation acts as PROCESSOR")
    elif role is not None and role is not ActivityRole.PROCESSOR and controller is not None:
        check.fail("controller", "is only recorded when the organisation acts as PROCESSOR")
    joint = s.get("jointControllers")
    for index, party in enumerate(check.items(joint, "jointControllers")):
        _party(check, party, join("jointControllers", index))
    if role is ActivityRole.JOINT_CONTROLLER and joint == []:
        check.fail("jointControllers", "must name the other controllers (Art. 26)")
    elif role is ActivityRole.CONTROLLER and joint:
        check.fail("jointControllers", "are only recorded for JOINT_CONTROLLER activities")

    check.texts(s.get("purposes"), "purposes")
    check.keys(s.get("dataUses"), "dataUses", is_data_use, "data use")
    check.keys(
        s.get("dataSubjectCategories"), "dataSubjectCategories", is_data_subject, "data subject"
    )
    check.keys(s.get("dataCategories"), "dataCategories", is_data_category, "data category")
    _special_categories(check, s.get("specialCategories"))
    check.boolean(s.get("criminalOffenceData"), "criminalOffenceData")
    _legal_bases(check, s.get("legalBases"))
    check.texts(s.get("recipientCategories"), "recipientCategories")

    retention = check.shape(s.get("retention"), "retention", ("period", "trigger"), nullable=True)
    if retention is not None:
        period = check.text(retention.get("period"), "retention.period")
        trigger = check.text(retention.get("trigger"), "retention.trigger")
        if period is not None and not is_duration(period):
            check.fail("retention.period", "must be an ISO 8601 duration, such as P2Y or P18M")
        if period is None and (trigger is None or not trigger.strip()):
            check.fail("retention", "needs a period, a trigger, or both (or null)")

    check.texts(s.get("securityMeasures"), "securityMeasures")
    check.choices(s.get("sources"), "sources", Source)

    decisions = check.shape(
        s.get("automatedDecisionMaking"),
        "automatedDecisionMaking",
        ("description", "legalEffect"),
        nullable=True,
    )
    if decisions is not None:
        check.text(
            decisions.get("description"), "automatedDecisionMaking.description", required=True
        )
        check.boolean(decisions.get("legalEffect"), "automatedDecisionMaking.legalEffect")

    dpia = check.shape(s.get("dpia"), "dpia", ("status", "date", "reference"), nullable=True)
    if dpia is not None:
        status = check.choice(dpia.get("status"), "dpia.status", DpiaStatus)
        check.date(dpia.get("date"), "dpia.date")
        check.text(dpia.get("reference"), "dpia.reference")
        if status is DpiaStatus.DONE and dpia.get("date") is None:
            check.fail("dpia.date", "is required once the DPIA is DONE")

    check.boolean(s.get("systematicMonitoring"), "systematicMonitoring")
    check.boolean(s.get("largeScale"), "largeScale")
    check.choice(s.get("status"), "status", ActivityStatus)
    check.text(s.get("owner"), "owner")
    check.instant(s.get("lastReviewedAt"), "lastReviewedAt")
    check_evidence(check, s.get("evidence"))
    check.raise_if_any()


def _party(
    check: FieldChecks, value: Any, path: str, *, nullable: bool = False
) -> Mapping[str, Any] | None:
    """A controller named in a record: name, contact details, country."""
    party = check.shape(value, path, _PARTY, nullable=nullable)
    if party is not None:
        check.text(party.get("name"), join(path, "name"), required=True)
        check.text(party.get("contact"), join(path, "contact"))
        check.country(party.get("country"), join(path, "country"), nullable=True)
    return party


def _special_categories(check: FieldChecks, value: Any) -> None:
    seen: list[SpecialCategory] = []
    for index, item in enumerate(check.items(value, "specialCategories")):
        path = join("specialCategories", index)
        entry = check.shape(item, path, ("category", "condition"))
        if entry is None:
            continue
        category = check.choice(entry.get("category"), join(path, "category"), SpecialCategory)
        check.choice(entry.get("condition"), join(path, "condition"), Art9Condition, nullable=True)
        if category is not None:
            if category in seen:
                check.fail(join(path, "category"), f"repeats {category.value}")
            seen.append(category)


def _legal_bases(check: FieldChecks, value: Any) -> None:
    for index, item in enumerate(check.items(value, "legalBases")):
        path = join("legalBases", index)
        basis = check.shape(item, path, ("article", "purpose", "lia", "consentMechanism"))
        if basis is None:
            continue
        article = check.choice(basis.get("article"), join(path, "article"), LegalBasisArticle)
        purpose = check.text(basis.get("purpose"), join(path, "purpose"))
        lia = check.text(basis.get("lia"), join(path, "lia"))
        mechanism = check.text(basis.get("consentMechanism"), join(path, "consentMechanism"))
        # Legitimate interests are weighed for a stated purpose (Art. 6(1)(f), recital 47).
        if article is LegalBasisArticle.ART6_1_F and (purpose is None or not purpose.strip()):
            check.fail(join(path, "purpose"), "is required for legitimate interests")
        if lia is not None and article is not None and article is not LegalBasisArticle.ART6_1_F:
            check.fail(join(path, "lia"), "is only recorded for legitimate interests (ART6_1_F)")
        consent = LegalBasisArticle.ART6_1_A
        if mechanism is not None and article is not None and article is not consent:
            check.fail(join(path, "consentMechanism"), "is only recorded for consent (ART6_1_A)")


def validate_processor(state: State) -> None:
    check = FieldChecks()
    fields = (
        "id", "name", "legalName", "services", "country", "processingLocations",
        "dpaSignedOn", "dpaReference", "dpaDataCategories", "subProcessors", "certifications",
        "dpf", "status", "externalRef", "evidence",
    )  # fmt: skip
    s = check.shape(state, "", fields)
    if s is not None:
        check.uuid(s.get("id"), "id")
        check.text(s.get("name"), "name", required=True)
        check.text(s.get("legalName"), "legalName")
        check.texts(s.get("services"), "services")
        check.country(s.get("country"), "country")
        check.countries(s.get("processingLocations"), "processingLocations")
        check.date(s.get("dpaSignedOn"), "dpaSignedOn")
        check.text(s.get("dpaReference"), "dpaReference")
        check.keys(
            s.get("dpaDataCategories"), "dpaDataCategories", is_data_category, "data category"
        )
        for index, item in enumerate(check.items(s.get("subProcessors"), "subProcessors")):
            path = join("subProcessors", index)
            sub = check.shape(item, path, ("name", "country", "service"))
            if sub is not None:
                check.text(sub.get("name"), join(path, "name"), required=True)
                check.country(sub.get("country"), join(path, "country"))
                check.text(sub.get("service"), join(path, "service"))
        check.texts(s.get("certifications"), "certifications")
        check.boolean(s.get("dpf"), "dpf")
        check.choice(s.get("status"), "status", ProcessorStatus)
        ref = s.get("externalRef")
        check.text(ref, "externalRef", required=ref is not None)
        check_evidence(check, s.get("evidence"))
    check.raise_if_any()


def future_errors(state: State, now: datetime) -> list[FieldError]:
    """`lastReviewedAt` later than `now` (the time of recording) beyond a small clock skew.

    A review that has not happened yet is no review, and a date decades ahead would
    silence the review finding (REVIEW_OVERDUE) for as long.
    """
    reviewed = state.get("lastReviewedAt")
    if (
        isinstance(reviewed, str)
        and is_instant(reviewed)
        and parse_instant(reviewed) > now + breach.CLOCK_SKEW
    ):
        return [FieldError("lastReviewedAt", "is in the future: record a review once held")]
    return []


def name_key(text: Any) -> str:
    """A name as compared for duplicates: case, spacing and punctuation ignored."""
    if not isinstance(text, str):
        return ""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def validate_processor_engagement(state: State) -> None:
    check = FieldChecks()
    fields = ("id", "activityId", "processorId", "purpose", "dataCategories", "locations")
    s = check.shape(state, "", fields)
    if s is not None:
        check.uuid(s.get("id"), "id")
        check.uuid(s.get("activityId"), "activityId")
        check.uuid(s.get("processorId"), "processorId")
        check.text(s.get("purpose"), "purpose")
        check.keys(s.get("dataCategories"), "dataCategories", is_data_category, "data category")
        check.countries(s.get("locations"), "locations")
    check.raise_if_any()


def validate_transfer(state: State) -> None:
    check = FieldChecks()
    fields = (
        "id", "activityId", "recipientProcessorId", "recipientName", "fromCountry",
        "toCountry", "mechanism", "sccModule", "derogation", "tia", "supplementaryMeasures",
        "startedOn", "evidence",
    )  # fmt: skip
    s = check.shape(state, "", fields)
    if s is None:
        check.raise_if_any()
        return
    check.uuid(s.get("id"), "id")
    check.uuid(s.get("activityId"), "activityId")
    check.uuid(s.get("recipientProcessorId"), "recipientProcessorId", nullable=True)
    name = s.get("recipientName")
    check.text(name, "recipientName", required=name is not None)
    if s.get("recipientProcessorId") is None and name is None:
        check.fail("recipientName", "a transfer needs a recipient: a processor or a name")
    check.country(s.get("fromCountry"), "fromCountry")
    check.country(s.get("toCountry"), "toCountry")
    mechanism = check.choice(s.get("mechanism"), "mechanism", TransferMechanism, nullable=True)

    # Cross-field checks only judge a mechanism that could be read.
    readable = mechanism is not None or s.get("mechanism") is None
    module = s.get("sccModule")
    if module is not None and (type(module) is not int or not 1 <= module <= 4):
        check.fail("sccModule", "must be 1, 2, 3 or 4")
    elif mechanism is TransferMechanism.SCC and module is None:
        check.fail("sccModule", "is required with SCC: which module (1-4) was signed")
    elif module is not None and readable and mechanism is not TransferMechanism.SCC:
        check.fail("sccModule", "is only recorded when the mechanism is SCC")

    derogation = s.get("derogation")
    check.choice(derogation, "derogation", Art49Derogation, nullable=True)
    if mechanism is TransferMechanism.DEROGATION and derogation is None:
        check.fail("derogation", "is required with DEROGATION: the Art. 49(1) ground relied on")
    elif derogation is not None and readable and mechanism is not TransferMechanism.DEROGATION:
        check.fail("derogation", "is only recorded when the mechanism is DEROGATION")

    tia = check.shape(s.get("tia"), "tia", ("date", "reference"), nullable=True)
    if tia is not None:
        check.date(tia.get("date"), "tia.date", nullable=False)
        check.text(tia.get("reference"), "tia.reference")
    check.texts(s.get("supplementaryMeasures"), "supplementaryMeasures")
    check.date(s.get("startedOn"), "startedOn")
    check_evidence(check, s.get("evidence"))
    check.raise_if_any()


def validate_breach_incident(state: State) -> None:
    check = FieldChecks()
    fields = (
        "id", "title", "nature", "occurredAt", "discoveredAt", "containedAt",
        "dataSubjectCategories", "approxDataSubjects", "dataCategories", "approxRecords",
        "consequences", "measures", "risk", "authorityNotifications", "subjectCommunication",
        "subjectCommunicationExemption", "affectedActivityIds", "affectedProcessorIds",
        "status",
    )  # fmt: skip
    s = check.shape(state, "", fields)
    if s is None:
        check.raise_if_any()
        return
    check.uuid(s.get("id"), "id")
    check.text(s.get("title"), "title", required=True)
    check.text(s.get("nature"), "nature")
    check.instant(s.get("occurredAt"), "occurredAt")
    check.instant(s.get("discoveredAt"), "discoveredAt", nullable=False)
    check.instant(s.get("containedAt"), "containedAt")
    check.keys(
        s.get("dataSubjectCategories"), "dataSubjectCategories", is_data_subject, "data subject"
    )
    check.count(s.get("approxDataSubjects"), "approxDataSubjects")
    check.keys(s.get("dataCategories"), "dataCategories", is_data_category, "data category")
    check.count(s.get("approxRecords"), "approxRecords")
    check.text(s.get("consequences"), "consequences")
    check.text(s.get("measures"), "measures")
    check.choice(s.get("risk"), "risk", BreachRisk)

    notifications = s.get("authorityNotifications")
    for index, item in enumerate(check.items(notifications, "authorityNotifications")):
        path = join("authorityNotifications", index)
        notice = check.shape(
            item, path, ("authority", "notifiedAt", "reference", "phase", "delayReasons")
        )
        if notice is not None:
            check.text(notice.get("authority"), join(path, "authority"), required=True)
            check.instant(notice.get("notifiedAt"), join(path, "notifiedAt"), nullable=False)
            check.text(notice.get("reference"), join(path, "reference"))
            check.choice(notice.get("phase"), join(path, "phase"), NotificationPhase)
            check.text(notice.get("delayReasons"), join(path, "delayReasons"))

    communication = check.shape(
        s.get("subjectCommunication"),
        "subjectCommunication",
        ("notifiedAt", "channel"),
        nullable=True,
    )
    if communication is not None:
        check.instant(
            communication.get("notifiedAt"), "subjectCommunication.notifiedAt", nullable=False
        )
        check.text(communication.get("channel"), "subjectCommunication.channel", required=True)
    check.choice(
        s.get("subjectCommunicationExemption"),
        "subjectCommunicationExemption",
        Art34Exemption,
        nullable=True,
    )
    check.uuids(s.get("affectedActivityIds"), "affectedActivityIds")
    check.uuids(s.get("affectedProcessorIds"), "affectedProcessorIds")
    check.choice(s.get("status"), "status", BreachStatus)
    check.errors += breach.rule_errors(s)
    check.raise_if_any()


def validate_api_token(state: State) -> None:
    check = FieldChecks()
    fields = ("id", "name", "role", "tokenHash", "createdAt", "expiresAt", "revokedAt")
    s = check.shape(state, "", fields)
    if s is not None:
        check.uuid(s.get("id"), "id")
        check.text(s.get("name"), "name", required=True)
        check.choice(s.get("role"), "role", Role)
        digest = check.text(s.get("tokenHash"), "tokenHash", required=True)
        if digest is not None and not _SHA256.fullmatch(digest):
            check.fail("tokenHash", "must be the SHA-256 of the secret, in lower-case hex")
        created = check.instant(s.get("createdAt"), "createdAt", nullable=False)
        expires = check.instant(s.get("expiresAt"), "expiresAt")
        revoked = check.instant(s.get("revokedAt"), "revokedAt")
        if created and expires and expires <= created:
            check.fail("expiresAt", "must be after createdAt")
        if created and revoked and revoked < created:
            check.fail("revokedAt", "must not be before createdAt")
    check.raise_if_any()
