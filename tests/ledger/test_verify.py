"""The bundle verifier on good ledgers, with kept checkpoints, live state and many workers."""

from __future__ import annotations

import base64
import json
import shutil
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ropa.errors import VerificationError
from ropa.ledger.keys import SigningKey
from ropa.ledger.verify import Check, verify_bundle

MakeLedger = Callable[..., Path]


def _flip_signature(bundle: Path, seq: int) -> None:
    lines = (bundle / "signatures.jsonl").read_bytes().splitlines(keepends=True)
    record = json.loads(lines[seq])
    raw = bytearray(base64.b64decode(record["signature"]))
    raw[5] ^= 0x80
    record["signature"] = base64.b64encode(bytes(raw)).decode()
    lines[seq] = (
        f'{{"keyId":"{record["keyId"]}","leafHash":"{record["leafHash"]}",'
        f'"seq":{seq},"signature":"{record["signature"]}"}}\n'
    ).encode()
    (bundle / "signatures.jsonl").write_bytes(b"".join(lines))


def _edit_entry_line(bundle: Path, seq: int, old: bytes, new: bytes) -> None:
    lines = (bundle / "entries.jsonl").read_bytes().splitlines(keepends=True)
    assert old in lines[seq]
    lines[seq] = lines[seq].replace(old, new, 1)
    (bundle / "entries.jsonl").write_bytes(b"".join(lines))


def _failure(bundle: Path, key: str, **options: Any) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        verify_bundle(bundle, key, **options)
    return caught.value


# -- the vectors ---------------------------------------------------------------------------


def test_the_vectors_directory_verifies_as_a_bundle(vectors: Path, first_key: str) -> None:
    report = verify_bundle(vectors, first_key)
    assert report.size == 10
    assert report.origin == "ropa.local/0b6e7f3a-2f4c-4c43-9b3e-6a1f0d2c9e11"
    assert report.root.hex() == "053cc39131aaf0c90cf011f7e591b07d4de128cee72f09ceb1f840c047583512"
    assert report.key_ids_used == ("b439fbc3", "529a661b")
    assert report.verifier_keys == tuple((vectors / "keys.txt").read_text().splitlines())
    assert report.kept_checkpoint_size is None
    assert report.entries_per_second > 0


@pytest.mark.parametrize("size", range(1, 11))
def test_the_ledger_extends_every_checkpoint_kept_along_the_way(
    size: int, vectors: Path, first_key: str
) -> None:
    kept = (vectors / "checkpoints" / str(size)).read_text()
    report = verify_bundle(vectors, first_key, kept_checkpoint=kept)
    assert report.kept_checkpoint_size == size


def test_a_kept_checkpoint_of_another_ledger_is_refused(
    vectors: Path, first_key: str, keys: list[SigningKey]
) -> None:
    kept = (vectors / "checkpoints" / "4").read_text().replace("ropa.local/", "other.host/")
    failure = _failure(vectors, first_key, kept_checkpoint=kept)
    assert (failure.check, failure.seq) == (Check.CONSISTENCY, None)


def test_a_kept_checkpoint_not_signed_by_the_key_then_in_force_is_refused(
    vectors: Path, first_key: str
) -> None:
    # Checkpoint 8 was signed by the second key; pretend the auditor kept it at size 5.
    signature = (vectors / "checkpoints" / "8").read_text().split("\n\n")[1]
    kept5_text = (vectors / "checkpoints" / "5").read_text().split("\n\n")[0]
    failure = _failure(vectors, first_key, kept_checkpoint=kept5_text + "\n\n" + signature)
    assert failure.check == Check.CONSISTENCY
    assert "signature" in failure.message


def test_a_malformed_kept_checkpoint_is_refused(vectors: Path, first_key: str) -> None:
    failure = _failure(vectors, first_key, kept_checkpoint="not a checkpoint")
    assert failure.check == Check.CONSISTENCY


def test_live_state_equal_to_the_replay_passes(vectors: Path, first_key: str) -> None:
    live = json.loads((vectors / "state.json").read_text())
    assert verify_bundle(vectors, first_key, live_state=live).live_state_checked


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            lambda s: s["Processor"]["5f0c1d2e-0000-4000-8000-000000000001"].update(dpf=False),
            "differs",
        ),
        (lambda s: s["Processor"].pop("5f0c1d2e-0000-4000-8000-000000000001"), "missing"),
        (lambda s: s.setdefault("Transfer", {}).update({"x": {"id": "x"}}), "not live"),
        (lambda s: s["Processor"]["5f0c1d2e-0000-4000-8000-000000000001"].update(dpf=1), "differs"),
    ],
    ids=["edited row", "deleted row", "inserted row", "true became 1"],
)
def test_a_row_changed_behind_the_applications_back_is_found(
    vectors: Path, first_key: str, edit: Any, words: str
) -> None:
    live = json.loads((vectors / "state.json").read_text())
    edit(live)
    failure = _failure(vectors, first_key, live_state=live)
    assert failure.check == Check.LIVE
    assert words in failure.message


def test_a_wrong_first_key_fails_at_entry_zero(vectors: Path, keys: list[SigningKey]) -> None:
    failure = _failure(vectors, keys[1].verifier_key)
    assert (failure.check, failure.seq) == (Check.SIGNATURE, 0)


def test_a_malformed_first_key_is_refused(vectors: Path) -> None:
    assert _failure(vectors, "nonsense").check == Check.SIGNATURE


def test_a_missing_file_is_named(tmp_path: Path, vectors: Path, first_key: str) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(vectors, bundle)
    (bundle / "signatures.jsonl").unlink()
    failure = _failure(bundle, first_key)
    assert failure.check == Check.BUNDLE
    assert "signatures.jsonl" in failure.message


def test_files_of_different_lengths_are_refused(
    tmp_path: Path, vectors: Path, first_key: str
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(vectors, bundle)
    lines = (bundle / "signatures.jsonl").read_bytes().splitlines(keepends=True)
    (bundle / "signatures.jsonl").write_bytes(b"".join(lines[:9]))
    failure = _failure(bundle, first_key)
    assert (failure.check, failure.seq) == (Check.BUNDLE, 9)


def test_a_float_in_an_entry_is_refused_even_in_canonical_form(
    tmp_path: Path, vectors: Path, first_key: str
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(vectors, bundle)
    _edit_entry_line(bundle, 3, b'"retention":"P2Y"', b'"retention":2.5')
    failure = _failure(bundle, first_key)
    assert (failure.check, failure.seq) == (Check.CANONICAL, 3)


def test_an_entry_with_an_extra_member_is_refused(
    tmp_path: Path, vectors: Path, first_key: str
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(vectors, bundle)
    _edit_entry_line(bundle, 2, b'"v":1}', b'"v":1,"w":2}')
    failure = _failure(bundle, first_key)
    assert (failure.check, failure.seq) == (Check.FORMAT, 2)


# -- synthetic ledgers: rotation, workers, ordering of failures, memory ---------------------


def test_a_written_ledger_with_a_rotation_verifies(
    make_ledger: MakeLedger, synthetic_keys: tuple[SigningKey, SigningKey]
) -> None:
    old, new = synthetic_keys
    bundle = make_ledger(50, rotate_at=20)
    report = verify_bundle(bundle, old.verifier_key)
    assert report.size == 50
    assert report.key_ids_used == (old.key_id_hex, new.key_id_hex)


def test_an_empty_ledger_verifies(
    make_ledger: MakeLedger, synthetic_keys: tuple[SigningKey, SigningKey]
) -> None:
    assert verify_bundle(make_ledger(0), synthetic_keys[0].verifier_key).size == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_many_workers_and_one_agree_on_a_good_ledger(
    make_ledger: MakeLedger, synthetic_keys: tuple[SigningKey, SigningKey], workers: int
) -> None:
    bundle = make_ledger(1500, rotate_at=700)
    seen: list[int] = []
    report = verify_bundle(
        bundle,
        synthetic_keys[0].verifier_key,
        workers=workers,
        chunk_size=100,
        progress=seen.append,
    )
    assert report.size == 1500
    assert seen == sorted(seen)
    assert seen[-1] == 1500


@pytest.mark.parametrize("workers", [1, 2])
def test_the_first_bad_signature_is_reported_whichever_worker_finds_it(
    make_ledger: MakeLedger, synthetic_keys: tuple[SigningKey, SigningKey], workers: int
) -> None:
    bundle = make_ledger(1500)
    _flip_signature(bundle, 1400)
    _flip_signature(bundle, 420)
    _flip_signature(bundle, 950)
    failure = _failure(bundle, synthetic_keys[0].verifier_key, workers=workers, chunk_size=100)
    assert (failure.check, failure.seq) == (Check.SIGNATURE, 420)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_later_ordering_failure_does_not_hide_an_earlier_bad_signature(
    make_ledger: MakeLedger, synthetic_keys: tuple[SigningKey, SigningKey], workers: int
) -> None:
    bundle = make_ledger(1500)
    _flip_signature(bundle, 430)
    _edit_entry_line(bundle, 460, b'"seq":460', b'"seq":461')
    failure = _failure(bundle, synthetic_keys[0].verifier_key, workers=workers, chunk_size=100)
    assert (failure.check, failure.seq) == (Check.SIGNATURE, 430)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_earlier_ordering_failure_wins_over_a_later_bad_signature(
    make_ledger: MakeLedger, synthetic_keys: tuple[SigningKey, SigningKey], workers: int
) -> None:
    bundle = make_ledger(1500)
    _flip_signature(bundle, 460)
    _edit_entry_line(bundle, 430, b'"seq":430', b'"seq":431')
    failure = _failure(bundle, synthetic_keys[0].verifier_key, workers=workers, chunk_size=100)
    # Editing the line breaks its leaf hash first (check 2), at entry 430.
    assert (failure.check, failure.seq) == (Check.LEAF_HASH, 430)


def test_within_one_entry_the_lower_numbered_check_is_reported(
    make_ledger: MakeLedger, synthetic_keys: tuple[SigningKey, SigningKey]
) -> None:
    bundle = make_ledger(30)
    # Not canonical (check 1) and therefore also the wrong leaf hash (check 2).
    _edit_entry_line(bundle, 12, b'"seq":12,', b'"seq": 12,')
    failure = _failure(bundle, synthetic_keys[0].verifier_key, workers=1)
    assert (failure.check, failure.seq) == (Check.CANONICAL, 12)


def _peak_memory(bundle: Path, key: str) -> int:
    tracemalloc.start()
    try:
        verify_bundle(bundle, key, workers=1, chunk_size=256)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_stays_flat_as_the_ledger_grows(
    make_ledger: MakeLedger, synthetic_keys: tuple[SigningKey, SigningKey]
) -> None:
    key = synthetic_keys[0].verifier_key
    small = _peak_memory(make_ledger(300), key)
    large = _peak_memory(make_ledger(2400), key)
    assert large < small * 1.5, (small, large)


def test_deeply_nested_json_is_a_failure_not_a_crash(
    tmp_path: Path, vectors: Path, first_key: str
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(vectors, bundle)
    deep = b"[" * 100_000 + b"]" * 100_000
    _edit_entry_line(bundle, 1, b'"services":["CRM","marketing automation"]', b'"services":' + deep)
    failure = _failure(bundle, first_key, workers=1)
    assert (failure.check, failure.seq) == (Check.CANONICAL, 1)


def test_a_malformed_checkpoint_fails_the_root_check(
    tmp_path: Path, vectors: Path, first_key: str
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(vectors, bundle)
    (bundle / "checkpoint").write_text("ropa.local/x\n10\nnot base64\n\n\u2014 k AAAAAAAA\n")
    failure = _failure(bundle, first_key)
    assert (failure.check, failure.seq) == (Check.ROOT, None)
