"""Drafting records from a privacy notice: DRAFT records with evidence, once, in one commit.

A DPO then accepts, edits or discards each draft with the ordinary mutations; drafts do
not count as records for the notice findings until accepted.
"""

from __future__ import annotations

import pytest

from ropa.errors import ForbiddenError, NotFoundError, ValidationError
from ropa.services import activities, findings, ledger_queries, processors, reads
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.notice_drafts import draft_records_from_notice
from ropa.services.runtime import Runtime
from tests.compliance.notice_fixtures import Notice, publish
from tests.conftest import Org


def _notice() -> Notice:
    return (
        Notice()
        .says("Tickets go to Freshdesk.", "thirdParties", "Freshdesk",
              name="Freshdesk", canonical="Freshworks Inc.")
        .says("We share contacts with HubSpot.", "thirdParties", "HubSpot",
              name="HubSpot", canonical="HubSpot, Inc.")
        .says("Our cloud is AWS.", "thirdParties", "AWS",
              name="AWS", canonical="Amazon Web Services, Inc.")
        .says("Amazon Web Services hosts backups.", "thirdParties", "Amazon Web Services",
              name="Amazon Web Services", canonical="Amazon Web Services, Inc.")
        .says("We advertise to you.", "dataUses", "advertise", key="marketing.advertising")
        .says("We run the service.", "dataUses", "run the service", key="essential.service")
        .says("We collect your e-mail address.", "dataCategories", "e-mail address",
              key="user.contact.email")
        .says("We rely on your consent.", "legalBases", "consent", article="ART6_1_A")
        .says("We keep data for two years.", "retention", "two years", text="two years",
              period="P2Y")
        .says("Data is stored in the United States.", "countries", "United States",
              code="US")
        .says("Transfers rely on the Data Privacy Framework.", "transferMechanisms",
              "Data Privacy Framework", mechanism="DPF")
    )  # fmt: skip


def test_drafts_are_created_once_with_evidence_and_one_receipt_each(rt: Runtime, org: Org) -> None:
    dpo = org.as_role("DPO")
    processors.register_processor(
        rt, dpo, {"name": "Freshdesk", "legalName": "Freshworks Inc.", "country": "US"}
    )
    notice = _notice()
    policy = publish(rt, dpo, notice, "v1", "2020-01-01").record
    text = notice.text()

    drafts = draft_records_from_notice(rt, dpo, policy["id"])
    # Freshdesk is recorded; AWS and Amazon Web Services are one vendor
    assert [p["name"] for p in drafts.processors] == ["HubSpot", "AWS"]
    assert [a["dataUses"] for a in drafts.activities] == [
        ["marketing.advertising"],
        ["essential.service"],
    ]
    (transfer,) = drafts.transfers
    assert (transfer["fromCountry"], transfer["toCountry"], transfer["mechanism"]) == (
        "DE", "US", "DPF"
    )  # fmt: skip
    states = [*drafts.processors, *drafts.activities, *drafts.transfers]
    assert all(s.get("status", "DRAFT") == "DRAFT" for s in states)
    for state in states:
        evidence = state["evidence"]
        assert evidence["policyId"] == policy["id"] and evidence["spans"]
    # seat and services come from the vendor gazetteer
    assert drafts.processors[0]["country"] == "US"
    assert "CRM" in drafts.processors[0]["services"]
    hubspot = drafts.processors[0]["evidence"]
    assert hubspot["about"] == "thirdParty:HubSpot, Inc."
    assert [text[s:e] for s, e in hubspot["spans"]] == ["HubSpot"]
    first = drafts.activities[0]
    assert first["legalBases"][0]["article"] == "ART6_1_A"
    assert first["retention"]["period"] == "P2Y"
    assert first["dataCategories"] == ["user.contact.email"]

    # one ledger entry per draft, all sealed by the same commit, each with its receipt
    assert [r.entity_id for r in drafts.receipts] == [s["id"] for s in states]
    assert len({r.checkpoint for r in drafts.receipts}) == 1
    entry = ledger_queries.history(rt, dpo, org.id, drafts.processors[0]["id"])[0]
    assert entry.op == "draftRecordsFromNotice" and entry.after == drafts.processors[0]

    again = draft_records_from_notice(rt, dpo, policy["id"])
    assert (again.processors, again.activities, again.transfers, again.receipts) == (
        [], [], [], []
    )  # fmt: skip


def test_a_dpo_accepts_edits_or_discards_drafts_with_the_ordinary_mutations(
    rt: Runtime, org: Org
) -> None:
    dpo = org.as_role("DPO")
    policy = publish(rt, dpo, _notice(), "v1", "2020-01-01").record
    drafts = draft_records_from_notice(rt, dpo, policy["id"])
    freshdesk, hubspot, aws = (p["id"] for p in drafts.processors)
    advertising, service = (a["id"] for a in drafts.activities)

    view, _ = reads.open_view(rt, dpo, org.slug)
    found = findings.findings(rt, SYSTEM_PRINCIPAL, view)
    pending = {f.entity_id for f in found if f.code == "NOTICE_DRAFT_PENDING"}
    assert pending == {freshdesk, hubspot, aws, advertising, service}
    codes = {f.code for f in findings.findings(rt, SYSTEM_PRINCIPAL, view)}
    # drafts are not records yet: what the notice names is still missing from them
    assert "NOTICE_THIRD_PARTY_NOT_RECORDED" in codes

    accepted = processors.update_processor(
        rt, dpo, hubspot, {"status": "ACTIVE", "services": ["CRM"]}
    )
    assert accepted.record["status"] == "ACTIVE" and accepted.record["evidence"]
    assert processors.retire_processor(rt, dpo, aws).record["status"] == "RETIRED"
    processors.retire_processor(rt, dpo, freshdesk)
    activities.update_processing_activity(rt, dpo, service, {"status": "ACTIVE"})
    activities.retire_processing_activity(rt, dpo, advertising)

    view, _ = reads.open_view(rt, dpo, org.slug)
    found = findings.findings(rt, SYSTEM_PRINCIPAL, view)
    assert not [f for f in found if f.code == "NOTICE_DRAFT_PENDING"]
    # accepting a draft of the notice's own disclosures does not make the notice outdated
    assert not [f for f in found if f.code == "NOTICE_OUTDATED"]
    not_recorded = [f.message for f in found if f.code == "NOTICE_THIRD_PARTY_NOT_RECORDED"]
    assert not any("HubSpot" in m for m in not_recorded)
    # a discarded draft is not drafted again
    assert draft_records_from_notice(rt, dpo, policy["id"]).receipts == []


def test_drafting_needs_an_analysed_version_of_the_callers_organisation(
    rt: Runtime, org: Org, other_org: Org
) -> None:
    from ropa.services import policies

    dpo = org.as_role("DPO")
    bare = policies.publish_privacy_policy(
        rt, dpo, {"version": "bare", "effectiveDate": "2020-01-01", "url": "https://a.example"}
    ).record
    with pytest.raises(ValidationError, match="policyId"):
        draft_records_from_notice(rt, dpo, bare["id"])
    with pytest.raises(NotFoundError):
        draft_records_from_notice(rt, other_org.as_role("DPO"), bare["id"])


@pytest.mark.parametrize("role", ["VIEWER", "AUDITOR"])
def test_a_reader_may_not_draft(rt: Runtime, org: Org, role: str) -> None:
    policy = publish(rt, org.as_role("DPO"), _notice(), "v1", "2020-01-01").record
    with pytest.raises(ForbiddenError):
        draft_records_from_notice(rt, org.as_role(role), policy["id"])
    assert draft_records_from_notice(rt, org.as_role("EDITOR"), policy["id"]).receipts
