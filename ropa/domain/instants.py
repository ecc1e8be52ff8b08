"""Instants and dates: how states spell them, and the one rule for how callers write them.

States (docs/data-model.md): an instant is UTC with exactly six fractional digits,
`2026-11-22T10:04:05.123456Z`; a date is `2026-11-22`. One spelling per value keeps states,
and so the ledger's hashes, stable.

Callers (GraphQL `DateTime`, `--as-of`, `--expires-at`, `?asOf=`) write instants by one rule,
`read_instant`: an RFC 3339 date-time with its offset (`Z` or `+hh:mm`, any number of
fractional digits), or a date alone, which means the end of that day in UTC (the records as
they stood when that day closed; for today, now). A time without an offset is refused
rather than guessed.
Views of the past (`asOf`, `changes(from:, to:)`) refuse an instant in the future.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RFC3339 = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,9}))?(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
END_OF_DAY = time(23, 59, 59, 999999)
# how far ahead of this server's clock a caller's "now" may be before it counts as future
CLOCK_SKEW = timedelta(minutes=1)
EXAMPLE = "2024-03-01T12:00:00Z, or a date such as 2024-03-01 (the end of that day, UTC)"


def parse_instant(text: str) -> datetime:
    """The aware UTC datetime of an instant; ValueError when `text` is not one."""
    if not _INSTANT.fullmatch(text):
        raise ValueError(f"not an instant of the form 2026-11-22T10:04:05.123456Z: {text!r}")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def format_instant(moment: datetime) -> str:
    """The state spelling of an aware datetime, converted to UTC."""
    if moment.tzinfo is None:
        raise ValueError("an instant needs a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_date(text: str) -> date:
    """The date of a `YYYY-MM-DD` string; ValueError when `text` is not one."""
    if not _DATE.fullmatch(text):
        raise ValueError(f"not a date of the form 2026-11-22: {text!r}")
    return date.fromisoformat(text)


def is_instant(text: str) -> bool:
    try:
        parse_instant(text)
    except ValueError:
        return False
    return True


def is_date(text: str) -> bool:
    try:
        parse_date(text)
    except ValueError:
        return False
    return True


def read_instant(text: str, now: datetime | None = None) -> datetime:
    """An instant as a caller writes it, as aware UTC (the module's rule); ValueError with a
    sentence saying what to write instead. Today's date, whose end has not come, is now."""
    if _DATE.fullmatch(text):
        day = parse_date_or_none(text)
        if day is None:
            raise ValueError(f"{text!r} is not a calendar date")
        return min(
            datetime.combine(day, END_OF_DAY, UTC),
            max(now or datetime.now(UTC), (datetime.combine(day, time(0), UTC))),
        )
    found = _RFC3339.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not an RFC 3339 instant: write {EXAMPLE}")
    if found["offset"] is None:
        raise ValueError(f"{text!r} has no time zone offset: add Z for UTC, e.g. {text}Z")
    fraction = (found["fraction"] or "")[:6].ljust(6, "0")
    offset = found["offset"].upper()
    try:
        moment = datetime.fromisoformat(
            f"{found['date']}T{found['time']}.{fraction}{'+00:00' if offset == 'Z' else offset}"
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is not a representable instant: write {EXAMPLE}") from None


def parse_date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def in_future(moment: datetime, now: datetime | None = None) -> bool:
    """Whether a view's instant lies ahead of this server's clock (beyond clock skew)."""
    return moment > (now or datetime.now(UTC)) + CLOCK_SKEW
