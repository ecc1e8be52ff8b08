"""Witness cosignatures: C2SP `tlog-cosignature` v1 for Ed25519 (LEDGER-SPEC §9).

A cosignature is a signed-note signature line added to a checkpoint by a witness:

    — <witness name> base64(key id 4 bytes ‖ timestamp 8 bytes ‖ Ed25519 signature 64 bytes)

- key id = SHA-256(name ‖ "\\n" ‖ 0x04 ‖ 32-byte public key)[:4];
- timestamp = the POSIX time (seconds) the cosignature was made, a big-endian u64 at most
  2^63 - 1 (the `timestamped_signature` structure, serialised as RFC 8446 §3.3 says);
- the signature is over the message `cosignature/v1\\n`, `time <timestamp>\\n`, then the
  whole checkpoint body (its three lines and any extension lines, each with its newline,
  without the empty line and the signature lines).

A witness's public verifier key is `<name>+<key id hex>+<base64(0x04 ‖ public key)>` (C2SP
signed-note vkeys with signature type 0x04). Its private key file reads, by analogy with
the ledger's keys (keys.py), `PRIVATE+KEY+<name>+<key id hex>+<base64(0x04 ‖ seed)>`.

The Ed25519 message does not commit to the witness name, so one public key must never
serve two witnesses (the spec says so; nothing here can check it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from collections.abc import Sequence
from typing import NamedTuple

import nacl.exceptions
import nacl.signing

from ropa.errors import ConfigurationError, VerificationError
from ropa.ledger.keys import check_name, read_private_file, write_private_file
from ropa.ledger.note import NoteSignature, parse_note

__all__ = [
    "ALG_COSIGNATURE_V1",
    "Cosignature",
    "CosignerVerifier",
    "CosigningKey",
    "cosignature_key_id",
    "cosigned_message",
    "parse_cosignature",
    "verify_cosignatures",
]

ALG_COSIGNATURE_V1 = 0x04
HEADER = b"cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_SIGNATURE_PREFIX = "\u2014 "  # em dash, space: a signed-note signature line


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name ‖ "\\n" ‖ 0x04 ‖ public key)[:4] (tlog-cosignature, "Format")."""
    return hashlib.sha256(
        name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key
    ).digest()[:4]


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What an Ed25519 cosignature signs: the header line, the time line, the body."""
    _check_timestamp(timestamp)
    if not body.endswith("\n") or "\n\n" in body:
        raise ValueError("a checkpoint body is non-empty lines, each ending in a newline")
    return HEADER + f"time {timestamp}\n".encode() + body.encode()


def _check_timestamp(timestamp: int) -> None:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError("a cosignature timestamp is between 0 and 2^63 - 1")


def _decode_key_data(data: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what}: key data is not standard base64") from None
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise ValueError(f"{what}: key data must be 0x04 followed by 32 bytes (cosignature/v1)")
    return raw[1:]


def _split_key(text: str, what: str) -> tuple[str, str, str]:
    name, sep1, rest = text.partition("+")
    hex_id, sep2, data = rest.partition("+")
    if not (sep1 and sep2):
        raise ValueError(f"a {what} reads <name>+<key id>+<key data>")
    check_name(name)
    if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
        raise ValueError(f"{what}: key id must be 8 lowercase hex digits")
    return name, hex_id, data


class Cosignature(NamedTuple):
    """A cosignature line, decoded (not verified)."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_id + struct.pack(">Q", self.timestamp) + self.signature
        return f"{_SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


def parse_cosignature(signature: NoteSignature) -> Cosignature | None:
    """The cosignature a note signature holds, or None if it is not 72 bytes long."""
    if len(signature.signature) != 8 + 64:
        return None
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    if timestamp > MAX_TIMESTAMP:
        return None
    return Cosignature(signature.name, signature.key_id, timestamp, signature.signature[8:])


class CosignerVerifier:
    """A witness's public key: verifies its cosignatures."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        if len(public_key) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        self.name = check_name(name)
        self.public_key = bytes(public_key)
        self.key_id = cosignature_key_id(name, self.public_key)
        self._key = nacl.signing.VerifyKey(self.public_key)

    @classmethod
    def parse(cls, vkey: str) -> CosignerVerifier:
        """Parse `<name>+<key id hex>+<base64(0x04 ‖ public key)>`; ValueError if malformed."""
        name, hex_id, data = _split_key(vkey.strip(), "witness verifier key")
        verifier = cls(name, _decode_key_data(data, "witness verifier key"))
        if bytes.fromhex(hex_id) != verifier.key_id:
            raise ValueError(f"witness verifier key: key id {hex_id} does not match the key")
        return verifier

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    @property
    def verifier_key(self) -> str:
        data = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id_hex}+{data}"

    def matches(self, signature: NoteSignature | Cosignature) -> bool:
        return signature.name == self.name and signature.key_id == self.key_id

    def verify(self, body: str, cosignature: Cosignature) -> bool:
        """Whether `cosignature` is this witness's, over the checkpoint `body`."""
        if not self.matches(cosignature) or len(cosignature.signature) != 64:
            return False
        try:
            message = cosigned_message(body, cosignature.timestamp)
            self._key.verify(message, cosignature.signature)
        except (ValueError, nacl.exceptions.BadSignatureError):
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CosignerVerifier):
            return NotImplemented
        return (self.name, self.public_key) == (other.name, other.public_key)

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"CosignerVerifier({self.verifier_key!r})"


class CosigningKey:
    """A witness's Ed25519 private key. Its repr shows the name and key id only."""

    __slots__ = ("_key", "verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self._key = nacl.signing.SigningKey(bytes(seed))
        self.verifier = CosignerVerifier(name, bytes(self._key.verify_key))

    @classmethod
    def generate(cls, name: str) -> CosigningKey:
        return cls(name, os.urandom(32))

    @property
    def name(self) -> str:
        return self.verifier.name

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    @property
    def verifier_key(self) -> str:
        return self.verifier.verifier_key

    def cosign(self, body: str, timestamp: int) -> Cosignature:
        """The cosignature of the checkpoint `body` made at POSIX time `timestamp`."""
        signature = bytes(self._key.sign(cosigned_message(body, timestamp)).signature)
        return Cosignature(self.name, self.key_id, timestamp, signature)

    def to_private_text(self) -> str:
        data = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + bytes(self._key)).decode()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.verifier.key_id_hex}+{data}"

    @classmethod
    def from_private_text(cls, text: str) -> CosigningKey:
        """Parse the one-line private key; ValueError (never quoting the key) if malformed."""
        text = text.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise ValueError("a private key line starts with PRIVATE+KEY+")
        name, hex_id, data = _split_key(text[len(_PRIVATE_PREFIX) :], "witness private key")
        key = cls(name, _decode_key_data(data, "witness private key"))
        if bytes.fromhex(hex_id) != key.key_id:
            raise ValueError(f"witness private key: key id {hex_id} does not match the key")
        return key

    @classmethod
    def load_from_file(cls, path: str | os.PathLike[str]) -> CosigningKey:
        raw = read_private_file(path, "witness key")
        try:
            return cls.from_private_text(raw)
        except ValueError as err:
            raise ConfigurationError(f"the witness key file {path} is malformed: {err}") from None

    def write_to_file(self, path: str | os.PathLike[str]) -> None:
        """Create `path` with mode 0600 and the private key; refuses to overwrite a file."""
        write_private_file(path, self.to_private_text())

    def __repr__(self) -> str:
        return f"CosigningKey(name={self.name!r}, key_id={self.verifier.key_id_hex!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("witness keys are not picklable")


def verify_cosignatures(
    note: str | bytes, witnesses: Sequence[CosignerVerifier]
) -> dict[str, Cosignature]:
    """The verified cosignatures on a checkpoint note, by witness name.

    Lines by keys not among `witnesses` are ignored (signed-note, tlog-cosignature). A line
    that names a configured witness and key id but does not verify over this checkpoint's
    body raises VerificationError("cosignature", ...) naming the witness.
    """
    body, signatures = parse_note(note)
    found: dict[str, Cosignature] = {}
    for signature in signatures:
        for witness in witnesses:
            if not witness.matches(signature):
                continue
            cosignature = parse_cosignature(signature)
            if cosignature is None or not witness.verify(body, cosignature):
                raise VerificationError(
                    "cosignature",
                    f"the cosignature by witness {witness.name} ({witness.key_id_hex}) "
                    "does not verify",
                )
            found.setdefault(witness.name, cosignature)
    return found
