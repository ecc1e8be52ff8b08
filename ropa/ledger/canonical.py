"""Canonical bytes of ledger JSON (RFC 8785, JCS) and the ledger's timestamp format.

LEDGER-SPEC §2-§3: an entry is hashed and signed as its RFC 8785 bytes. JCS itself
allows floats; the ledger does not, and keeps integers within |n| < 2^53 so every
reader, in any language, decodes them exactly. Timestamps are RFC 3339 UTC with
exactly six fractional digits, so they also sort correctly as strings.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import rfc8785

__all__ = [
    "MAX_SAFE_INTEGER", "NotUnicodeError", "canonical", "canonical_value", "format_ts",
    "is_canonical",
    "parse_json", "parse_ts",
]

MAX_SAFE_INTEGER = 2**53 - 1

_TS = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z", re.ASCII)


class NotUnicodeError(rfc8785.CanonicalizationError):
    """A string holding a lone surrogate (e.g. decoded from the JSON escape `\\ud800`): it is
    not Unicode text, so it has no UTF-8 and no RFC 8785 form (RFC 8785 §3.2.2.2)."""


def canonical(obj: Any) -> bytes:
    """The RFC 8785 bytes of `obj`.

    Raises ValueError for a float or an integer with |n| >= 2^53 anywhere in `obj`,
    NotUnicodeError (a ValueError, and rfc8785's own error) for a string with a lone
    surrogate, and TypeError for anything that is not JSON (dict keys must be strings).
    """
    if _check_value(obj):
        # Without floats, and with no member name outside the Basic Multilingual Plane
        # (where UTF-16 and code-point order differ), orjson's sorted, compact UTF-8
        # output is byte for byte the RFC 8785 form: the same escapes (\" \\ \b \f \n \r
        # \t, other controls as lowercase \u00xx) and nothing else escaped (tested against
        # the reference encoder on random values). It is native code, many times faster.
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # a lone surrogate: let the generic encoder judge it
    try:
        return bytes(rfc8785.dumps(obj))
    except rfc8785.CanonicalizationError as exc:
        if "UTF-8" in str(exc):
            raise NotUnicodeError("a string holds a lone surrogate: not Unicode text") from None
        raise


def _check_value(obj: Any) -> bool:
    """Refuse what the ledger forbids; True when every member name is in the BMP."""
    # An explicit walk: rfc8785 would happily encode floats, which the ledger forbids.
    # Exact types first: this runs for every value of every entry written or verified.
    kind = type(obj)
    if kind is str or kind is bool or obj is None:
        return True
    if kind is dict or isinstance(obj, dict):
        bmp = True
        for key, value in obj.items():
            if type(key) is not str and not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if not key.isascii() and any(ord(c) > 0xFFFF for c in key):
                bmp = False
            if not _check_value(value):
                bmp = False
        return bmp
    if kind is list or isinstance(obj, list | tuple):
        bmp = True
        for value in obj:
            if not _check_value(value):
                bmp = False
        return bmp
    if isinstance(obj, str | bool):
        return True
    if isinstance(obj, int):
        if abs(obj) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {obj} is outside the ledger's range |n| < 2^53")
        return True
    if isinstance(obj, float):
        raise ValueError(f"float {obj!r} in ledger JSON: use an integer or a string")
    raise TypeError(f"{type(obj).__name__} is not a JSON value")


_ASTRAL = re.compile(rb"[\xf0-\xff]")
# In compact JSON a number follows a member name (`":`), `,` or `[`, or starts the text.
# With every digit and minus sign read as 0 and `[` as `,`, two searches find each one
# (and, inside strings, a few look-alikes that only send a line to the slower check).
_NUMBER_CHARS = bytes.maketrans(b"-123456789[", b"0000000000,")
_NUMBER_AFTER = (b'":0', b",0")
_PLAIN_INTEGER = re.compile(rb"0{1,15}(?![0.eE])")  # at most 15 characters, no fraction


def _plain_numbers(data: bytes) -> bool:
    """True when every number in the compact JSON `data` is an integer of at most 15
    digits (so |n| < 2^53); False when not certain."""
    if data[:1] in _NUMBER_START:
        return False
    zeros = data.translate(_NUMBER_CHARS)
    for after in _NUMBER_AFTER:
        at = zeros.find(after)
        while at >= 0:
            if _PLAIN_INTEGER.match(zeros, at + len(after) - 1) is None:
                return False
            at = zeros.find(after, at + len(after))
    return True


_NUMBER_START = b"-0123456789"  # (and b"" is in it: the empty text too)


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise ValueError(f"integer {value} is outside the ledger's range |n| < 2^53")
    return value


def is_canonical(data: bytes) -> bool:
    """True when `data` is certainly the RFC 8785 bytes of ledger JSON (no floats, safe
    integers). False means "not certain": `canonical(parse_json(data)) == data` decides,
    and says why not.

    The quick way a verifier checks millions of lines: one C parse with the ledger's
    number rules, one C encode, one comparison. It never answers True wrongly: a
    duplicate member or any escape the canonical form would not use changes the bytes,
    and text outside the Basic Multilingual Plane (where member order could differ from
    RFC 8785's UTF-16 order) is left to the exact check.
    """
    return canonical_value(data)[0]


def canonical_value(data: bytes) -> tuple[bool, Any]:
    """`(True, value)` when `data` is certainly the RFC 8785 bytes of the ledger JSON
    `value`, as `is_canonical` decides; `(False, None)` when not certain. One parse
    serves both the check and the reader of the value."""
    if not data.isascii() and _ASTRAL.search(data) is not None:
        return False, None
    if _plain_numbers(data):
        # No float and no integer of 16 digits or more (|n| < 10^15 < 2^53): orjson reads
        # and writes every other value exactly as the standard library does, and writes
        # the BMP strings and member order of the RFC 8785 form. ~4x faster.
        try:
            value = orjson.loads(data)
            if orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == data:
                return True, value
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            pass  # the standard library says why below, or the exact check does
    try:
        value = json.loads(
            data, parse_float=_no_float, parse_int=_safe_int, parse_constant=_no_constant
        )
        again = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        same = again.encode("utf-8") == data
    except (ValueError, TypeError, RecursionError):  # UnicodeError is a ValueError
        return False, None
    return (True, value) if same else (False, None)


def _no_float(text: str) -> Any:
    raise ValueError(f"number {text} is not an integer: ledger JSON holds no floats")


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate member {key!r}")
            seen.add(key)
    return result


def parse_json(data: bytes | str) -> Any:
    """Parse ledger JSON strictly: UTF-8 only, no floats, no NaN/Infinity, no duplicate members.

    Raises ValueError (json.JSONDecodeError and UnicodeDecodeError are subclasses).
    """
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return json.loads(
        text,
        parse_float=_no_float,
        parse_constant=_no_constant,
        object_pairs_hook=_no_duplicates,
    )


def format_ts(moment: datetime) -> str:
    """`2026-11-22T10:04:05.123456Z`: the instant in UTC with microseconds.

    Naive datetimes are refused: a ledger time is an instant, not a wall-clock reading.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("ledger timestamps need a timezone-aware datetime")
    try:
        u = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 is in year 0 in UTC
        raise ValueError("the instant falls outside the years 0001 to 9999 in UTC") from None
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


def parse_ts(text: str) -> datetime:
    """Inverse of `format_ts`; accepts exactly that form and nothing looser."""
    match = _TS.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a ledger timestamp (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
    year, month, day, hour, minute, second, micro = (int(g) for g in match.groups())
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
