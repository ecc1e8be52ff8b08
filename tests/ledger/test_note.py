"""C2SP signed notes and tlog checkpoints, as Go's golang.org/x/mod/sumdb/note reads them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ropa.errors import VerificationError
from ropa.ledger.checkpoint import (
    checkpoint_text,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from ropa.ledger.keys import SigningKey
from ropa.ledger.note import NoteSignature, parse_note, sign_note, verify_note

ORIGIN = "ropa.local/0b6e7f3a-2f4c-4c43-9b3e-6a1f0d2c9e11"
OTHER = SigningKey("ropa.local-20261101", bytes(32))  # same name as a vector key, other key


def test_parse_note_splits_text_and_signature_lines(vectors: Path, keys: list[SigningKey]) -> None:
    text, signatures = parse_note((vectors / "checkpoint").read_bytes())
    assert text == f"{ORIGIN}\n10\nBTzDkTGq8MkM8BH35ZGwfU3hKM7nLwnOsfhAwEdYNRI=\n"
    assert len(signatures) == 1
    assert isinstance(signatures[0], NoteSignature)
    name, key_id, signature = signatures[0]
    assert (name, key_id, len(signature)) == (keys[1].name, keys[1].key_id, 64)


def test_the_note_signature_is_ed25519_over_the_text_bytes_themselves(
    vectors: Path, keys: list[SigningKey]
) -> None:
    text, signatures = parse_note((vectors / "checkpoint").read_text())
    assert keys[1].verifier.verify(text.encode(), signatures[0].signature)


def test_verify_note_returns_the_text_for_a_known_signer(
    vectors: Path, keys: list[SigningKey]
) -> None:
    note = (vectors / "checkpoint").read_text()
    assert verify_note(note, [keys[1].verifier]).startswith(ORIGIN + "\n10\n")
    # Unknown signers are ignored as long as one known key signed.
    assert verify_note(note, [keys[0].verifier, keys[1].verifier])


def test_verify_note_refuses_a_note_no_known_key_signed(
    vectors: Path, keys: list[SigningKey]
) -> None:
    with pytest.raises(VerificationError, match="not signed"):
        verify_note((vectors / "checkpoint").read_text(), [keys[0].verifier])


def test_verify_note_refuses_a_known_key_whose_signature_fails(keys: list[SigningKey]) -> None:
    note = sign_note("hello\n", [keys[0]])
    tampered = note.replace("hello", "jello", 1)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_note(tampered, [keys[0].verifier])


def test_a_same_named_key_with_another_id_does_not_count(keys: list[SigningKey]) -> None:
    note = sign_note("hello\n", [OTHER])
    with pytest.raises(VerificationError):
        verify_note(note, [keys[0].verifier])


def test_sign_note_adds_one_em_dash_line_per_key(keys: list[SigningKey]) -> None:
    note = sign_note("text\n", keys)
    lines = note.split("\n")
    assert lines[:2] == ["text", ""]
    for line, key in zip(lines[2:4], keys, strict=True):
        dash, name, blob = line.split(" ")
        assert dash == "\u2014"
        assert name == key.name
        assert base64.b64decode(blob)[:4] == key.key_id
    assert verify_note(note, [keys[1].verifier]) == "text\n"


@pytest.mark.parametrize(
    "note",
    [
        "no blank line\n\u2014 k AAAAAAA=\n",
        "text\n\n- k AAAAAAAA\n",  # hyphen, not an em dash
        "text\n\n\u2014 k AAAAAAAA",  # no final newline
        "text\n\n\u2014 k not*base64\n",
        "text\n\n\u2014 k AAAA\n",  # shorter than a key id and a byte
        "te\x01xt\n\n\u2014 k AAAAAAAA\n",  # control character
        "text\n\n\u2014 bad+name AAAAAAAA\n",
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(ValueError):
        parse_note(note)


@pytest.mark.parametrize("text", ["no newline", "a\n\nb\n", "bell\x07\n"])
def test_sign_note_refuses_text_a_reader_could_not_split(text: str, keys: list[SigningKey]) -> None:
    with pytest.raises(ValueError):
        sign_note(text, keys)


def test_checkpoint_text_round_trips_through_parse(keys: list[SigningKey]) -> None:
    root = bytes(range(32))
    text = checkpoint_text(ORIGIN, 42, root)
    assert text == f"{ORIGIN}\n42\n{base64.b64encode(root).decode()}\n"
    assert parse_checkpoint(text) == (ORIGIN, 42, root)
    assert open_checkpoint(sign_checkpoint(ORIGIN, 42, root, [keys[0]]), [keys[0].verifier]) == (
        ORIGIN,
        42,
        root,
    )


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n042\n{base64.b64encode(bytes(32)).decode()}\n",  # leading zero
        f"{ORIGIN}\n-1\n{base64.b64encode(bytes(32)).decode()}\n",
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(31)).decode()}\n",  # short root
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode().rstrip('=')}\n",  # no padding
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode()}\n\n",  # empty extension line
        f"{ORIGIN}\n1\n{base64.b64encode(bytes(32)).decode()}",  # no final newline
        f"\n1\n{base64.b64encode(bytes(32)).decode()}\n",  # empty origin
    ],
)
def test_parse_checkpoint_refuses_anything_but_the_three_canonical_lines(text: str) -> None:
    with pytest.raises(ValueError):
        parse_checkpoint(text)


@pytest.mark.parametrize("size", range(1, 11))
def test_every_vector_checkpoint_opens_with_the_key_in_force(
    size: int, vectors: Path, keys: list[SigningKey], proofs: dict[str, object]
) -> None:
    signer = keys[0] if size <= 6 else keys[1]
    checkpoint = open_checkpoint(
        (vectors / "checkpoints" / str(size)).read_text(), [signer.verifier]
    )
    roots = proofs["roots"]
    assert isinstance(roots, dict)
    assert checkpoint == (ORIGIN, size, bytes.fromhex(roots[str(size)]))
