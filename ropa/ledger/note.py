"""Signed notes, as C2SP `signed-note` defines them (and Go's golang.org/x/mod/sumdb/note reads).

A note is UTF-8 text ending in a newline, then one empty line, then one line per
signature: `— <key name> <base64(key id 4 bytes ‖ Ed25519 signature 64 bytes)>\n`
(U+2014 EM DASH, a space). The Ed25519 signature is over the text bytes themselves,
its final newline included. Checkpoints (LEDGER-SPEC §5) are signed notes.

`verify_note` behaves as Go's `note.Open`: signatures by unknown keys are ignored, a
signature by a known key that does not verify is an error, and at least one known key
must have signed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ropa.errors import VerificationError
from ropa.ledger.keys import SigningKey, Verifier, check_name

__all__ = ["NoteSignature", "parse_note", "sign_note", "verify_note"]

_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_MAX_SIGNATURES = 100  # as Go's note package: a bound on work for hostile input


class NoteSignature(NamedTuple):
    name: str
    key_id: bytes
    signature: bytes


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise ValueError("note text must end with a newline")
    if any((ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F for ch in text):
        raise ValueError("note text must hold no control characters other than newline")


def sign_note(text: str, keys: Iterable[SigningKey]) -> str:
    """The signed note: `text`, an empty line, and one signature line per key."""
    _check_text(text)
    if "\n\n" in text:
        raise ValueError("note text must not contain an empty line")
    message = text.encode()
    lines = []
    for key in keys:
        blob = base64.b64encode(key.key_id + key.sign(message)).decode()
        lines.append(f"{_SIGNATURE_PREFIX}{key.name} {blob}\n")
    if not lines:
        raise ValueError("a signed note needs at least one key")
    return text + "\n" + "".join(lines)


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a note into its text and signatures, unverified; ValueError if malformed."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("a note is UTF-8") from None
    if any((ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F for ch in note):
        raise ValueError("a note holds no control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise ValueError("a note needs an empty line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise ValueError("a note's signature block must end with a newline")
    signatures: list[NoteSignature] = []
    for line in block[:-1].split("\n"):
        if len(signatures) == _MAX_SIGNATURES:
            raise ValueError(f"a note carries at most {_MAX_SIGNATURES} signatures")
        if not line.startswith(_SIGNATURE_PREFIX):
            raise ValueError("a signature line starts with an em dash and a space")
        name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        try:
            check_name(name)
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise ValueError(f"malformed signature line for key {name!r}") from None
        if len(raw) < 5:
            raise ValueError(f"signature by {name!r} is too short")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return text, signatures


def verify_note(note: str | bytes, verifiers: Sequence[Verifier]) -> str:
    """The note's text once a known key's signature verifies.

    Raises ValueError if the note is malformed, VerificationError("signed note", ...) if
    a known key's signature fails or no known key signed.
    """
    text, signatures = parse_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    message = text.encode()
    verified = False
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, signature.signature):
            raise VerificationError(
                "signed note",
                f"the signature by {verifier.name} ({verifier.key_id_hex}) does not verify",
            )
        verified = True
    if not verified:
        wanted = ", ".join(f"{v.name} ({v.key_id_hex})" for v in verifiers) or "no key"
        raise VerificationError("signed note", f"the note is not signed by {wanted}")
    return text
