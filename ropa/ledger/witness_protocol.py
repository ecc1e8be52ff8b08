"""The wire format of C2SP `tlog-witness` (v1): the `add-checkpoint` request and answers.

    POST <submission prefix>/add-checkpoint

The request body is an old size line `old <size>\\n` (decimal, no leading zeros), zero to
63 consistency proof lines (one base64 hash each), an empty line, then the checkpoint
note with its signatures. Answers:

- 200: one or more cosignature lines (`— <name> <base64>\\n`, tlog-cosignature);
- 409 with `Content-Type: text/x.tlog.size` and the witness's latest cosigned size in
  decimal and a newline, when the old size is not the witness's (or, with the same size,
  the root hash differs);
- 400 malformed or old size above the checkpoint's, 403 no trusted log signature, 404
  unknown origin, 422 the consistency proof does not verify.

This module only formats and parses; `ropa.services.witness` decides.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "ADD_CHECKPOINT_PATH",
    "MAX_BODY",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpoint",
    "format_add_checkpoint",
    "format_size",
    "parse_add_checkpoint",
    "parse_cosignature_lines",
    "parse_size",
]

ADD_CHECKPOINT_PATH = "/add-checkpoint"
SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024  # a checkpoint with 100 signatures and 63 proof lines is far below
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}", re.ASCII)
_SIGNATURE_PREFIX = "\u2014 "


class AddCheckpoint(NamedTuple):
    """An add-checkpoint request: old size, proof hashes and the checkpoint note."""

    old_size: int
    proof: list[bytes]
    checkpoint: str


def _size(text: str, what: str) -> int:
    if _SIZE.fullmatch(text) is None:
        raise ValueError(f"{what} is not a decimal without leading zeros")
    return int(text)


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], checkpoint: str) -> bytes:
    if old_size < 0:
        raise ValueError("a tree size is non-negative")
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"at most {MAX_PROOF_LINES} consistency proof lines")
    lines = [f"old {old_size}\n"] + [base64.b64encode(h).decode() + "\n" for h in proof]
    return ("".join(lines) + "\n" + checkpoint).encode()


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """The request, or ValueError (answered 400) if it is not as tlog-witness says."""
    if len(body) > MAX_BODY:
        raise ValueError(f"the request body is over {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the request body is not UTF-8") from None
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise ValueError("the request needs an empty line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise ValueError("the request starts with an `old <size>` line")
    old_size = _size(lines[0][4:], "the old size")
    proof_lines = lines[1:]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise ValueError(f"at most {MAX_PROOF_LINES} consistency proof lines")
    proof: list[bytes] = []
    for line in proof_lines:
        try:
            proof.append(base64.b64decode(line, validate=True))
        except (binascii.Error, ValueError):
            raise ValueError("a consistency proof line is not standard base64") from None
    if not checkpoint:
        raise ValueError("the request carries no checkpoint")
    return AddCheckpoint(old_size, proof, checkpoint)


def format_size(size: int) -> bytes:
    """The body of a 409 answer (`text/x.tlog.size`)."""
    return f"{size}\n".encode()


def parse_size(body: bytes) -> int:
    """The size in a 409 answer; ValueError if it is not `<decimal>\\n`."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("a size answer is ASCII") from None
    if not text.endswith("\n"):
        raise ValueError("a size answer ends with a newline")
    return _size(text[:-1], "the witness's size")


def parse_cosignature_lines(body: bytes) -> list[str]:
    """The signature lines of a 200 answer, each with its newline; ValueError if malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("a cosignature answer is UTF-8") from None
    if not text or not text.endswith("\n"):
        raise ValueError("a cosignature answer is one or more lines, each ending in a newline")
    lines = [line + "\n" for line in text[:-1].split("\n")]
    for line in lines:
        if not line.startswith(_SIGNATURE_PREFIX) or " " not in line[2:].strip():
            raise ValueError("a cosignature line starts with an em dash and a space")
    return lines
