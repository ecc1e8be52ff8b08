"""The fast encoder behind `canonical` gives exactly the generic RFC 8785 bytes."""

from __future__ import annotations

import random
from typing import Any

import pytest
import rfc8785

from ropa.ledger.canonical import canonical

# every control character, the escapes, DEL, the BMP's edges, a non-BMP character
TRICKY = (
    "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u00e9\u2028\u2029\ufb01\uffff'
    "\U0001f600\U00010000"
)


def _value(rnd: random.Random, depth: int = 0) -> Any:
    kind = rnd.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return "".join(rnd.choice(TRICKY + "abc") for _ in range(rnd.randrange(8)))
    if kind == 1:
        return rnd.choice([0, -1, 2**53 - 1, -(2**53 - 1), 42])
    if kind == 2:
        return rnd.choice([True, False])
    if kind == 3:
        return None
    if kind in (4, 5):
        return {
            "".join(rnd.choice(TRICKY + "abkz") for _ in range(rnd.randrange(1, 4))):
                _value(rnd, depth + 1)
            for _ in range(rnd.randrange(5))
        }
    return [_value(rnd, depth + 1) for _ in range(rnd.randrange(4))]


@pytest.mark.parametrize("seed", range(40))
def test_canonical_bytes_equal_the_generic_rfc8785_encoder(seed: int) -> None:
    value = _value(random.Random(seed))
    assert canonical(value) == bytes(rfc8785.dumps(value))


def test_member_names_outside_the_bmp_still_sort_by_utf16_code_units() -> None:
    value = {"\uffff": 1, "\U0001f600": 2, "a": {"\ue000": 3, "\U00010000": 4}}
    assert canonical(value) == bytes(rfc8785.dumps(value))


def test_a_lone_surrogate_is_judged_by_the_generic_encoder() -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        rfc8785.dumps({"a": "\ud800"})
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical({"a": "\ud800"})


def _exact(data: bytes) -> bool:
    from ropa.ledger.canonical import parse_json

    try:
        return canonical(parse_json(data)) == data
    except (ValueError, TypeError, RecursionError):
        return False


@pytest.mark.parametrize("seed", range(40))
def test_the_quick_check_accepts_canonical_lines(seed: int) -> None:
    from ropa.ledger.canonical import is_canonical

    data = canonical({"v": 1, "x": _value(random.Random(seed))})
    assert _exact(data)
    if not any(b >= 0xF0 for b in data):  # else: left to the exact check
        assert is_canonical(data)


@pytest.mark.parametrize("data", [
    b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":1,"a":1}', b'{"a":1.0}', b'{"a":1e3}',
    b'{"a":9007199254740992}', b'{"a":"\\u00e9"}', b'{"a":"\\/"}', b'{"a":NaN}',
    b'\xef\xbb\xbf{"a":1}', b'{"a":"\\ud800"}', b'{"a":"\xf0\x9f\x98\x80"}', b'{"a":-0}',
    b'{"a":"\xff"}', b"[1,2]\n", b'{"a":01}',
])
def test_the_quick_check_never_accepts_what_the_exact_check_refuses(data: bytes) -> None:
    from ropa.ledger.canonical import is_canonical

    assert not (is_canonical(data) and not _exact(data))
