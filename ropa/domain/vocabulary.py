"""The closed vocabularies of a record of processing activities, by their GDPR names.

Each enum's values are its member names: that is how states (docs/data-model.md) and the
GraphQL API spell them. Where the value stands for a provision of the Regulation, `label`
gives the wording a DPO expects to read:

- `LegalBasisArticle`: Art. 6(1)(a)-(f), lawfulness of processing;
- `Art9Condition`: Art. 9(2)(a)-(j), conditions for special categories of data;
- `SpecialCategory`: the categories of Art. 9(1);
- `TransferMechanism`: Chapter V, Art. 45-49;
- `Art49Derogation`: Art. 49(1)(a)-(g), derogations for specific situations;
- `Art34Exemption`: Art. 34(3)(a)-(c), when data subjects need not be told of a breach.
"""

from __future__ import annotations

from enum import StrEnum


class OrganizationRole(StrEnum):
    """What an organisation is for some of its processing (Art. 4(7), 4(8))."""

    CONTROLLER = "CONTROLLER"
    PROCESSOR = "PROCESSOR"


class ActivityRole(StrEnum):
    """The organisation's role in one processing activity.

    PROCESSOR activities form the Art. 30(2) record and name their client `controller`;
    JOINT_CONTROLLER activities name the other controllers of the Art. 26 arrangement.
    """

    CONTROLLER = "CONTROLLER"
    JOINT_CONTROLLER = "JOINT_CONTROLLER"
    PROCESSOR = "PROCESSOR"


class ActivityStatus(StrEnum):
    """DRAFT is being written, ACTIVE is carried out, RETIRED is kept for history only."""

    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


class LegalBasisArticle(StrEnum):
    """The six lawful bases of Art. 6(1)."""

    ART6_1_A = "ART6_1_A"
    ART6_1_B = "ART6_1_B"
    ART6_1_C = "ART6_1_C"
    ART6_1_D = "ART6_1_D"
    ART6_1_E = "ART6_1_E"
    ART6_1_F = "ART6_1_F"

    @property
    def label(self) -> str:
        return _LEGAL_BASIS_LABELS[self]


_LEGAL_BASIS_LABELS = {
    LegalBasisArticle.ART6_1_A: "Art. 6(1)(a) consent",
    LegalBasisArticle.ART6_1_B: "Art. 6(1)(b) performance of a contract",
    LegalBasisArticle.ART6_1_C: "Art. 6(1)(c) compliance with a legal obligation",
    LegalBasisArticle.ART6_1_D: "Art. 6(1)(d) vital interests",
    LegalBasisArticle.ART6_1_E: "Art. 6(1)(e) public task or official authority",
    LegalBasisArticle.ART6_1_F: "Art. 6(1)(f) legitimate interests",
}


class SpecialCategory(StrEnum):
    """The special categories of personal data of Art. 9(1)."""

    RACIAL_ETHNIC_ORIGIN = "RACIAL_ETHNIC_ORIGIN"
    POLITICAL_OPINIONS = "POLITICAL_OPINIONS"
    RELIGIOUS_BELIEFS = "RELIGIOUS_BELIEFS"
    TRADE_UNION_MEMBERSHIP = "TRADE_UNION_MEMBERSHIP"
    GENETIC = "GENETIC"
    BIOMETRIC = "BIOMETRIC"
    HEALTH = "HEALTH"
    SEX_LIFE_OR_ORIENTATION = "SEX_LIFE_OR_ORIENTATION"

    @property
    def label(self) -> str:
        return _SPECIAL_CATEGORY_LABELS[self]


_SPECIAL_CATEGORY_LABELS = {
    SpecialCategory.RACIAL_ETHNIC_ORIGIN: "racial or ethnic origin",
    SpecialCategory.POLITICAL_OPINIONS: "political opinions",
    SpecialCategory.RELIGIOUS_BELIEFS: "religious or philosophical beliefs",
    SpecialCategory.TRADE_UNION_MEMBERSHIP: "trade union membership",
    SpecialCategory.GENETIC: "genetic data",
    SpecialCategory.BIOMETRIC: "biometric data for uniquely identifying a person",
    SpecialCategory.HEALTH: "data concerning health",
    SpecialCategory.SEX_LIFE_OR_ORIENTATION: "sex life or sexual orientation",
}


class Art9Condition(StrEnum):
    """The conditions of Art. 9(2) that lift the prohibition of Art. 9(1)."""

    ART9_2_A = "ART9_2_A"
    ART9_2_B = "ART9_2_B"
    ART9_2_C = "ART9_2_C"
    ART9_2_D = "ART9_2_D"
    ART9_2_E = "ART9_2_E"
    ART9_2_F = "ART9_2_F"
    ART9_2_G = "ART9_2_G"
    ART9_2_H = "ART9_2_H"
    ART9_2_I = "ART9_2_I"
    ART9_2_J = "ART9_2_J"

    @property
    def label(self) -> str:
        return _ART9_LABELS[self]


_ART9_LABELS = {
    Art9Condition.ART9_2_A: "Art. 9(2)(a) explicit consent",
    Art9Condition.ART9_2_B: "Art. 9(2)(b) employment, social security and social protection law",
    Art9Condition.ART9_2_C: "Art. 9(2)(c) vital interests where the data subject cannot consent",
    Art9Condition.ART9_2_D: "Art. 9(2)(d) not-for-profit body, about its members",
    Art9Condition.ART9_2_E: "Art. 9(2)(e) data manifestly made public by the data subject",
    Art9Condition.ART9_2_F: "Art. 9(2)(f) legal claims or courts acting judicially",
    Art9Condition.ART9_2_G: "Art. 9(2)(g) substantial public interest under law",
    Art9Condition.ART9_2_H: "Art. 9(2)(h) medicine, health or social care",
    Art9Condition.ART9_2_I: "Art. 9(2)(i) public interest in the area of public health",
    Art9Condition.ART9_2_J: "Art. 9(2)(j) archiving, scientific or historical research, statistics",
}


class Source(StrEnum):
    """Where the personal data of an activity comes from (Art. 13 and 14)."""

    DATA_SUBJECT = "DATA_SUBJECT"
    THIRD_PARTY = "THIRD_PARTY"
    AUTOMATIC = "AUTOMATIC"
    PUBLIC = "PUBLIC"


class DpiaStatus(StrEnum):
    """Where an activity stands with its data protection impact assessment (Art. 35)."""

    NOT_REQUIRED = "NOT_REQUIRED"
    REQUIRED = "REQUIRED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class ProcessorStatus(StrEnum):
    """DRAFT awaits review (e.g. drafted from the privacy notice); ACTIVE processors may be
    engaged; RETIRED ones are kept for history only."""

    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


class TextFormat(StrEnum):
    """How a privacy notice's text is written (Art. 12(1): concise, intelligible, accessible)."""

    PLAIN = "PLAIN"
    MARKDOWN = "MARKDOWN"
    HTML = "HTML"


class TransferMechanism(StrEnum):
    """The ground a transfer to a third country rests on (Chapter V)."""

    ADEQUACY = "ADEQUACY"
    DPF = "DPF"
    SCC = "SCC"
    BCR = "BCR"
    CODE_OF_CONDUCT = "CODE_OF_CONDUCT"
    CERTIFICATION = "CERTIFICATION"
    AD_HOC_CLAUSES = "AD_HOC_CLAUSES"
    DEROGATION = "DEROGATION"
    # historical: what a US transfer rested on from 12 July 2016 until the Court of Justice
    # invalidated the decision on 16 July 2020 (C-311/18, "Schrems II"); kept so that a
    # record of that time says what it said, and a finding flags it from then on
    PRIVACY_SHIELD = "PRIVACY_SHIELD"

    @property
    def label(self) -> str:
        return _MECHANISM_LABELS[self]


_MECHANISM_LABELS = {
    TransferMechanism.ADEQUACY: "Art. 45 adequacy decision",
    TransferMechanism.DPF: "Art. 45 EU-US Data Privacy Framework (certified recipients)",
    TransferMechanism.SCC: "Art. 46(2)(c) standard contractual clauses",
    TransferMechanism.BCR: "Art. 47 binding corporate rules",
    TransferMechanism.CODE_OF_CONDUCT: "Art. 46(2)(e) approved code of conduct",
    TransferMechanism.CERTIFICATION: "Art. 46(2)(f) approved certification mechanism",
    TransferMechanism.AD_HOC_CLAUSES: "Art. 46(3)(a) clauses authorised by the authority",
    TransferMechanism.DEROGATION: "Art. 49 derogation for a specific situation",
    TransferMechanism.PRIVACY_SHIELD: (
        "Art. 45 EU-US Privacy Shield (Decision (EU) 2016/1250, invalidated on 16 July 2020, "
        "C-311/18)"
    ),
}


class Art49Derogation(StrEnum):
    """The derogations of Art. 49(1), first subparagraph, points (a) to (g)."""

    ART49_1_A = "ART49_1_A"
    ART49_1_B = "ART49_1_B"
    ART49_1_C = "ART49_1_C"
    ART49_1_D = "ART49_1_D"
    ART49_1_E = "ART49_1_E"
    ART49_1_F = "ART49_1_F"
    ART49_1_G = "ART49_1_G"

    @property
    def label(self) -> str:
        return _ART49_LABELS[self]


_ART49_LABELS = {
    Art49Derogation.ART49_1_A: "Art. 49(1)(a) explicit consent, informed of the risks",
    Art49Derogation.ART49_1_B: "Art. 49(1)(b) contract with the data subject",
    Art49Derogation.ART49_1_C: "Art. 49(1)(c) contract in the data subject's interest",
    Art49Derogation.ART49_1_D: "Art. 49(1)(d) important reasons of public interest",
    Art49Derogation.ART49_1_E: "Art. 49(1)(e) legal claims",
    Art49Derogation.ART49_1_F: "Art. 49(1)(f) vital interests where consent cannot be given",
    Art49Derogation.ART49_1_G: "Art. 49(1)(g) transfer from a public register",
}


class BreachRisk(StrEnum):
    """The risk a breach poses to people's rights and freedoms.

    UNLIKELY needs no notification (Art. 33(1)); RISK must be notified to the supervisory
    authority; HIGH_RISK must also be communicated to the data subjects (Art. 34(1)).
    """

    UNLIKELY = "UNLIKELY"
    RISK = "RISK"
    HIGH_RISK = "HIGH_RISK"


class BreachStatus(StrEnum):
    """OPEN until contained; CLOSED once handled. A breach is never closed uncontained."""

    OPEN = "OPEN"
    CONTAINED = "CONTAINED"
    CLOSED = "CLOSED"


class NotificationPhase(StrEnum):
    """Notification in phases (Art. 33(4)): one INITIAL, then FOLLOW_UPs, at most one FINAL."""

    INITIAL = "INITIAL"
    FOLLOW_UP = "FOLLOW_UP"
    FINAL = "FINAL"


class Art34Exemption(StrEnum):
    """Why a high-risk breach need not be communicated to the data subjects (Art. 34(3))."""

    ART34_3_A = "ART34_3_A"
    ART34_3_B = "ART34_3_B"
    ART34_3_C = "ART34_3_C"

    @property
    def label(self) -> str:
        return _ART34_LABELS[self]


_ART34_LABELS = {
    Art34Exemption.ART34_3_A: "Art. 34(3)(a) data unintelligible to others, e.g. encrypted",
    Art34Exemption.ART34_3_B: "Art. 34(3)(b) later measures remove the high risk",
    Art34Exemption.ART34_3_C: "Art. 34(3)(c) disproportionate effort: public communication",
}


class Role(StrEnum):
    """What an API token may do, within its own organisation only.

    VIEWER reads; AUDITOR reads and exports and verifies the ledger; EDITOR writes
    activities, processors, transfers and policies; DPO is an EDITOR who also handles
    breaches and the organisation's tokens; ADMIN manages organisations and signing keys.
    """

    VIEWER = "VIEWER"
    AUDITOR = "AUDITOR"
    EDITOR = "EDITOR"
    DPO = "DPO"
    ADMIN = "ADMIN"
