"""Retention periods as ISO 8601 durations (GDPR Art. 13(2)(a): how long data is kept).

"two years" is `P2Y`, "30 days" `P30D`, "6 months" `P6M`, "twelve (12) months" `P12M`,
"a 7-year period" `P7Y`, "48 hours" `PT48H` - the same strict form `ropa.domain.durations`
accepts. A period counts as retention only in a sentence about keeping or deleting data
(`RETENTION_CUES`): "we respond within 30 days" is not a retention period.
"""

from __future__ import annotations

from typing import Any

from ropa.domain.durations import is_duration

_UNITS = {
    "year": "Y", "years": "Y", "yr": "Y", "yrs": "Y",
    "month": "M", "months": "M",
    "week": "W", "weeks": "W",
    "day": "D", "days": "D",
    "hour": "H", "hours": "H",
}  # fmt: skip

_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "ninety": 90, "hundred": 100,
}  # fmt: skip

RETENTION_CUES = frozenset(
    {
        "retain", "retains", "retained", "retaining", "retention", "keep", "keeps", "kept",
        "store", "stores", "stored", "storing", "delete", "deletes", "deleted", "deletion",
        "erase", "erased", "erasure", "destroy", "destroyed", "archive", "archived", "hold",
        "held", "purge", "purged", "anonymise", "anonymize", "anonymised", "anonymized",
        "remove", "removed", "preserve", "preserved", "maintain", "maintained", "periods",
    }
)  # fmt: skip

_NUMBER: dict[str, Any] = {"LIKE_NUM": True}
_NUMBER_WORD: dict[str, Any] = {"LOWER": {"IN": ["a", "an", "one"]}}
_UNIT: dict[str, Any] = {"LOWER": {"IN": sorted(_UNITS)}}
_GLOSS: list[dict[str, Any]] = [
    {"ORTH": "(", "OP": "?"},
    {"IS_DIGIT": True, "OP": "?"},
    {"ORTH": ")", "OP": "?"},
]
PATTERNS: list[list[dict[str, Any]]] = [
    [_NUMBER, *_GLOSS, _UNIT],
    [_NUMBER, *_GLOSS, {"ORTH": "-"}, _UNIT],
    [_NUMBER_WORD, _UNIT],
]


def number(word: str) -> int | None:
    """The value of a numeral written in digits or in English words, or None."""
    cleaned = word.replace(",", "")
    if cleaned.isdigit():
        return int(cleaned)
    return _WORDS.get(word.lower())


def iso_period(amount: int, unit_word: str) -> str | None:
    """`P2Y`, `P30D`, `PT48H`, ... or None when the unit is unknown or the amount zero."""
    unit = _UNITS.get(unit_word.lower())
    if unit is None or amount <= 0:
        return None
    period = f"PT{amount}H" if unit == "H" else f"P{amount}{unit}"
    return period if is_duration(period) else None
