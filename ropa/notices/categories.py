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

_SECTIONS = {
    "categories": CATEGORY,
    "list_categories": LIST_CATEGORY,
    "uses": USE,
    "legal_bases": LEGAL_BASIS,
    "mechanisms": MECHANISM,
    "regions": REGION,
}


@dataclass(frozen=True)
class PhraseSet:
    """`(kind, key) -> phrases`: what the phrase matcher looks for."""

    phrases: dict[tuple[str, str], tuple[str, ...]]


def _check(kind: str, key: str) -> None:
    valid = {
        CATEGORY: is_data_category,
        LIST_CATEGORY: is_data_category,
        USE: is_data_use,
        LEGAL_BASIS: lambda k: k in LegalBasisArticle.__members__,
        MECHANISM: lambda k: k in TransferMechanism.__members__,
        REGION: lambda k: bool(k),
    }[kind]
    if not valid(key):
        raise ValueError(f"{PHRASES_FILE.name}: {key!r} is not a valid {kind} key")


def load_phrases(path: Path = PHRASES_FILE) -> PhraseSet:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    phrases: dict[tuple[str, str], tuple[str, ...]] = {}
    for section, kind in _SECTIONS.items():
        for key, words in data.get(section, {}).items():
            _check(kind, key)
            phrases[(kind, key)] = tuple(str(w) for w in words)
    return PhraseSet(phrases)
