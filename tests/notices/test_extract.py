"""The analyser reads each kind of disclosure from short notices written for these tests."""

from __future__ import annotations

from typing import Any

import pytest

from ropa.notices import analyze


def _keys(result: dict[str, list[dict[str, Any]]], field: str, attr: str) -> list[Any]:
    return [item[attr] for item in result[field]]


def _evidence(text: str, item: dict[str, Any]) -> list[str]:
    return [text[start:end] for start, end in item["spans"]]


def test_gazetteer_finds_vendors_by_name_and_alias_with_their_legal_entity() -> None:
    text = "We send newsletters with Mailchimp and keep files on Amazon S3 and in Azure."
    result = analyze(text)
    parties = {item["name"]: item for item in result["thirdParties"]}
    assert parties["Mailchimp"]["canonical"] == "The Rocket Science Group LLC"
    assert _evidence(text, parties["Amazon Web Services"]) == ["Amazon S3"]
    assert _evidence(text, parties["Microsoft"]) == ["Azure"]


def test_gazetteer_matches_names_in_any_case_and_merges_mentions_of_one_vendor() -> None:
    text = "Tickets live in FreshDesk. Freshdesk also sends our support e-mails."
    result = analyze(text)
    assert len(result["thirdParties"]) == 1
    item = result["thirdParties"][0]
    assert item["canonical"] == "Freshworks Inc."
    assert _evidence(text, item) == ["FreshDesk", "Freshdesk"]


def test_common_word_vendor_names_count_only_mid_sentence_in_their_case() -> None:
    text = "Segment your audience as you like. We pay through Stripe. A stripe of colour."
    names = _keys(analyze(text), "thirdParties", "name")
    assert names == ["Stripe"]


def test_unknown_organisations_are_found_by_how_the_notice_introduces_them() -> None:
    text = (
        "We use Parcelbird to ship orders. Hosting is provided by Nimbostrata. "
        "Invoices go to Ledgerwise Accounting Ltd for bookkeeping. "
        "We share data with partners such as Quillfeather and Tandem Loop."
    )
    result = analyze(text)
    by_name = {item["name"]: item for item in result["thirdParties"]}
    assert set(by_name) == {
        "Parcelbird", "Nimbostrata", "Ledgerwise Accounting Ltd", "Quillfeather", "Tandem Loop",
    }  # fmt: skip
    assert all(item["canonical"] is None for item in by_name.values())
    assert _evidence(text, by_name["Tandem Loop"]) == ["Tandem Loop"]


def test_generic_recipients_are_not_reported_as_named_parties() -> None:
    text = (
        "We share personal data with our service providers, Third Parties, affiliates and "
        "vendors such as payment processors. Our Affiliates and Service Providers may help."
    )
    assert analyze(text)["thirdParties"] == []


def test_the_notices_own_organisation_and_its_products_are_not_recipients() -> None:
    text = (
        "Brindlewood Privacy Policy\nBrindlewood, Inc. respects your privacy. Brindlewood "
        "offers services including Brindlewood Chat, Reports and Inbox. Brindlewood may use "
        "cookies."
    )
    assert analyze(text)["thirdParties"] == []


def test_capitalised_adjectives_are_not_organisations() -> None:
    text = "Providers such as Social Security numbers and Health Records systems are excluded."
    assert analyze(text)["thirdParties"] == []


def test_countries_where_data_is_stored_are_reported_with_iso_codes() -> None:
    text = "Your data is stored on servers in Germany, the USA and Republic of Indonesia."
    result = analyze(text)
    assert _keys(result, "countries", "code") == ["DE", "US", "ID"]
    assert _evidence(text, result["countries"][2]) == ["Republic of Indonesia"]


def test_countries_merely_mentioned_are_not_places_of_processing() -> None:
    text = "These terms follow the laws of France.\nCall us on +44 20 0000 0000 (UK).\nContact us."
    assert analyze(text)["countries"] == []


def test_regions_are_named_by_their_short_names() -> None:
    text = (
        "Data is hosted in the European Economic Area. Data is stored in the EU. "
        "Backups are kept in the EEA."
    )
    result = analyze(text)
    assert _keys(result, "regions", "name") == ["EEA", "EU"]
    assert _evidence(text, result["regions"][0]) == ["European Economic Area", "EEA"]


def test_places_after_outside_are_where_data_is_not() -> None:
    text = "We may transfer data outside the UK or the EEA, for example to India."
    result = analyze(text)
    assert _keys(result, "countries", "code") == ["IN"]
    assert result["regions"] == []


def test_list_items_read_with_the_sentence_that_introduces_them() -> None:
    text = "Your data is stored in:\n- Norway\n- Brazil\n\nWe were founded in Chile.\n- Peru"
    assert _keys(analyze(text), "countries", "code") == ["NO", "BR"]


def test_contract_and_consent_in_transfer_sentences_are_derogations_not_bases() -> None:
    text = (
        "We transfer data abroad only where:\n- you gave your explicit consent;\n"
        "- the transfer is necessary for the performance of a contract with you."
    )
    result = analyze(text)
    assert result["legalBases"] == []
    assert _keys(result, "transferMechanisms", "mechanism") == ["DEROGATION"]


def test_names_on_a_care_of_line_are_addresses_not_recipients() -> None:
    text = "Our DPO:\nJane Roe\nc/o Lindqvist & Berg GmbH & Co. KG\nMain Street 1"
    assert analyze(text)["thirdParties"] == []


def test_the_organisations_own_contact_details_are_not_collected_data() -> None:
    text = "Name and address of the controller: see below. Write to our contact details below."
    assert analyze(text)["dataCategories"] == []


def test_data_categories_map_wording_to_fides_keys() -> None:
    text = (
        "We collect your full name, e-mail address, IP address, date of birth, "
        "credit card details and browsing history."
    )
    keys = _keys(analyze(text), "dataCategories", "key")
    assert keys == [
        "user.name", "user.contact.email", "user.device.ip_address",
        "user.demographic.date_of_birth", "user.financial.credit_card",
        "user.behavior.browsing_history",
    ]  # fmt: skip


def test_list_words_count_as_categories_only_inside_a_list() -> None:
    listed = analyze("Contact information (name, email, phone, address)")
    assert {"user.name", "user.contact.email", "user.contact.phone_number"} <= set(
        _keys(listed, "dataCategories", "key")
    )
    prose = analyze("Write to the address shown below if you like our name")
    assert prose["dataCategories"] == []


def test_data_uses_map_purposes_to_fides_keys() -> None:
    text = "We use data to prevent fraud, for analytics, and to send newsletters and ads."
    keys = _keys(analyze(text), "dataUses", "key")
    assert keys == [
        "essential.fraud_detection", "analytics.reporting", "marketing.communications",
        "marketing.advertising",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("sentence", "article"),
    [
        ("We process this data with your consent.", "ART6_1_A"),
        ("Processing is necessary for the performance of a contract with you.", "ART6_1_B"),
        ("We keep invoices to meet a legal obligation.", "ART6_1_C"),
        ("We may share data to protect your vital interests.", "ART6_1_D"),
        ("We act in the public interest.", "ART6_1_E"),
        ("We rely on our legitimate interests.", "ART6_1_F"),
    ],
)
def test_each_lawful_basis_is_named_by_its_api_value(sentence: str, article: str) -> None:
    result = analyze(sentence)
    assert _keys(result, "legalBases", "article") == [article]


@pytest.mark.parametrize(
    ("sentence", "mechanism"),
    [
        ("Transfers rely on the Standard Contractual Clauses.", "SCC"),
        ("Our US vendor is certified under the EU-U.S. Data Privacy Framework.", "DPF"),
        ("Our group follows Binding Corporate Rules.", "BCR"),
        ("Japan is covered by an adequacy decision.", "ADEQUACY"),
        ("We transfer data abroad with your explicit consent.", "DEROGATION"),
    ],
)
def test_each_transfer_mechanism_is_named_by_its_api_value(sentence: str, mechanism: str) -> None:
    result = analyze(sentence)
    assert _keys(result, "transferMechanisms", "mechanism") == [mechanism]


def test_the_invalidated_privacy_shield_is_not_a_transfer_mechanism() -> None:
    assert analyze("Our vendor joined the EU-U.S. Privacy Shield.")["transferMechanisms"] == []


def test_explicit_consent_without_a_transfer_is_no_derogation() -> None:
    result = analyze("You give your explicit consent to receive our newsletter.")
    assert result["transferMechanisms"] == []


@pytest.mark.parametrize(
    ("sentence", "period", "quoted"),
    [
        ("We retain your account data for two years after closure.", "P2Y", "two years"),
        ("Logs are deleted after 30 days.", "P30D", "30 days"),
        ("We keep CVs for 6 months.", "P6M", "6 months"),
        ("Invoices are stored for a 10-year period.", "P10Y", "10-year"),
        ("Records are kept for twelve (12) months.", "P12M", "twelve (12) months"),
        ("Temporary files are deleted within 48 hours.", "PT48H", "48 hours"),
    ],
)
def test_retention_periods_become_iso_8601_durations(
    sentence: str, period: str, quoted: str
) -> None:
    (item,) = analyze(sentence)["retention"]
    assert item["period"] == period
    assert item["text"] == quoted
    assert _evidence(sentence, item) == [quoted]


def test_periods_outside_retention_sentences_are_not_retention() -> None:
    text = "We answer requests within 30 days. You may ask about the last 12 months."
    assert analyze(text)["retention"] == []


def test_contacts_take_their_kind_from_the_sentence_around_the_address() -> None:
    text = (
        "You can reach our Data Protection Officer at dpo.office@example.org. "
        "Our EU representative is reachable at rep@example.eu. "
        "For privacy questions write to privacy@example.org. "
        "Sales: hello@example.org."
    )
    result = analyze(text)
    pairs = [(c["kind"], c["email"]) for c in result["contacts"]]
    assert pairs == [
        ("DPO", "dpo.office@example.org"),
        ("REPRESENTATIVE", "rep@example.eu"),
        ("PRIVACY", "privacy@example.org"),
        ("GENERAL", "hello@example.org"),
    ]
    assert _evidence(text, result["contacts"][0]) == ["dpo.office@example.org"]


def test_one_address_mentioned_twice_takes_its_most_specific_kind() -> None:
    text = "Write to info@example.org. Our Data Protection Officer reads info@example.org too."
    (contact,) = analyze(text)["contacts"]
    assert contact["kind"] == "DPO"
    assert len(contact["spans"]) == 2


def test_every_span_points_at_its_evidence_and_items_come_in_order() -> None:
    text = (
        "We store your email address in Ireland with Google Analytics, under our legitimate "
        "interests, and keep it for 3 years. Contact dpo@example.com, our DPO."
    )
    result = analyze(text)
    assert list(result) == [
        "thirdParties", "countries", "regions", "dataCategories", "dataUses", "legalBases",
        "transferMechanisms", "retention", "contacts",
    ]  # fmt: skip
    for items in result.values():
        firsts = [item["spans"][0] for item in items]
        assert firsts == sorted(firsts)
        for item in items:
            assert item["spans"] == sorted(item["spans"])
            for start, end in item["spans"]:
                assert 0 <= start < end <= len(text)
    assert _evidence(text, result["countries"][0]) == ["Ireland"]
    assert _evidence(text, result["legalBases"][0]) == ["legitimate interests"]


def test_the_same_text_gives_the_same_result() -> None:
    text = "We use HubSpot and Zendesk, store data in Canada and keep it for 5 years."
    assert analyze(text) == analyze(text) == analyze(str(text))


def test_an_unknown_media_type_is_refused() -> None:
    with pytest.raises(ValueError, match="media type"):
        analyze("text", "application/pdf")


def test_names_listed_beside_known_vendors_are_recipients() -> None:
    text = "Processors: Vercel (hosting), Tidemark (database), Stripe (payments) and Orrin (mail)."
    names = _keys(analyze(text), "thirdParties", "name")
    assert names == ["Vercel", "Tidemark", "Stripe", "Orrin"]


def test_a_heading_frames_the_lines_below_it() -> None:
    text = "RETENTION PERIODS\nInvoices: 10 years\nSupport tickets: 2 years\nCONTACT\nReply: 3 days"
    periods = _keys(analyze(text), "retention", "period")
    assert periods == ["P10Y", "P2Y"]


def test_one_phrase_can_state_a_basis_and_a_use() -> None:
    result = analyze("We keep invoices to comply with a legal obligation.")
    assert _keys(result, "legalBases", "article") == ["ART6_1_C"]
    assert "essential.legal_obligation" in _keys(result, "dataUses", "key")


def test_a_column_header_is_not_a_data_category() -> None:
    assert analyze("Recipient\nPurpose\nLocation\nStripe\nPayments\nUSA")["dataCategories"] == []


def test_the_organisation_that_uses_the_processors_is_not_one_of_them() -> None:
    text = "This page lists the sub-processors that Brightwater AB uses: Stripe (payments)."
    assert _keys(analyze(text), "thirdParties", "name") == ["Stripe"]
