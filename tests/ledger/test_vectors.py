"""Every byte of tests/assets/ledger-vectors/, made by an independent implementation, reproduced."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ropa.ledger.canonical import canonical, parse_json
from ropa.ledger.checkpoint import checkpoint_text, open_checkpoint, sign_checkpoint
from ropa.ledger.entry import build_entry, entry_line, rotation_entry, sign, signature_line
from ropa.ledger.keys import SigningKey, Verifier
from ropa.ledger.merkle import leaf_hash, root
from ropa.ledger.note import parse_note
from tests.conftest import shared_path
from tests.ledger.conftest import ROTATION_SEQ

SEQS = range(10)


@pytest.mark.parametrize("seq", SEQS)
def test_each_entry_line_is_its_own_canonical_form(
    seq: int, lines_of: Callable[[str], list[bytes]]
) -> None:
    line = lines_of("entries.jsonl")[seq]
    assert canonical(parse_json(line[:-1])) + b"\n" == line


@pytest.mark.parametrize("seq", SEQS)
def test_each_leaf_hash_is_sha256_of_0x00_and_the_canonical_line(
    seq: int,
    lines_of: Callable[[str], list[bytes]],
    signature_records: list[dict[str, Any]],
) -> None:
    line = lines_of("entries.jsonl")[seq]
    assert leaf_hash(line[:-1]).hex() == signature_records[seq]["leafHash"]


@pytest.mark.parametrize("seq", SEQS)
def test_signing_each_entry_with_the_seed_reproduces_its_signature_line(
    seq: int,
    entries: list[dict[str, Any]],
    lines_of: Callable[[str], list[bytes]],
    signer_of: Callable[[int], SigningKey],
) -> None:
    signed = sign(entries[seq], signer_of(seq))
    assert entry_line(signed) == lines_of("entries.jsonl")[seq]
    assert signature_line(signed) == lines_of("signatures.jsonl")[seq]


@pytest.mark.parametrize("seq", SEQS)
def test_build_entry_reproduces_each_entry_from_its_fields(
    seq: int, entries: list[dict[str, Any]], lines_of: Callable[[str], list[bytes]]
) -> None:
    fields = {k: v for k, v in entries[seq].items() if k != "v"}
    assert canonical(build_entry(**fields)) + b"\n" == lines_of("entries.jsonl")[seq]


def test_rotation_entry_reproduces_the_vectors_key_rotation(
    entries: list[dict[str, Any]], keys: list[SigningKey]
) -> None:
    old, new = keys
    vector = entries[6]
    made = rotation_entry(
        origin=vector["origin"],
        seq=6,
        ts=vector["ts"],
        key_record_id=vector["entity"]["id"],
        new_key=new.verifier,
        previous_key_id=old.key_id,
    )
    assert canonical(made) == canonical(vector)


def test_verifier_keys_and_key_ids_come_from_the_seeds(
    keys: list[SigningKey], vectors: Path
) -> None:
    private = json.loads((vectors / "keys-private.json").read_text())["keys"]
    assert [k.verifier_key for k in keys] == [k["verifierKey"] for k in private]
    assert [k.key_id_hex for k in keys] == ["b439fbc3", "529a661b"]
    assert (vectors / "keys.txt").read_text() == "".join(k.verifier_key + "\n" for k in keys)
    assert [Verifier.parse(k["verifierKey"]).key_id for k in private] == [k.key_id for k in keys]


@pytest.mark.parametrize("size", range(1, 11))
def test_signing_each_checkpoint_reproduces_its_file_byte_for_byte(
    size: int,
    entries: list[dict[str, Any]],
    lines_of: Callable[[str], list[bytes]],
    signer_of: Callable[[int], SigningKey],
    vectors: Path,
) -> None:
    leaves = [leaf_hash(line[:-1]) for line in lines_of("entries.jsonl")[:size]]
    # The checkpoint of size N is signed by the key in force after entry N-1; the one that
    # first includes the rotation by the retired key first, then the new one (spec §5 v1.1).
    signers = [signer_of(size)]
    if size - 1 == ROTATION_SEQ:
        signers = [signer_of(ROTATION_SEQ), signer_of(size)]
    note = sign_checkpoint(entries[0]["origin"], size, root(leaves), signers)
    assert note.encode() == (vectors / "checkpoints" / str(size)).read_bytes()


def test_the_rotation_checkpoint_is_signed_by_the_old_key_then_the_new(
    vectors: Path, keys: list[SigningKey]
) -> None:
    _, signatures = parse_note((vectors / "checkpoints" / "7").read_bytes())
    assert [(s.name, s.key_id) for s in signatures] == [(k.name, k.key_id) for k in keys]
    # Either key alone opens it: a signed-note verifier bridges the rotation.
    for key in keys:
        assert open_checkpoint((vectors / "checkpoints" / "7").read_text(), [key.verifier])


def test_the_in_repository_vectors_equal_the_shared_ones_byte_for_byte(vectors: Path) -> None:
    """Every vector file (their READMEs are prose, ours without links outside the repository)."""
    shared = shared_path("ledger-vectors")

    def files(root: Path) -> dict[Path, bytes]:
        return {
            p.relative_to(root): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and p.name != "README.md"
        }

    theirs, ours = files(shared), files(vectors)
    assert sorted(ours) == sorted(theirs)
    for name, data in theirs.items():
        assert ours[name] == data, f"{name} differs from the shared vectors"


def test_the_bundle_checkpoint_is_the_latest_one(vectors: Path) -> None:
    assert (vectors / "checkpoint").read_bytes() == (vectors / "checkpoints" / "10").read_bytes()


def test_checkpoint_text_has_three_lines_and_padded_base64(
    entries: list[dict[str, Any]], proofs: dict[str, Any], vectors: Path
) -> None:
    text = checkpoint_text(entries[0]["origin"], 10, bytes.fromhex(proofs["roots"]["10"]))
    assert (vectors / "checkpoint").read_text().startswith(text + "\n\u2014 ")
    assert text.split("\n")[2] == base64.b64encode(bytes.fromhex(proofs["roots"]["10"])).decode()


def test_state_json_is_the_canonical_replay_of_the_entries(
    entries: list[dict[str, Any]], vectors: Path
) -> None:
    state: dict[str, dict[str, Any]] = {}
    for entry in entries:
        records = state.setdefault(entry["entity"]["type"], {})
        if entry["after"] is None:
            records.pop(entry["entity"]["id"])
        else:
            records[entry["entity"]["id"]] = entry["after"]
    live = {kind: records for kind, records in state.items() if records}
    assert canonical(live) == (vectors / "state.json").read_bytes()
