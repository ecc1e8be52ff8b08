"""Checkpoints of spec v1.1: the rotation bridged by both keys, extension lines and foreign
signature lines (witness cosignatures) read past, by the note parser and the verifier."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

from ropa.errors import VerificationError
from ropa.ledger.checkpoint import checkpoint_body, open_checkpoint, parse_checkpoint
from ropa.ledger.keys import SigningKey
from ropa.ledger.note import parse_note, sign_note, verify_note
from ropa.ledger.verify import Check, verify_bundle

FOREIGN = SigningKey("witness.example", bytes(range(64, 96)))


def _foreign_line(text: str, name: str = FOREIGN.name, key_id: bytes = FOREIGN.key_id) -> str:
    # a cosignature-shaped line: key id, 8-byte time, 64-byte signature
    blob = key_id + (1_700_000_000).to_bytes(8, "big") + FOREIGN.sign(text.encode())
    return f"\u2014 {name} {base64.b64encode(blob).decode()}\n"


def _with_extension(note: str, key: SigningKey, extension: str = "ropa-ext: 1") -> str:
    text, _ = parse_note(note)
    return sign_note(text + extension + "\n", [key])


def test_a_checkpoint_with_extension_lines_parses_its_first_three(vectors: Path) -> None:
    text, _ = parse_note((vectors / "checkpoint").read_text())
    plain = parse_checkpoint(text)
    assert parse_checkpoint(text + "first extension\nsecond: line\n") == plain


def test_the_checkpoint_body_keeps_extension_lines_and_drops_the_signatures(
    vectors: Path, keys: list[SigningKey]
) -> None:
    note = _with_extension((vectors / "checkpoint").read_text(), keys[1])
    body = checkpoint_body(note)
    assert body.endswith(b"\nropa-ext: 1\n")
    assert body == note.split("\n\n")[0].encode() + b"\n"
    assert "\u2014".encode() not in body


def test_foreign_signature_lines_are_ignored_by_the_note_verifier(
    vectors: Path, keys: list[SigningKey]
) -> None:
    note = (vectors / "checkpoint").read_text()
    text, _ = parse_note(note)
    # an unknown name, and a known name with an unknown key id
    cosigned = note + _foreign_line(text) + _foreign_line(text, name=keys[1].name, key_id=b"\0" * 4)
    assert verify_note(cosigned, [keys[1].verifier]) == text
    assert open_checkpoint(cosigned, [keys[1].verifier]).size == 10


def test_a_bad_signature_by_a_known_key_still_fails_among_foreign_lines(
    vectors: Path, keys: list[SigningKey]
) -> None:
    note = (vectors / "checkpoint").read_text()
    text, _ = parse_note(note)
    forged = note.replace(note.split("\n\n")[1], _foreign_line(text, keys[1].name, keys[1].key_id))
    with pytest.raises(VerificationError, match="does not verify"):
        verify_note(forged, [keys[1].verifier])


def _bundle_copy(vectors: Path, tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(vectors, bundle)
    return bundle


def test_a_bundle_checkpoint_with_extensions_and_cosignatures_verifies(
    vectors: Path, first_key: str, keys: list[SigningKey], tmp_path: Path
) -> None:
    bundle = _bundle_copy(vectors, tmp_path)
    note = _with_extension((bundle / "checkpoint").read_text(), keys[1])
    text, _ = parse_note(note)
    (bundle / "checkpoint").write_text(note + _foreign_line(text), encoding="utf-8")
    assert verify_bundle(bundle, first_key).size == 10


def test_a_kept_checkpoint_with_foreign_lines_verifies(
    vectors: Path, first_key: str, keys: list[SigningKey]
) -> None:
    kept = (vectors / "checkpoints" / "4").read_text()
    kept += _foreign_line(parse_note(kept)[0])
    assert verify_bundle(vectors, first_key, kept_checkpoint=kept).kept_checkpoint_size == 4


def test_the_bridged_rotation_checkpoint_verifies_under_either_key(
    vectors: Path, keys: list[SigningKey]
) -> None:
    note = (vectors / "checkpoints" / "7").read_text()
    old, new = keys
    for known in ([old.verifier], [new.verifier], [old.verifier, new.verifier]):
        assert open_checkpoint(note, known).size == 7


def test_a_kept_bridged_checkpoint_is_followed_across_the_rotation(
    vectors: Path, first_key: str
) -> None:
    kept = (vectors / "checkpoints" / "7").read_text()
    assert verify_bundle(vectors, first_key, kept_checkpoint=kept).kept_checkpoint_size == 7


def test_a_kept_bridged_checkpoint_whose_old_key_line_is_forged_is_refused(
    vectors: Path, first_key: str, keys: list[SigningKey]
) -> None:
    note = (vectors / "checkpoints" / "7").read_text()
    text, signatures = parse_note(note)
    old_line = note.split("\n\n")[1].split("\n")[0] + "\n"
    forged_blob = keys[0].key_id + keys[0].sign(b"another text\n")
    forged = note.replace(
        old_line, f"\u2014 {keys[0].name} {base64.b64encode(forged_blob).decode()}\n"
    )
    assert len(signatures) == 2
    with pytest.raises(VerificationError) as caught:
        verify_bundle(vectors, first_key, kept_checkpoint=forged)
    assert caught.value.check == Check.CONSISTENCY
    assert text in note
