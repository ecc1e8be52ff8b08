from datetime import date, timedelta

import pytest

from ropa.domain.adequacy import (
    AS_OF,
    DECISIONS,
    AdequacyDecision,
    adequacy_on,
    decisions_in_force,
    is_restricted_transfer,
)
from ropa.domain.countries import is_country, is_eea

DAY = timedelta(days=1)

# The whole table as in force on AS_OF: (country, scope, start, end, source starts with).
# Updating the table means updating this list: see docs/adequacy.md.
IN_FORCE_AS_OF = [
    ("AD", "general", date(2010, 10, 19), None, "Commission Decision 2010/625/EU"),
    ("AR", "general", date(2003, 6, 30), None, "Commission Decision 2003/490/EC"),
    (
        "BR",
        "controllers and processors subject to the LGPD",
        date(2026, 1, 27),
        None,
        "Commission Implementing Decision (EU) 2026/179",
    ),
    (
        "CA",
        "commercial organisations subject to PIPEDA",
        date(2001, 12, 20),
        None,
        "Commission Decision 2002/2/EC",
    ),
    ("CH", "general", date(2000, 7, 26), None, "Commission Decision 2000/518/EC"),
    ("FO", "general", date(2010, 3, 5), None, "Commission Decision 2010/146/EU"),
    (
        "GB",
        "UK GDPR as amended by the Data (Use and Access) Act 2025",
        date(2025, 12, 19),
        date(2031, 12, 27),
        "Commission Implementing Decision of 19 December 2025",
    ),
    ("GG", "general", date(2003, 11, 21), None, "Commission Decision 2003/821/EC"),
    (
        "IL",
        "automated processing, or transfers further processed automatically",
        date(2011, 1, 31),
        None,
        "Commission Decision 2011/61/EU",
    ),
    ("IM", "general", date(2004, 4, 28), None, "Commission Decision 2004/411/EC"),
    ("JE", "general", date(2008, 5, 8), None, "Commission Decision 2008/393/EC"),
    (
        "JP",
        "private sector: business operators subject to the APPI",
        date(2019, 1, 23),
        None,
        "Commission Implementing Decision (EU) 2019/419",
    ),
    (
        "KR",
        "entities subject to PIPA, except credit information processed by institutions "
        "supervised by the Financial Services Commission",
        date(2021, 12, 17),
        None,
        "Commission Implementing Decision (EU) 2022/254",
    ),
    ("NZ", "general", date(2012, 12, 19), None, "Commission Implementing Decision 2013/65/EU"),
    (
        "US",
        "DPF-certified recipients only",
        date(2023, 7, 10),
        None,
        "Commission Implementing Decision (EU) 2023/1795",
    ),
    ("UY", "general", date(2012, 8, 21), None, "Commission Decision 2012/484/EU"),
]


def test_the_table_was_reviewed_on_its_stated_date() -> None:
    assert date(2026, 11, 23) == AS_OF


def test_the_decisions_in_force_as_of_the_review_are_exactly_these() -> None:
    found = [
        (d.country, d.scope, d.start, d.end, d.source)
        for d in sorted(decisions_in_force(AS_OF), key=lambda d: d.country)
    ]
    assert [row[:4] for row in found] == [row[:4] for row in IN_FORCE_AS_OF]
    for row, expected in zip(found, IN_FORCE_AS_OF, strict=True):
        assert row[4].startswith(expected[4]), row


@pytest.mark.parametrize("decision", DECISIONS, ids=lambda d: f"{d.country}-{d.start}")
def test_every_entry_is_a_dated_decision_for_a_third_country(decision: AdequacyDecision) -> None:
    assert is_country(decision.country)
    assert not is_eea(decision.country)
    assert decision.end is None or decision.start < decision.end
    assert decision.source.startswith("Commission")
    assert decision.start <= AS_OF


def test_the_us_counts_only_for_dpf_certified_recipients() -> None:
    assert adequacy_on("US", AS_OF) is None
    decision = adequacy_on("US", AS_OF, dpf_certified=True)
    assert decision is not None
    assert decision.source.startswith("Commission Implementing Decision (EU) 2023/1795")


def test_the_dpf_applies_from_10_july_2023() -> None:
    assert adequacy_on("US", date(2023, 7, 10), dpf_certified=True) is not None
    assert adequacy_on("US", date(2023, 7, 9), dpf_certified=True) is None


def test_the_uk_is_adequate_from_28_june_2021() -> None:
    assert adequacy_on("GB", date(2021, 6, 27)) is None
    first = adequacy_on("GB", date(2021, 6, 28))
    assert first is not None
    assert first.source.startswith("Commission Implementing Decision (EU) 2021/1772")


def test_the_uk_renewal_answers_once_adopted_and_runs_to_27_december_2031() -> None:
    assert adequacy_on("GB", date(2025, 12, 18)) == adequacy_on("GB", date(2021, 6, 28))
    renewal = adequacy_on("GB", date(2025, 12, 19))
    assert renewal is not None
    assert renewal.end == date(2031, 12, 27)
    assert adequacy_on("GB", date(2025, 12, 28)) == renewal
    assert adequacy_on("GB", date(2031, 12, 27)) == renewal
    assert adequacy_on("GB", date(2031, 12, 28)) is None


def test_the_uk_has_been_adequate_without_a_gap_since_2021() -> None:
    day = date(2021, 6, 28)
    while day <= AS_OF:
        assert adequacy_on("GB", day) is not None, day
        day += DAY


def test_brazil_is_adequate_from_27_january_2026() -> None:
    assert adequacy_on("BR", date(2026, 1, 26)) is None
    decision = adequacy_on("BR", date(2026, 1, 27))
    assert decision is not None
    assert "LGPD" in decision.source


def test_korea_is_adequate_from_17_december_2021() -> None:
    assert adequacy_on("KR", date(2021, 12, 16)) is None
    assert adequacy_on("KR", date(2021, 12, 17)) is not None


def test_countries_without_a_decision_and_eea_countries_have_none() -> None:
    assert adequacy_on("IN", AS_OF) is None
    assert adequacy_on("CN", AS_OF) is None
    assert adequacy_on("DE", AS_OF) is None
    assert adequacy_on("EU", AS_OF) is None


def test_transfers_to_the_eea_or_within_one_country_are_not_restricted() -> None:
    assert not is_restricted_transfer("DE", "FR")
    assert not is_restricted_transfer("US", "IE")
    assert not is_restricted_transfer("DE", "NO")
    assert not is_restricted_transfer("US", "US")


def test_transfers_to_third_countries_are_restricted_onward_ones_included() -> None:
    assert is_restricted_transfer("DE", "US")
    assert is_restricted_transfer("IE", "GB")
    assert is_restricted_transfer("US", "IN")
