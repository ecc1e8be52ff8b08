"""Checkpoints: the C2SP `tlog-checkpoint` text of a ledger's tree, signed as a note.

LEDGER-SPEC §5. The text is exactly three lines, each ending in a newline:

    <origin>
    <tree size, decimal, no leading zeros>
    <root hash, standard base64 with padding>

From v1.1 a checkpoint MAY carry extension lines after the third (C2SP tlog-checkpoint):
ropa writes none, and parsing reads the first three and accepts the others unread. The
checkpoint's *body* (spec §9) is its text, extension lines included: what anchors stamp.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ropa.ledger.keys import SigningKey, Verifier
from ropa.ledger.merkle import HASH_SIZE
from ropa.ledger.note import parse_note, sign_note, verify_note

__all__ = [
    "Checkpoint",
    "checkpoint_body",
    "checkpoint_text",
    "open_checkpoint",
    "parse_checkpoint",
    "parse_checkpoint_body",
    "sign_checkpoint",
]

_SIZE = re.compile(r"0|[1-9][0-9]*", re.ASCII)


class Checkpoint(NamedTuple):
    origin: str
    size: int
    root: bytes


def _check_origin(origin: str) -> None:
    if not origin or "\n" in origin or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in origin):
        raise ValueError("a checkpoint origin is one non-empty line without control characters")


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    _check_origin(origin)
    if size < 0:
        raise ValueError("a tree size is non-negative")
    if len(root) != HASH_SIZE:
        raise ValueError(f"a root hash is {HASH_SIZE} bytes")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """(origin, size, root) from checkpoint text; ValueError unless its first three lines are
    canonical. Extension lines after the third must be non-empty and are otherwise ignored."""
    return parse_checkpoint_body(text)[0]


def parse_checkpoint_body(text: str) -> tuple[Checkpoint, list[str]]:
    """(origin, size, root) and the extension lines; ValueError if malformed."""
    if not text.endswith("\n"):
        raise ValueError("checkpoint text ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError(f"checkpoint text is at least 3 lines, not {len(lines)}")
    if any(not line for line in lines[3:]):
        raise ValueError("a checkpoint's extension lines are not empty")
    origin, size_text, root_text = lines[:3]
    _check_origin(origin)
    if _SIZE.fullmatch(size_text) is None:
        raise ValueError(f"checkpoint size {size_text!r} is not a decimal without leading zeros")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("checkpoint root is not standard base64") from None
    if len(root) != HASH_SIZE or base64.b64encode(root).decode() != root_text:
        raise ValueError(f"checkpoint root is not {HASH_SIZE} bytes in padded base64")
    return Checkpoint(origin, int(size_text), root), lines[3:]


def checkpoint_body(note: str | bytes) -> bytes:
    """The bytes anchors stamp (spec §9): the note's text lines, without the empty line and
    the signature lines; ValueError unless it is a well-formed checkpoint note."""
    text, _ = parse_note(note)
    parse_checkpoint(text)
    return text.encode()


def sign_checkpoint(origin: str, size: int, root: bytes, keys: Iterable[SigningKey]) -> str:
    """The checkpoint note, as served and exported."""
    return sign_note(checkpoint_text(origin, size, root), keys)


def open_checkpoint(note: str | bytes, verifiers: Sequence[Verifier]) -> Checkpoint:
    """Verify the note's signature (see `verify_note`) and parse its checkpoint."""
    return parse_checkpoint(verify_note(note, verifiers))
