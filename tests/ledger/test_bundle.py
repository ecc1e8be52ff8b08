"""The export bundle writer: the vectors' bytes, and nothing half-written on failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ropa.errors import VerificationError
from ropa.ledger.bundle import BundleWriter
from ropa.ledger.entry import SignedEntry, sign
from ropa.ledger.keys import SigningKey
from ropa.ledger.verify import Check, verify_bundle

BUNDLE_FILES = ("entries.jsonl", "signatures.jsonl", "checkpoint", "keys.txt", "state.json")


def _write_vectors(
    out: Path,
    entries: list[dict[str, Any]],
    signer_of: Callable[[int], SigningKey],
    vectors: Path,
    keys: list[SigningKey],
) -> Path:
    with BundleWriter(out) as bundle:
        for seq, entry in enumerate(entries):
            bundle.add(sign(entry, signer_of(seq)))
        state = json.loads((vectors / "state.json").read_text())
        return bundle.finish(
            (vectors / "checkpoint").read_text(), [k.verifier_key for k in keys], state
        )


def test_writing_the_vector_entries_reproduces_the_vector_bundle_byte_for_byte(
    tmp_path: Path,
    entries: list[dict[str, Any]],
    signer_of: Callable[[int], SigningKey],
    vectors: Path,
    keys: list[SigningKey],
) -> None:
    out = _write_vectors(tmp_path / "export", entries, signer_of, vectors, keys)
    assert out == tmp_path / "export"
    for name in BUNDLE_FILES:
        assert (out / name).read_bytes() == (vectors / name).read_bytes(), name
    assert sorted(p.name for p in out.iterdir()) == sorted(BUNDLE_FILES)


def _export_then_fail(out: Path, first: SignedEntry) -> None:
    with BundleWriter(out) as bundle:
        bundle.add(first)
        raise RuntimeError("database went away")


def test_an_export_that_fails_midway_leaves_nothing_behind(
    tmp_path: Path, entries: list[dict[str, Any]], signer_of: Callable[[int], SigningKey]
) -> None:
    out = tmp_path / "export"
    with pytest.raises(RuntimeError, match="database went away"):
        _export_then_fail(out, sign(entries[0], signer_of(0)))
    assert list(tmp_path.iterdir()) == []


def test_leaving_without_finish_discards_the_partial_bundle(
    tmp_path: Path, entries: list[dict[str, Any]], signer_of: Callable[[int], SigningKey]
) -> None:
    with BundleWriter(tmp_path / "export") as bundle:
        bundle.add(sign(entries[0], signer_of(0)))
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_that_does_not_match_the_entries_is_refused(
    tmp_path: Path,
    entries: list[dict[str, Any]],
    signer_of: Callable[[int], SigningKey],
    vectors: Path,
    keys: list[SigningKey],
) -> None:
    with BundleWriter(tmp_path / "export") as bundle:
        for seq, entry in enumerate(entries[:9]):
            bundle.add(sign(entry, signer_of(seq)))
        with pytest.raises(ValueError, match="checkpoint size"):
            bundle.finish((vectors / "checkpoint").read_text(), [keys[0].verifier_key], {})
    assert list(tmp_path.iterdir()) == []


def test_entries_must_come_in_seq_order(
    tmp_path: Path, entries: list[dict[str, Any]], signer_of: Callable[[int], SigningKey]
) -> None:
    with BundleWriter(tmp_path / "export") as bundle, pytest.raises(ValueError, match="expected"):
        bundle.add(sign(entries[1], signer_of(1)))


def test_an_existing_directory_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    with pytest.raises(FileExistsError):
        BundleWriter(tmp_path / "export")


def test_state_leaves_out_types_without_live_records(
    tmp_path: Path,
    entries: list[dict[str, Any]],
    signer_of: Callable[[int], SigningKey],
    vectors: Path,
    keys: list[SigningKey],
) -> None:
    with BundleWriter(tmp_path / "export") as bundle:
        for seq, entry in enumerate(entries):
            bundle.add(sign(entry, signer_of(seq)))
        state = json.loads((vectors / "state.json").read_text())
        state["Transfer"] = {}
        out = bundle.finish(
            (vectors / "checkpoint").read_text(), [k.verifier_key for k in keys], state
        )
    assert (out / "state.json").read_bytes() == (vectors / "state.json").read_bytes()


def test_as_stored_exports_a_mismatched_ledger_for_the_verifier_to_judge(
    tmp_path: Path,
    entries: list[dict[str, Any]],
    signer_of: Callable[[int], SigningKey],
    vectors: Path,
    keys: list[SigningKey],
) -> None:
    with BundleWriter(tmp_path / "export") as bundle:
        for seq, entry in enumerate(entries[:9]):
            bundle.add(sign(entry, signer_of(seq)))
        out = bundle.finish(
            (vectors / "checkpoint").read_text(), [k.verifier_key for k in keys], {}, as_stored=True
        )
    with pytest.raises(VerificationError) as caught:
        verify_bundle(out, keys[0].verifier_key)
    assert (caught.value.check, caught.value.seq) == (Check.ROOT, None)
