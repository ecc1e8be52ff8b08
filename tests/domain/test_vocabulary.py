from enum import StrEnum

import pytest

from ropa.domain import vocabulary
from ropa.domain.vocabulary import (
    Art9Condition,
    Art34Exemption,
    Art49Derogation,
    LegalBasisArticle,
    SpecialCategory,
    TransferMechanism,
)

ENUMS = [
    value
    for value in vars(vocabulary).values()
    if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
]


@pytest.mark.parametrize("enum", ENUMS, ids=lambda enum: enum.__name__)
def test_every_value_is_spelled_as_its_member_name(enum: type[StrEnum]) -> None:
    assert [member.value for member in enum] == list(enum.__members__)


@pytest.mark.parametrize("enum", ENUMS, ids=lambda enum: enum.__name__)
def test_every_enum_says_what_it_is_for(enum: type[StrEnum]) -> None:
    assert enum.__doc__


def test_articles_run_through_their_points() -> None:
    assert [m.value for m in LegalBasisArticle] == [f"ART6_1_{p}" for p in "ABCDEF"]
    assert [m.value for m in Art9Condition] == [f"ART9_2_{p}" for p in "ABCDEFGHIJ"]
    assert [m.value for m in Art49Derogation] == [f"ART49_1_{p}" for p in "ABCDEFG"]
    assert [m.value for m in Art34Exemption] == [f"ART34_3_{p}" for p in "ABC"]


@pytest.mark.parametrize(
    "enum", [LegalBasisArticle, Art9Condition, Art49Derogation, Art34Exemption, TransferMechanism]
)
def test_labels_cite_the_article_of_each_point(enum: type[LegalBasisArticle]) -> None:
    for member in enum:
        assert member.label.startswith("Art. ")


def test_labels_read_as_the_regulation_words_them() -> None:
    assert LegalBasisArticle.ART6_1_F.label == "Art. 6(1)(f) legitimate interests"
    assert SpecialCategory.HEALTH.label == "data concerning health"
    assert TransferMechanism.SCC.label == "Art. 46(2)(c) standard contractual clauses"


def test_states_compare_equal_to_enum_members() -> None:
    assert LegalBasisArticle("ART6_1_A") is LegalBasisArticle.ART6_1_A
    assert LegalBasisArticle.ART6_1_A == "ART6_1_A"
