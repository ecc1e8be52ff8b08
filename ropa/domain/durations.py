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
