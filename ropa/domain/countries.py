"""Countries as ISO 3166-1 alpha-2 codes, and which of them form the EEA.

Chapter V of the GDPR restricts transfers to "third countries": those outside the European
Economic Area, which is the EU's 27 Member States plus Iceland, Liechtenstein and Norway
(the GDPR applies there through the EEA Agreement). `EU` is not a country code.
"""

from __future__ import annotations

import pycountry

COUNTRIES: frozenset[str] = frozenset(country.alpha_2 for country in pycountry.countries)

EU_MEMBER_STATES: frozenset[str] = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip

EEA: frozenset[str] = EU_MEMBER_STATES | {"IS", "LI", "NO"}


def is_country(code: str) -> bool:
    """Whether `code` is an upper-case ISO 3166-1 alpha-2 code of a country."""
    return code in COUNTRIES


def is_eea(code: str) -> bool:
    return code in EEA


def country_name(code: str) -> str:
    """The English short name of a country, or the code itself when it is unknown."""
    country = pycountry.countries.get(alpha_2=code) if is_country(code) else None
    return str(country.name) if country is not None else code
