"""The wording a notice uses for what it discloses, mapped to the keys of the records.

`phrases.toml` beside this module is the data: Fides data categories and data uses (the
records' Art. 30(1)(c) and (b) vocabulary, via `ropa.domain.taxonomy`), Art. 6(1) lawful
bases and Chapter V transfer mechanisms (by the API's enum values, `ropa.domain.vocabulary`)
and regions. Every key is checked against its vocabulary when the file is loaded, so a typo in
the data fails loudly instead of producing keys the API would reject.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ropa.domain.taxonomy import is_data_category, is_data_use
from ropa.domain.vocabulary import LegalBasisArticle, TransferMechanism

PHRASES_FILE = Path(__file__).parent / "phrases.toml"

# label prefixes of the phrase matcher, one per kind of disclosure
CATEGORY = "category"
LIST_CATEGORY = "list_category"
USE = "use"
LEGAL_BASIS = "legal_basis"
MECHANISM = "mechanism"
REGION = "region"
NOT_CATEGORY = "not_category"

_SECTIONS = {
    "categories": CATEGORY,
    "list_categories": LIST_CATEGORY,
    "uses": USE,
    "legal_bases": LEGAL_BASIS,
    "mechanisms": MECHANISM,
    "regions": REGION,
    "not_categories": NOT_CATEGORY,
}


@dataclass(frozen=True)
class PhraseSet:
    """`(kind, key) -> phrases`: what the phrase matcher looks for."""

    phrases: dict[tuple[str, str], tuple[str, ...]]


def _valid(kind: str, key: str) -> bool:
    if kind in {CATEGORY, LIST_CATEGORY}:
        return is_data_category(key)
    if kind == USE:
        return is_data_use(key)
    if kind == LEGAL_BASIS:
        return key in LegalBasisArticle.__members__
    if kind == MECHANISM:
        return key in TransferMechanism.__members__
    if kind == NOT_CATEGORY:
        return key == "ignore"
    return bool(key)


def _check(kind: str, key: str) -> None:
    if not _valid(kind, key):
        raise ValueError(f"{PHRASES_FILE.name}: {key!r} is not a valid {kind} key")


def load_phrases(path: Path = PHRASES_FILE) -> PhraseSet:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    phrases: dict[tuple[str, str], tuple[str, ...]] = {}
    for section, kind in _SECTIONS.items():
        for key, words in data.get(section, {}).items():
            _check(kind, key)
            phrases[(kind, key)] = tuple(str(w) for w in words)
    return PhraseSet(phrases)
