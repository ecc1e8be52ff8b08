"""RFC 8785 bytes without floats, strict parsing, and the ledger's timestamp form."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785

from ropa.ledger.canonical import (
    canonical,
    canonical_value,
    format_ts,
    is_canonical,
    parse_json,
    parse_ts,
)


def test_members_are_sorted_and_whitespace_dropped() -> None:
    assert canonical({"b": [1, True, None], "a": "x"}) == b'{"a":"x","b":[1,true,null]}'


def test_members_sort_by_utf16_code_units_as_rfc8785_requires() -> None:
    # U+1F600 is a surrogate pair (0xD83D...), so it sorts before U+FB01 in UTF-16.
    assert canonical({"\ufb01": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb01":1}'.encode()


def test_non_ascii_text_is_kept_as_utf8_not_escaped() -> None:
    assert canonical({"name": "Ana Müller"}) == '{"name":"Ana Müller"}'.encode()


@pytest.mark.parametrize("value", [1.0, 0.5, {"nested": [2.5]}, float("nan")])
def test_floats_are_refused_anywhere(value: Any) -> None:
    with pytest.raises(ValueError, match="float"):
        canonical({"x": value})


@pytest.mark.parametrize("value", [2**53, -(2**53), 10**30])
def test_integers_beyond_2_to_the_53_are_refused(value: int) -> None:
    with pytest.raises(ValueError):
        canonical([value])


def test_the_largest_safe_integers_are_accepted() -> None:
    assert canonical([2**53 - 1, -(2**53 - 1)]) == b"[9007199254740991,-9007199254740991]"


@pytest.mark.parametrize("value", [{1: "x"}, {"x": b"bytes"}, {"x": {1, 2}}, datetime.now(UTC)])
def test_values_that_are_not_json_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        canonical(value)


@pytest.mark.parametrize(
    "text", ['{"a":1.5}', '{"a":1e3}', '{"a":NaN}', '{"a":Infinity}', '{"a":1,"a":2}']
)
def test_parse_json_refuses_floats_constants_and_duplicate_members(text: str) -> None:
    with pytest.raises(ValueError):
        parse_json(text)


def test_parse_json_refuses_bytes_that_are_not_utf8() -> None:
    with pytest.raises(ValueError):
        parse_json(b'{"a":"\xff"}')


def test_format_ts_writes_utc_with_six_fractional_digits() -> None:
    moment = datetime(2026, 11, 22, 12, 4, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert format_ts(moment) == "2026-11-22T10:04:05.123456Z"
    assert format_ts(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"


def test_format_ts_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone"):
        format_ts(datetime(2026, 1, 1))


def test_parse_ts_round_trips() -> None:
    text = "2026-11-22T10:04:05.123456Z"
    assert format_ts(parse_ts(text)) == text
    assert parse_ts(text).tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T10:04:05Z",
        "2026-11-22T10:04:05.123Z",
        "2026-11-22T10:04:05.123456+00:00",
        "2026-11-22T10:04:05.123456z",
        "2026-11-22 10:04:05.123456Z",
        "2026-13-22T10:04:05.123456Z",
        "２０２６-11-22T10:04:05.123456Z",
    ],
)
def test_parse_ts_accepts_only_the_exact_ledger_form(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ts(text)


def _random_text(rng: random.Random) -> str:
    alphabet = [
        *(chr(c) for c in range(0x00, 0x80)),
        "\u00e9",
        "\u2028",
        "\u20ac",
        "\ud7ff",
        "\ue000",
        "\uffff",
        "\ufb01",
        "\U0001f600",
        "\U0010ffff",
    ]
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 8)))


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randrange(-(2**53) + 1, 2**53)
    if kind in (2, 3):
        return _random_text(rng)
    if kind in (4, 5):
        return {_random_text(rng): _random_value(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randrange(5))]


@pytest.mark.parametrize("seed", range(5))
def test_canonical_agrees_with_the_reference_rfc8785_encoder_on_random_values(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        value = _random_value(rng)
        assert canonical(value) == rfc8785.dumps(value)


# -- the verifier's quick check: canonical_value never says "canonical" wrongly -------------

_QUICK_CASES = [
    b'{"a":1,"b":[true,false,null],"c":"x"}',
    b'{"b":1,"a":2}',  # members out of order
    b'{"a":1, "b":2}',  # whitespace
    b'{"a":1,"a":1}',  # a duplicate member
    b'{"a":1.5}',
    b'{"a":[1,2e5]}',
    b'{"a":[[-2.0]]}',
    b'{"a":1.0}',
    b'{"a":-0}',
    b'{"a":9007199254740991}',  # 2^53 - 1: ledger JSON
    b'{"a":9007199254740992}',  # 2^53: not
    b'{"a":-9007199254740992}',
    b'{"a":123456789012345678901234567890}',
    b'{"a":18446744073709551615}',  # 2^64 - 1, which orjson reads exactly
    b'{"t":"2026-01-01T00:00:00.000000Z","n":"x:1.5,2e5[3.0"}',  # numbers only in text
    b'5',
    b'-1',
    b'"\\u00e9"',  # an escape the canonical form does not use
    b'"\\u001f\\b\\t\\n\\f\\r\\"\\\\"',  # the ones it does
    b'"\\u001F"',  # upper-case hex
    '"\x7f\u2028é"'.encode(),
    b'"\\ud800"',  # a lone surrogate
    b'"\xff"',  # not UTF-8
    '{"\ufb01":1,"\U0001f600":2}'.encode(),  # BMP order and UTF-16 order differ
    '{"\U0001f600":2,"\ufb01":1}'.encode(),
    b'{"a":NaN}',
    b"",
]


@pytest.mark.parametrize("data", _QUICK_CASES)
def test_canonical_value_agrees_with_the_exact_check(data: bytes) -> None:
    try:
        value = parse_json(data)
        exact = canonical(value) == data
    except (ValueError, TypeError):
        exact = False
    certain, quick_value = canonical_value(data)
    assert is_canonical(data) is certain
    if certain:
        assert exact, data
        assert quick_value == value and type(quick_value) is type(value)
    elif data in (b'{"a":1,"b":[true,false,null],"c":"x"}', b'{"a":9007199254740991}'):
        raise AssertionError(f"{data!r} is canonical ledger JSON")


def test_canonical_value_holds_on_random_ledger_json() -> None:
    rnd = random.Random(8785)
    alphabet = ["a", "b", "é", "\u2028", "\x7f", "\n", '"', "\\", ":", "1", ".", ",", "["]

    def value(depth: int) -> Any:
        kind = rnd.randrange(6 if depth < 3 else 4)
        if kind == 0:
            return rnd.choice([True, False, None])
        if kind == 1:
            return rnd.choice([0, -1, 7, 2**53 - 1, -(2**53 - 1), 10**15, rnd.randrange(-999, 999)])
        if kind in (2, 3):
            return "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(6)))
        if kind == 4:
            return [value(depth + 1) for _ in range(rnd.randrange(4))]
        return {
            "".join(rnd.choice(alphabet) for _ in range(3)): value(depth + 1)
            for _ in range(rnd.randrange(4))
        }

    for _ in range(2000):
        data = canonical(value(0))
        certain, parsed = canonical_value(data)
        assert certain, data
        assert canonical(parsed) == data
