import pytest

from ropa.domain.countries import EEA, EU_MEMBER_STATES, country_name, is_country, is_eea


def test_alpha_2_codes_are_countries() -> None:
    assert is_country("DE")
    assert is_country("US")
    assert is_country("FO")
    assert is_country("GG")


@pytest.mark.parametrize("code", ["EU", "de", "DEU", "", "UK", "XX"])
def test_other_spellings_are_not(code: str) -> None:
    assert not is_country(code)


def test_the_eea_is_the_27_member_states_with_iceland_liechtenstein_and_norway() -> None:
    assert len(EU_MEMBER_STATES) == 27
    efta_members = EEA - EU_MEMBER_STATES
    assert efta_members == {"IS", "LI", "NO"}
    assert EU_MEMBER_STATES <= EEA
    assert all(is_country(code) for code in EEA)


def test_eea_membership() -> None:
    assert is_eea("IE")
    assert is_eea("NO")
    assert not is_eea("GB")
    assert not is_eea("CH")
    assert not is_eea("US")


def test_country_names_for_messages() -> None:
    assert country_name("DE") == "Germany"
    assert country_name("EU") == "EU"
