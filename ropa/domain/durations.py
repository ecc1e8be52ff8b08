"""ISO 8601 durations, for how long an activity keeps personal data (Art. 30(1)(f)).

Strict and integer-only: `P` then years, months, weeks, days in that order, then `T` and
hours, minutes, seconds; at least one component, `T` only before a time component.
`P2Y`, `P18M`, `P1Y6M`, `P4W`, `PT36H` are durations; `P`, `PT`, `P1.5Y`, `2Y`, `P1D2Y`
are not. Months and years are calendar units, so a duration is kept as its parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DURATION = re.compile(
    r"P(?:(?P<years>[0-9]+)Y)?(?:(?P<months>[0-9]+)M)?(?:(?P<weeks>[0-9]+)W)?(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+)S)?)?"
)


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0


def parse_duration(text: str) -> Duration:
    """The parts of an ISO 8601 duration; ValueError when `text` is not one."""
    match = _DURATION.fullmatch(text)
    if match is None or text.endswith(("P", "T")):
        raise ValueError(f"not an ISO 8601 duration such as P2Y or P18M: {text!r}")
    return Duration(**{name: int(value) for name, value in match.groupdict().items() if value})


def is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


_SHORT = re.compile(r"(?P<amount>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>s|m|h|d)?", re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def to_seconds(text: str) -> float:
    """Seconds in an exact duration: ISO 8601 without years or months (`PT1H`, `P1DT2H`,
    `P2W`) or a number with an optional unit (`90`, `90s`, `15m`, `1h`, `2d`).

    ValueError for anything else, and for years and months, which have no fixed length.
    """
    text = text.strip()
    short = _SHORT.fullmatch(text)
    if short is not None:
        return float(short["amount"]) * _UNIT_SECONDS[short["unit"]]
    parts = parse_duration(text)
    if parts.years or parts.months:
        raise ValueError(f"years and months have no fixed length in seconds: {text!r}")
    return float(
        parts.weeks * 604800 + parts.days * 86400 + parts.hours * 3600
        + parts.minutes * 60 + parts.seconds
    )  # fmt: skip
