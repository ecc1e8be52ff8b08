"""The European Commission's adequacy decisions (GDPR Art. 45), as one dated table.

A transfer of personal data to a third country (Chapter V) needs no further safeguard when
the Commission has decided that the country, a territory or a sector in it ensures an
adequate level of protection (Art. 45(1)). Decisions taken under Directive 95/46/EC stay in
force until amended, replaced or repealed (Art. 45(9)). Transfers inside the EEA are no
transfers to a third country at all (`is_restricted_transfer`).

The table answers for any date, so that a record as it stood on a past day is judged by the
decisions in force on that day. `start` is the day the Commission adopted the decision (for
Brazil, the day it was announced) and `end` the last day it applies (None: no end date).
`AS_OF` is the day the table was last checked against the Commission's list; see
docs/adequacy.md for how to bring it up to date.

Not recorded: the decision on the European Patent Organisation (not a country), and the
annulled US Safe Harbour (2000/520/EC) and Privacy Shield ((EU) 2016/1250) decisions, whose
certifications are not what `dpf_certified` describes. A transfer of that time records the
Privacy Shield as its own, historical mechanism (`TransferMechanism.PRIVACY_SHIELD`), valid
from `PRIVACY_SHIELD_START` to `PRIVACY_SHIELD_END` inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ropa.domain.countries import is_eea

AS_OF = date(2026, 11, 23)

# Commission Implementing Decision (EU) 2016/1250 of 12 July 2016, invalidated by the Court
# of Justice on 16 July 2020 (C-311/18, Data Protection Commissioner v Facebook Ireland and
# Maximillian Schrems): the last day a transfer could rest on it is the 15th.
PRIVACY_SHIELD_START = date(2016, 7, 12)
PRIVACY_SHIELD_END = date(2020, 7, 15)


@dataclass(frozen=True)
class AdequacyDecision:
    """One adequacy decision for one country or territory, with what it covers."""

    country: str
    name: str
    scope: str
    start: date
    end: date | None
    source: str
    # The decision covers only recipients certified under a framework (the EU-US DPF).
    certified_recipients_only: bool = False

    def in_force_on(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)


DECISIONS: tuple[AdequacyDecision, ...] = (
    AdequacyDecision(
        country="AD",
        name="Andorra",
        scope="general",
        start=date(2010, 10, 19),
        end=None,
        source="Commission Decision 2010/625/EU of 19 October 2010",
    ),
    AdequacyDecision(
        country="AR",
        name="Argentina",
        scope="general",
        start=date(2003, 6, 30),
        end=None,
        source="Commission Decision 2003/490/EC of 30 June 2003",
    ),
    AdequacyDecision(
        country="BR",
        name="Brazil",
        scope="controllers and processors subject to the LGPD",
        start=date(2026, 1, 27),
        end=None,
        source=(
            "Commission Implementing Decision (EU) 2026/179 of 26 January 2026 on the adequate "
            "level of protection of personal data by Brazil under the LGPD (Lei Geral de "
            "Proteção de Dados), announced 27 January 2026"
        ),
    ),
    AdequacyDecision(
        country="CA",
        name="Canada",
        scope="commercial organisations subject to PIPEDA",
        start=date(2001, 12, 20),
        end=None,
        source="Commission Decision 2002/2/EC of 20 December 2001",
    ),
    AdequacyDecision(
        country="CH",
        name="Switzerland",
        scope="general",
        start=date(2000, 7, 26),
        end=None,
        source="Commission Decision 2000/518/EC of 26 July 2000",
    ),
    AdequacyDecision(
        country="FO",
        name="Faroe Islands",
        scope="general",
        start=date(2010, 3, 5),
        end=None,
        source="Commission Decision 2010/146/EU of 5 March 2010",
    ),
    AdequacyDecision(
        country="GB",
        name="United Kingdom",
        scope="UK GDPR; excludes data transferred for UK immigration control",
        start=date(2021, 6, 28),
        end=date(2025, 12, 27),
        source=(
            "Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, extended in "
            "June 2025 to 27 December 2025"
        ),
    ),
    AdequacyDecision(
        country="GB",
        name="United Kingdom",
        scope="UK GDPR as amended by the Data (Use and Access) Act 2025",
        start=date(2025, 12, 19),
        end=date(2031, 12, 27),
        source=(
            "Commission Implementing Decision of 19 December 2025 renewing the adequacy of "
            "the United Kingdom under Regulation (EU) 2016/679"
        ),
    ),
    AdequacyDecision(
        country="GG",
        name="Guernsey",
        scope="general",
        start=date(2003, 11, 21),
        end=None,
        source="Commission Decision 2003/821/EC of 21 November 2003",
    ),
    AdequacyDecision(
        country="IL",
        name="Israel",
        scope="automated processing, or transfers further processed automatically",
        start=date(2011, 1, 31),
        end=None,
        source="Commission Decision 2011/61/EU of 31 January 2011",
    ),
    AdequacyDecision(
        country="IM",
        name="Isle of Man",
        scope="general",
        start=date(2004, 4, 28),
        end=None,
        source="Commission Decision 2004/411/EC of 28 April 2004",
    ),
    AdequacyDecision(
        country="JE",
        name="Jersey",
        scope="general",
        start=date(2008, 5, 8),
        end=None,
        source="Commission Decision 2008/393/EC of 8 May 2008",
    ),
    AdequacyDecision(
        country="JP",
        name="Japan",
        scope="private sector: business operators subject to the APPI",
        start=date(2019, 1, 23),
        end=None,
        source="Commission Implementing Decision (EU) 2019/419 of 23 January 2019",
    ),
    AdequacyDecision(
        country="KR",
        name="Republic of Korea",
        scope=(
            "entities subject to PIPA, except credit information processed by institutions "
            "supervised by the Financial Services Commission"
        ),
        start=date(2021, 12, 17),
        end=None,
        source="Commission Implementing Decision (EU) 2022/254 of 17 December 2021",
    ),
    AdequacyDecision(
        country="NZ",
        name="New Zealand",
        scope="general",
        start=date(2012, 12, 19),
        end=None,
        source="Commission Implementing Decision 2013/65/EU of 19 December 2012",
    ),
    AdequacyDecision(
        country="US",
        name="United States",
        scope="DPF-certified recipients only",
        start=date(2023, 7, 10),
        end=None,
        source=(
            "Commission Implementing Decision (EU) 2023/1795 of 10 July 2023 (EU-US Data Privacy "
            "Framework)"
        ),
        certified_recipients_only=True,
    ),
    AdequacyDecision(
        country="UY",
        name="Uruguay",
        scope="general",
        start=date(2012, 8, 21),
        end=None,
        source="Commission Decision 2012/484/EU of 21 August 2012",
    ),
)


def decisions_in_force(on: date) -> tuple[AdequacyDecision, ...]:
    """Every decision that applies on `on`, certified-only ones included."""
    return tuple(decision for decision in DECISIONS if decision.in_force_on(on))


def adequacy_on(country: str, on: date, *, dpf_certified: bool = False) -> AdequacyDecision | None:
    """The decision that makes `country` adequate on `on`, or None.

    A decision for certified recipients only (the EU-US DPF) counts only when the
    recipient is `dpf_certified`. When a renewal overlaps the decision it replaces, the
    newer one answers. EEA countries have no decision: they are not third countries.
    """
    in_force = [
        decision
        for decision in DECISIONS
        if decision.country == country
        and decision.in_force_on(on)
        and (dpf_certified or not decision.certified_recipients_only)
    ]
    return max(in_force, key=lambda decision: decision.start, default=None)


def is_restricted_transfer(from_country: str, to_country: str) -> bool:
    """Whether data moving from one country to another is a Chapter V transfer.

    Data going to an EEA country, or staying in the country it is in, makes no new transfer
    to a third country; anything else does, onward transfers between two third countries
    included (Art. 44).
    """
    return not is_eea(to_country) and from_country != to_country
