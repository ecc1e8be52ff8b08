"""Instants and dates as record states spell them (docs/data-model.md).

An instant is UTC with exactly six fractional digits, `2026-11-22T10:04:05.123456Z`; a date
is `2026-11-22`. One spelling per value keeps states, and so the ledger's hashes, stable.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
