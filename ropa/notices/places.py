"""Country names to ISO 3166-1 alpha-2 codes, for where a notice says data goes (Art. 13(1)(f)).

The names are pycountry's (name, common and official names) plus the short forms notices
use ("USA", "the US", "UK", "South Korea", "Hong Kong"). Names that are more often something
else in English prose (Georgia, Jordan, Chad) are left out. Matching is case-sensitive: a
country is written with a capital, and "US" is not "us".

A country counts as a place of processing in a sentence that says something is stored,
hosted, processed or transferred (`LOCATION_CUES`), or on the line of a named recipient (a
row of a list of processors, where an alpha-2 code also counts); "the laws of X", a phone
number's "(India)" or a postal address is a mere mention and is not reported.
docs/notices.md gives the rule.
"""

from __future__ import annotations

import pycountry

_LEFT_OUT = {"Georgia", "Jordan", "Chad", "Guinea", "Niger", "Jersey", "Turkey", "Mali"}

_EXTRA = {
    "US": ["US", "U.S.", "USA", "U.S.A.", "United States", "United States of America", "America"],
    "GB": ["UK", "U.K.", "United Kingdom", "Great Britain", "Britain", "England", "Scotland",
           "Wales", "Northern Ireland"],
    "KR": ["South Korea", "Korea", "Republic of Korea"],
    "KP": ["North Korea"],
    "RU": ["Russia"],
    "VN": ["Vietnam", "Viet Nam"],
    "IR": ["Iran"],
    "SY": ["Syria"],
    "TW": ["Taiwan"],
    "BO": ["Bolivia"],
    "VE": ["Venezuela"],
    "TZ": ["Tanzania"],
    "MD": ["Moldova"],
    "LA": ["Laos"],
    "CZ": ["Czech Republic", "Czechia"],
    "TR": ["Türkiye", "Turkiye", "Republic of Turkey"],
    "NL": ["Holland", "The Netherlands"],
    "HK": ["Hong Kong", "Hong Kong SAR"],
    "MO": ["Macau", "Macao"],
    "CI": ["Ivory Coast"],
    "AE": ["UAE", "U.A.E.", "United Arab Emirates"],
    "CN": ["China", "PRC", "Mainland China"],
    "ID": ["Republic of Indonesia", "Indonesia"],
    "PH": ["Philippines", "the Philippines"],
    "IE": ["Ireland", "Republic of Ireland"],
    "BN": ["Brunei"],
    "MK": ["North Macedonia", "Macedonia"],
    "PS": ["Palestine"],
    "VA": ["Vatican", "Vatican City"],
}  # fmt: skip

# sentence words that make a country a place where data is kept or sent
LOCATION_CUES = frozenset(
    {
        "store", "stored", "stores", "storing", "storage", "server", "servers", "host",
        "hosted", "hosting", "hosts", "located", "locate", "transfer", "transferred",
        "transfers", "transferring", "process", "processed", "processing", "processes",
        "datacenter", "datacenters", "datacentre", "cloud", "reside", "resides", "housed",
        "maintained", "kept", "replicated", "transmitted", "outside", "abroad", "backup",
        "backups", "infrastructure", "clauses", "sccs", "scc", "adequacy", "safeguards",
    }
)  # fmt: skip


# alpha-2 codes that are also words, abbreviations or legal forms in English notices
# ("IT", "ID", "CA" for California, "SE" for Societas Europaea): never read as countries
_AMBIGUOUS_CODES = frozenset(
    {
        "IT", "IN", "ME", "NO", "AT", "BE", "DO", "SO", "TO", "AM", "IS", "OR", "AS", "BY",
        "MY", "ID", "CA", "PA", "MA", "GA", "AL", "AR", "CO", "IL", "LA", "MD", "MN", "MO",
        "MS", "MT", "NC", "NE", "SC", "SD", "TN", "VA", "VI", "AI", "AD", "CV", "PS", "TV",
        "FM", "PE", "PT", "SE", "AG", "SA", "BV", "KG", "GG", "LT", "ST", "TT", "BS", "PR",
        "CI", "CH",
    }
)  # fmt: skip


def country_codes() -> dict[str, str]:
    """Alpha-2 codes that can stand for their country in a table row ("Hetzner GmbH DE")."""
    return {code: code for code in (str(c.alpha_2) for c in pycountry.countries)
            if code not in _AMBIGUOUS_CODES}  # fmt: skip


def country_names() -> dict[str, str]:
    """Every name to match, mapped to its alpha-2 code."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        code = str(country.alpha_2)
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "," not in value and value not in _LEFT_OUT:
                names[str(value)] = code
    for code, extra in _EXTRA.items():
        for name in extra:
            names[name] = code
    return names
