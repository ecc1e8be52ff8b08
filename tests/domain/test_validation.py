from collections.abc import Callable
from copy import deepcopy
from typing import Any

import pytest

from ropa.domain.validation import (
    validate_api_token,
    validate_breach_incident,
    validate_organization,
    validate_privacy_policy,
    validate_processing_activity,
    validate_processor,
    validate_processor_engagement,
    validate_transfer,
)
from ropa.errors import ValidationError

State = dict[str, Any]
Validator = Callable[[State], None]


def problems(validate: Validator, state: State) -> dict[str, str]:
    """The offending fields of `state`, each with its message."""
    with pytest.raises(ValidationError) as caught:
        validate(state)
    return {error.field: error.message for error in caught.value.errors}


@pytest.mark.parametrize(
    ("validate", "fixture"),
    [
        (validate_organization, "organization"),
        (validate_privacy_policy, "policy"),
        (validate_processing_activity, "activity"),
        (validate_processor, "processor"),
        (validate_processor_engagement, "engagement"),
        (validate_transfer, "transfer"),
        (validate_breach_incident, "breach"),
        (validate_api_token, "token"),
    ],
)
def test_complete_valid_states_pass(
    validate: Validator, fixture: str, request: pytest.FixtureRequest
) -> None:
    state = request.getfixturevalue(fixture)
    before = deepcopy(state)
    validate(state)
    assert state == before


def test_a_state_must_carry_every_field_and_no_other(activity: State) -> None:
    del activity["owner"]
    activity["colour"] = "blue"
    assert problems(validate_processing_activity, activity) == {
        "owner": "is missing",
        "colour": "is not a field of this record",
    }


def test_a_state_must_be_an_object() -> None:
    assert problems(validate_transfer, [])  # type: ignore[arg-type]


# Organization


def test_organization_reports_every_offending_field_at_once(organization: State) -> None:
    organization.update(
        slug="Acme EU",
        name="  ",
        roles=[],
        country="EU",
        contactEmail="privacy.acme.example",
        id="not-a-uuid",
    )
    organization["dpo"]["email"] = "dpo@"
    assert set(problems(validate_organization, organization)) == {
        "id",
        "slug",
        "name",
        "roles",
        "country",
        "contactEmail",
        "dpo.email",
    }


@pytest.mark.parametrize("slug", ["a", "x" * 64, "acme_eu", "ACME", "acmé"])
def test_organization_slug_format(organization: State, slug: str) -> None:
    organization["slug"] = slug
    assert "slug" in problems(validate_organization, organization)


def test_organization_roles_come_from_the_vocabulary_once_each(organization: State) -> None:
    organization["roles"] = ["CONTROLLER", "OWNER", "CONTROLLER"]
    assert set(problems(validate_organization, organization)) == {"roles.1", "roles.2"}


def test_eu_representative_sits_in_the_eea(organization: State) -> None:
    organization["euRepresentative"] = {
        "name": "Rep Ltd",
        "email": "rep@example.com",
        "address": None,
        "country": "GB",
    }
    assert "Art. 27" in problems(validate_organization, organization)["euRepresentative.country"]
    organization["euRepresentative"]["country"] = "IE"
    validate_organization(organization)


def test_dpo_needs_a_name(organization: State) -> None:
    organization["dpo"] = {"name": None, "email": None, "phone": None}
    assert problems(validate_organization, organization) == {"dpo.name": "is required"}


# Privacy policy


def test_privacy_policy_fields(policy: State) -> None:
    policy.update(version="", effectiveDate="15/01/2026", url="acme.example", sha256="ABC")
    assert set(problems(validate_privacy_policy, policy)) == {
        "version",
        "effectiveDate",
        "url",
        "sha256",
    }


# Processing activity


def test_unknown_taxonomy_keys_are_named_by_position(activity: State) -> None:
    activity["dataCategories"] = ["user.contact.email", "user.name", "user.shoe_size"]
    activity["dataSubjectCategories"] = ["martian"]
    activity["dataUses"] = ["essential", "world_domination"]
    assert set(problems(validate_processing_activity, activity)) == {
        "dataCategories.2",
        "dataSubjectCategories.0",
        "dataUses.1",
    }


def test_repeated_keys_are_refused(activity: State) -> None:
    activity["dataCategories"] = ["user.name", "user.name"]
    assert problems(validate_processing_activity, activity) == {
        "dataCategories.1": "repeats 'user.name'"
    }


def test_legitimate_interests_need_a_purpose(activity: State) -> None:
    activity["legalBases"].append(
        {"article": "ART6_1_F", "purpose": None, "lia": "LIA-1", "consentMechanism": None}
    )
    assert set(problems(validate_processing_activity, activity)) == {"legalBases.1.purpose"}


def test_legal_basis_details_belong_to_their_article(activity: State) -> None:
    activity["legalBases"][0].update(lia="LIA-1", consentMechanism="checkbox")
    activity["legalBases"].append(
        {"article": "ART6_2_Z", "purpose": "x", "lia": None, "consentMechanism": None}
    )
    assert set(problems(validate_processing_activity, activity)) == {
        "legalBases.0.lia",
        "legalBases.0.consentMechanism",
        "legalBases.1.article",
    }


def test_special_categories_come_from_art_9(activity: State) -> None:
    activity["specialCategories"] = [
        {"category": "HEALTH", "condition": "ART9_2_H"},
        {"category": "SHOE_SIZE", "condition": None},
        {"category": "HEALTH", "condition": "ART9_2_Z"},
    ]
    assert set(problems(validate_processing_activity, activity)) == {
        "specialCategories.1.category",
        "specialCategories.2.category",
        "specialCategories.2.condition",
    }


def test_a_missing_art_9_condition_is_a_finding_not_a_refusal(activity: State) -> None:
    activity["specialCategories"] = [{"category": "HEALTH", "condition": None}]
    validate_processing_activity(activity)


def test_processor_activities_name_their_controller(activity: State) -> None:
    activity["role"] = "PROCESSOR"
    assert set(problems(validate_processing_activity, activity)) == {"controller"}
    activity["controller"] = {
        "name": "Client AG",
        "contact": "legal@client.example",
        "country": "AT",
    }
    validate_processing_activity(activity)


def test_only_processor_activities_name_a_controller(activity: State) -> None:
    activity["controller"] = {"name": "Client AG", "contact": None, "country": "XX"}
    assert set(problems(validate_processing_activity, activity)) == {
        "controller",
        "controller.country",
    }


def test_joint_controllers_are_named_for_joint_activities_only(activity: State) -> None:
    activity["role"] = "JOINT_CONTROLLER"
    assert set(problems(validate_processing_activity, activity)) == {"jointControllers"}
    activity["jointControllers"] = [{"name": "Partner SA", "contact": None, "country": "FR"}]
    validate_processing_activity(activity)
    activity["role"] = "CONTROLLER"
    assert set(problems(validate_processing_activity, activity)) == {"jointControllers"}


@pytest.mark.parametrize("period", ["2 years", "P2.5Y", "P", "PT", "P1D1Y", "p2y"])
def test_retention_period_is_an_iso_8601_duration(activity: State, period: str) -> None:
    activity["retention"]["period"] = period
    assert set(problems(validate_processing_activity, activity)) == {"retention.period"}


@pytest.mark.parametrize("period", ["P2Y", "P18M", "P6M2W", "P30D", "PT72H", "P1Y6M"])
def test_retention_periods_that_are_durations_pass(activity: State, period: str) -> None:
    activity["retention"]["period"] = period
    validate_processing_activity(activity)


def test_retention_is_a_period_a_trigger_or_null(activity: State) -> None:
    activity["retention"] = {"period": None, "trigger": "after account closure"}
    validate_processing_activity(activity)
    activity["retention"] = None
    validate_processing_activity(activity)
    activity["retention"] = {"period": None, "trigger": None}
    assert set(problems(validate_processing_activity, activity)) == {"retention"}


def test_a_done_dpia_is_dated(activity: State) -> None:
    activity["dpia"] = {"status": "DONE", "date": None, "reference": "DPIA-1"}
    assert set(problems(validate_processing_activity, activity)) == {"dpia.date"}
    activity["dpia"]["date"] = "2026-02-01"
    validate_processing_activity(activity)


def test_activity_scalars(activity: State) -> None:
    activity.update(
        name="",
        role="OWNER",
        criminalOffenceData="no",
        sources=["DATA_SUBJECT", "RUMOUR"],
        status="LIVE",
        lastReviewedAt="2026-06-01",
        largeScale=None,
        purposes=["", "ok"],
    )
    activity["automatedDecisionMaking"] = {"description": "Scoring", "legalEffect": "yes"}
    assert set(problems(validate_processing_activity, activity)) == {
        "name",
        "role",
        "criminalOffenceData",
        "sources.1",
        "status",
        "lastReviewedAt",
        "largeScale",
        "purposes.0",
        "automatedDecisionMaking.legalEffect",
    }


# Processor and engagement


def test_processor_fields(processor: State) -> None:
    processor.update(
        name=" ",
        country="USA",
        processingLocations=["US", "Mars"],
        dpaSignedOn="yesterday",
        dpaDataCategories=["user.contact", "user.aura"],
        dpf="true",
        status="PAUSED",
        externalRef="",
    )
    processor["subProcessors"].append({"name": "", "country": "EU", "service": None})
    assert set(problems(validate_processor, processor)) == {
        "name",
        "country",
        "processingLocations.1",
        "dpaSignedOn",
        "dpaDataCategories.1",
        "dpf",
        "status",
        "externalRef",
        "subProcessors.1.name",
        "subProcessors.1.country",
    }


def test_engagement_fields(engagement: State) -> None:
    engagement.update(
        activityId="00000000-0000-4000-8000-00000000000A",
        processorId=None,
        dataCategories=["user.unknown"],
        locations=["US", "US"],
    )
    assert set(problems(validate_processor_engagement, engagement)) == {
        "activityId",
        "processorId",
        "dataCategories.0",
        "locations.1",
    }


# Transfer


def test_scc_needs_its_module(transfer: State) -> None:
    transfer["sccModule"] = None
    assert set(problems(validate_transfer, transfer)) == {"sccModule"}


@pytest.mark.parametrize("module", [0, 5, "2", True, 2.0])
def test_scc_module_is_one_to_four(transfer: State, module: object) -> None:
    transfer["sccModule"] = module
    assert set(problems(validate_transfer, transfer)) == {"sccModule"}


def test_a_scc_module_without_scc_is_refused(transfer: State) -> None:
    transfer["mechanism"] = "BCR"
    assert set(problems(validate_transfer, transfer)) == {"sccModule"}


def test_derogation_needs_its_ground_and_only_it_has_one(transfer: State) -> None:
    transfer.update(mechanism="DEROGATION", sccModule=None)
    assert set(problems(validate_transfer, transfer)) == {"derogation"}
    transfer["derogation"] = "ART49_1_B"
    validate_transfer(transfer)
    transfer["mechanism"] = "ADEQUACY"
    assert set(problems(validate_transfer, transfer)) == {"derogation"}


def test_a_transfer_has_a_recipient(transfer: State) -> None:
    transfer["recipientProcessorId"] = None
    assert set(problems(validate_transfer, transfer)) == {"recipientName"}
    transfer["recipientName"] = "Acme Inc. (parent company)"
    validate_transfer(transfer)


def test_a_transfer_without_a_mechanism_is_a_finding_not_a_refusal(transfer: State) -> None:
    transfer.update(mechanism=None, sccModule=None)
    validate_transfer(transfer)


def test_a_transfer_within_one_country_is_allowed(transfer: State) -> None:
    transfer["toCountry"] = "DE"
    validate_transfer(transfer)


def test_transfer_fields(transfer: State) -> None:
    transfer.update(
        fromCountry="EU", toCountry="us", mechanism="TRUST_ME", startedOn="2025", derogation="X"
    )
    transfer["tia"] = {"date": None, "reference": None}
    assert set(problems(validate_transfer, transfer)) == {
        "fromCountry",
        "toCountry",
        "mechanism",
        "startedOn",
        "derogation",
        "tia.date",
    }


# Breach incident


def test_a_breach_is_not_discovered_or_contained_before_it_occurs(breach: State) -> None:
    breach["discoveredAt"] = "2026-10-31T08:00:00.000000Z"
    breach["containedAt"] = "2026-10-31T07:00:00.000000Z"
    breach["authorityNotifications"][0]["notifiedAt"] = "2026-11-01T09:00:00.000000Z"
    assert set(problems(validate_breach_incident, breach)) == {"discoveredAt", "containedAt"}


def test_the_authority_is_not_notified_before_discovery(breach: State) -> None:
    breach["authorityNotifications"][0]["notifiedAt"] = "2026-11-02T09:59:59.999999Z"
    assert set(problems(validate_breach_incident, breach)) == {
        "authorityNotifications.0.notifiedAt"
    }


def test_breach_counts_are_whole_and_not_negative(breach: State) -> None:
    breach.update(approxDataSubjects=-1, approxRecords=2.5)
    assert set(problems(validate_breach_incident, breach)) == {
        "approxDataSubjects",
        "approxRecords",
    }


def test_breach_fields(breach: State) -> None:
    breach.update(
        title="",
        discoveredAt=None,
        risk="SEVERE",
        status="DONE",
        subjectCommunicationExemption="ART34_3_D",
        affectedActivityIds=["nope"],
        dataSubjectCategories=["user.name"],
    )
    breach["authorityNotifications"][0].update(authority="", phase="LAST")
    breach["subjectCommunication"] = {"notifiedAt": "soon", "channel": ""}
    assert set(problems(validate_breach_incident, breach)) == {
        "title",
        "discoveredAt",
        "risk",
        "status",
        "subjectCommunicationExemption",
        "affectedActivityIds.0",
        "dataSubjectCategories.0",
        "authorityNotifications.0.authority",
        "authorityNotifications.0.phase",
        "subjectCommunication.notifiedAt",
        "subjectCommunication.channel",
    }


def test_breach_rules_are_reported_with_the_shape_errors(breach: State) -> None:
    breach["status"] = "CLOSED"
    breach["containedAt"] = None
    breach["title"] = ""
    assert set(problems(validate_breach_incident, breach)) == {"title", "containedAt"}


# API token


def test_token_fields(token: State) -> None:
    token.update(role="ROOT", tokenHash="secret", expiresAt="2026-10-01T00:00:00.000000Z")
    assert set(problems(validate_api_token, token)) == {"role", "tokenHash", "expiresAt"}


def test_errors_carry_the_fields_in_their_message(transfer: State) -> None:
    transfer["sccModule"] = None
    with pytest.raises(ValidationError, match=r"sccModule: is required with SCC"):
        validate_transfer(transfer)
