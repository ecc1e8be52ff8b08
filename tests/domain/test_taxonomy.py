from ropa.domain.taxonomy import (
    DATA_CATEGORIES,
    DATA_SUBJECTS,
    DATA_USES,
    is_covered_by,
    is_data_category,
    is_data_subject,
    is_data_use,
)


def test_fides_keys_are_known() -> None:
    assert is_data_category("user.contact.email")
    assert is_data_category("user.health_and_medical")
    assert is_data_subject("customer")
    assert is_data_subject("employee")
    assert is_data_use("marketing.communications")
    assert is_data_use("essential.service")


def test_unknown_and_misplaced_keys_are_not() -> None:
    assert not is_data_category("user.contact.carrier_pigeon")
    assert not is_data_category("customer")
    assert not is_data_subject("user.contact.email")
    assert not is_data_use("")
    assert not is_data_category("USER.CONTACT.EMAIL")


def test_the_three_vocabularies_are_disjoint_and_not_empty() -> None:
    assert DATA_CATEGORIES
    assert DATA_SUBJECTS
    assert DATA_USES
    assert not DATA_CATEGORIES & DATA_SUBJECTS
    assert not DATA_CATEGORIES & DATA_USES


def test_a_key_is_covered_by_itself_and_its_ancestors_only() -> None:
    assert is_covered_by("user.contact.email", ["user.contact.email"])
    assert is_covered_by("user.contact.email", ["user.contact"])
    assert is_covered_by("user.contact.email", ["user"])
    assert not is_covered_by("user.contact", ["user.contact.email"])
    assert not is_covered_by("user.contact_list", ["user.contact"])
    assert not is_covered_by("user.contact.email", [])
