"""The verifier gives the same answer inline and in worker processes, whatever the chunks.

Each bundle is tampered with at the byte level (edited, cut, swapped or extra lines, flipped
bits), often at or beside a chunk boundary, and verified with one process and with two
workers at several chunk sizes: the report, or the failure's check, seq and message, must
be the same every time.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ropa.errors import VerificationError
from ropa.ledger.keys import SigningKey
from ropa.ledger.verify import MAX_LINE, Check, verify_bundle

MakeLedger = Callable[..., Path]

SIZE = 120
ROTATE_AT = 64  # the first entry of a chunk of 16, 32 or 64
CHUNKS = [1, 7, 16, 32, 1000]


def _lines(bundle: Path, name: str) -> list[bytes]:
    return (bundle / name).read_bytes().splitlines(keepends=True)


def _write(bundle: Path, name: str, lines: list[bytes]) -> None:
    (bundle / name).write_bytes(b"".join(lines))


def _replace_in_entry(seq: int, old: bytes, new: bytes) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        lines = _lines(bundle, "entries.jsonl")
        assert old in lines[seq]
        lines[seq] = lines[seq].replace(old, new, 1)
        _write(bundle, "entries.jsonl", lines)

    return tamper


def _flip_signature(seq: int) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        lines = _lines(bundle, "signatures.jsonl")
        record = json.loads(lines[seq])
        raw = bytearray(base64.b64decode(record["signature"]))
        raw[7] ^= 0x01
        signature = base64.b64encode(bytes(raw)).decode()
        lines[seq] = lines[seq].replace(record["signature"].encode(), signature.encode())
        _write(bundle, "signatures.jsonl", lines)

    return tamper


def _drop_line(name: str, seq: int) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        lines = _lines(bundle, name)
        del lines[seq]
        _write(bundle, name, lines)

    return tamper


def _swap_entries(a: int, b: int) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        for name in ("entries.jsonl", "signatures.jsonl"):
            lines = _lines(bundle, name)
            lines[a], lines[b] = lines[b], lines[a]
            _write(bundle, name, lines)

    return tamper


def _cut_last_newline(name: str) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        (bundle / name).write_bytes((bundle / name).read_bytes()[:-1])

    return tamper


def _extra_line(name: str, line: bytes) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        (bundle / name).write_bytes((bundle / name).read_bytes() + line)

    return tamper


def _signature_seq(seq: int, new: bytes) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        lines = _lines(bundle, "signatures.jsonl")
        lines[seq] = lines[seq].replace(f'"seq":{seq},'.encode(), b'"seq":' + new + b",")
        _write(bundle, "signatures.jsonl", lines)

    return tamper


def _both(*tampers: Callable[[Path], None]) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        for each in tampers:
            each(bundle)

    return tamper


# name: (tampering, the check and seq it must fail with)
CASES: dict[str, tuple[Callable[[Path], None], tuple[str, int | None]]] = {
    "edited entry at a boundary": (
        _replace_in_entry(32, b'"revision":32', b'"revision":33'),
        (Check.LEAF_HASH, 32),
    ),
    "edited entry before a boundary": (
        _replace_in_entry(31, b'"revision":31', b'"revision":30'),
        (Check.LEAF_HASH, 31),
    ),
    "non-canonical entry": (
        _replace_in_entry(47, b'"seq":47,', b'"seq": 47,'),
        (Check.CANONICAL, 47),
    ),
    "float in an entry": (
        _replace_in_entry(15, b'"revision":15', b'"revision":15.5'),
        (Check.CANONICAL, 15),
    ),
    "flipped signature at a boundary": (_flip_signature(48), (Check.SIGNATURE, 48)),
    "flipped signature after the rotation": (_flip_signature(ROTATE_AT + 1), (Check.SIGNATURE, 65)),
    "flipped signature of the rotation": (_flip_signature(ROTATE_AT), (Check.SIGNATURE, 64)),
    "dropped entry line": (_drop_line("entries.jsonl", 16), (Check.LEAF_HASH, 16)),
    "dropped entry and signature line": (
        _both(_drop_line("entries.jsonl", 16), _drop_line("signatures.jsonl", 16)),
        (Check.SEQ, 16),
    ),
    "signatures end early": (_drop_line("signatures.jsonl", SIZE - 1), (Check.BUNDLE, SIZE - 1)),
    "swapped entries across a boundary": (_swap_entries(31, 32), (Check.SEQ, 31)),
    "entries without their last newline": (
        _cut_last_newline("entries.jsonl"),
        (Check.CANONICAL, SIZE - 1),
    ),
    "signatures without their last newline": (
        _cut_last_newline("signatures.jsonl"),
        (Check.CANONICAL, SIZE - 1),
    ),
    "an extra signature line": (
        _extra_line("signatures.jsonl", b"{}\n"),
        (Check.BUNDLE, SIZE),
    ),
    "an extra entry line": (_extra_line("entries.jsonl", b"{}\n"), (Check.BUNDLE, SIZE)),
    "signature seq true": (_signature_seq(1, b"true"), (Check.SEQ, 1)),
    "signature seq off by one": (_signature_seq(40, b"41"), (Check.SEQ, 40)),
    "two tamperings: the earlier one is reported": (
        _both(_flip_signature(90), _replace_in_entry(70, b'"revision":70', b'"revision":7')),
        (Check.LEAF_HASH, 70),
    ),
    "a signature failure before an ordering failure": (
        _both(_flip_signature(33), _swap_entries(40, 41)),
        (Check.SIGNATURE, 33),
    ),
}


def _outcome(bundle: Path, key: str, **options: Any) -> tuple[Any, ...]:
    try:
        report = verify_bundle(bundle, key, **options)
    except VerificationError as err:
        return ("failed", err.check, err.seq, err.message)
    return ("verified", report.size, report.root, report.key_ids_used, report.origin)


@pytest.fixture
def good(make_ledger: MakeLedger) -> Path:
    return make_ledger(SIZE, rotate_at=ROTATE_AT)


def _every_way(bundle: Path, key: str) -> set[tuple[Any, ...]]:
    outcomes = {_outcome(bundle, key, workers=1, chunk_size=chunk) for chunk in CHUNKS}
    outcomes |= {_outcome(bundle, key, workers=2, chunk_size=chunk) for chunk in (7, 32)}
    return outcomes


def test_a_good_ledger_verifies_the_same_every_way(
    good: Path, synthetic_keys: tuple[SigningKey, SigningKey]
) -> None:
    outcomes = _every_way(good, synthetic_keys[0].verifier_key)
    assert len(outcomes) == 1, outcomes
    (outcome,) = outcomes
    assert outcome[:2] == ("verified", SIZE)
    assert outcome[3] == tuple(k.key_id_hex for k in synthetic_keys)


@pytest.mark.parametrize("case", list(CASES))
def test_a_tampered_ledger_fails_the_same_every_way(
    case: str, good: Path, tmp_path: Path, synthetic_keys: tuple[SigningKey, SigningKey]
) -> None:
    tamper, expected = CASES[case]
    bundle = tmp_path / "bundle"
    shutil.copytree(good, bundle)
    tamper(bundle)
    outcomes = _every_way(bundle, synthetic_keys[0].verifier_key)
    assert len(outcomes) == 1, outcomes
    (outcome,) = outcomes
    assert outcome[0] == "failed", outcome
    assert (outcome[1], outcome[2]) == expected, outcome


def test_an_overlong_line_is_refused_in_order(
    good: Path, tmp_path: Path, synthetic_keys: tuple[SigningKey, SigningKey]
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(good, bundle)
    lines = _lines(bundle, "entries.jsonl")
    lines[50] = lines[50][:-2] + b" " * MAX_LINE + b"}\n"
    _write(bundle, "entries.jsonl", lines)
    key = synthetic_keys[0].verifier_key
    outcomes = {_outcome(bundle, key, workers=w, chunk_size=c) for w, c in ((1, 7), (2, 16))}
    assert outcomes == {("failed", Check.BUNDLE, 50, f"a line is over {MAX_LINE} bytes")}
    _flip_signature(20)(bundle)
    outcomes = {_outcome(bundle, key, workers=w, chunk_size=c) for w, c in ((1, 1000), (2, 7))}
    assert {outcome[:3] for outcome in outcomes} == {("failed", Check.SIGNATURE, 20)}
