"""Ledger signing keys: Ed25519 (RFC 8032, via PyNaCl) named as in C2SP signed-note.

LEDGER-SPEC §4. A key has a name (no whitespace, no `+`) and a key id, the first 4 bytes
of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). Its public form is the verifier key
`<name>+<key id hex>+<base64(0x01 ‖ public key)>`; its private form is the one line Go's
`golang.org/x/mod/sumdb/note` writes, `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ seed)>`.

Entries are signed over `"ropa-ledger/v1 entry\n" ‖ leaf_hash` (§3): the context string
keeps an entry signature from ever being mistaken for a note signature.

The private seed never appears in a repr, an error message or a log line; it is read
from a file only the owner can read (mode 0600) or from an environment variable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import nacl.exceptions
import nacl.signing

from ropa.errors import ConfigurationError

__all__ = [
    "ALG_ED25519",
    "ENTRY_CONTEXT",
    "SigningKey",
    "Verifier",
    "check_name",
    "default_name",
    "generate",
    "key_id",
    "read_private_file",
    "write_private_file",
]

ALG_ED25519 = 0x01
ENTRY_CONTEXT = b"ropa-ledger/v1 entry\n"
_PRIVATE_PREFIX = "PRIVATE+KEY+"


def check_name(name: str) -> str:
    """Return `name` if it is a valid signed-note key name, else raise ValueError."""
    if not name:
        raise ValueError("a key name must not be empty")
    if any(ch.isspace() for ch in name) or "+" in name:
        raise ValueError(f"key name {name!r} must hold no whitespace and no '+'")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise ValueError(f"key name {name!r} must hold no control characters")
    return name


def default_name(prefix: str, day: date | None = None) -> str:
    """`<prefix>-<yyyymmdd>`, e.g. `ropa.local-20261122` (today, UTC, by default)."""
    day = day or datetime.now(UTC).date()
    return check_name(f"{prefix}-{day:%Y%m%d}")


def key_id(name: str, public_key: bytes) -> bytes:
    """The C2SP signed-note key id: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _decode_key_data(data: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what}: key data is not standard base64") from None
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise ValueError(f"{what}: key data must be 0x01 followed by 32 bytes (Ed25519)")
    return raw[1:]


def _check_key_id(text: str, expected: bytes, what: str) -> None:
    if len(text) != 8 or text != text.lower() or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{what}: key id must be 8 lowercase hex digits")
    if bytes.fromhex(text) != expected:
        raise ValueError(f"{what}: key id {text} does not match the key and name")


def read_private_file(path: str | os.PathLike[str], what: str) -> str:
    """The text of a private key file that only its owner may read (mode 0600 or stricter).

    ConfigurationError (never quoting the file's content) if it cannot be read, is readable
    or writable by others, or is not ASCII.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise ConfigurationError(f"cannot open the {what} file {path}: {err}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if os.name == "posix" and mode & 0o177:
            raise ConfigurationError(
                f"the {what} file {path} has mode {mode:04o}, so others may read "
                f"or change it; run `chmod 600 {path}`"
            )
        raw = handle.read(4096)
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as err:
        raise ConfigurationError(f"the {what} file {path} is malformed: {err.reason}") from None


def write_private_file(path: str | os.PathLike[str], text: str) -> None:
    """Create `path` with mode 0600 holding `text` and a newline; refuses to overwrite."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)  # created private: the key is never world-readable
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write((text + "\n").encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.close(fd)
        Path(path).unlink(missing_ok=True)
        raise
    os.close(fd)


class Verifier:
    """A public verifier key: checks entry signatures and note signatures."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        if len(public_key) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        self.name = check_name(name)
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, self.public_key)
        self._key = nacl.signing.VerifyKey(self.public_key)

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Parse `<name>+<key id hex>+<base64(0x01 ‖ public key)>`; ValueError if malformed."""
        vkey = vkey.strip()
        name, sep1, rest = vkey.partition("+")
        hex_id, sep2, data = rest.partition("+")
        if not (sep1 and sep2):
            raise ValueError("a verifier key reads <name>+<key id>+<key data>")
        check_name(name)
        verifier = cls(name, _decode_key_data(data, "verifier key"))
        _check_key_id(hex_id, verifier.key_id, "verifier key")
        return verifier

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    @property
    def verifier_key(self) -> str:
        data = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id_hex}+{data}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether `signature` is this key's Ed25519 signature of `message`."""
        if len(signature) != 64:
            return False
        try:
            self._key.verify(message, signature)
        except nacl.exceptions.BadSignatureError:
            return False
        return True

    def verify_entry(self, leaf_hash: bytes, signature: bytes) -> bool:
        """Whether `signature` signs the entry with this leaf hash (LEDGER-SPEC §3)."""
        return len(leaf_hash) == 32 and self.verify(ENTRY_CONTEXT + leaf_hash, signature)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verifier):
            return NotImplemented
        return (self.name, self.public_key) == (other.name, other.public_key)

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"Verifier({self.verifier_key!r})"


class SigningKey:
    """A named Ed25519 signing key. Its repr and str show the name and key id only."""

    __slots__ = ("_key", "verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self._key = nacl.signing.SigningKey(bytes(seed))
        self.verifier = Verifier(name, bytes(self._key.verify_key))

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        """A fresh key from the operating system's randomness."""
        return cls(name, os.urandom(32))

    @property
    def name(self) -> str:
        return self.verifier.name

    @property
    def public_key(self) -> bytes:
        return self.verifier.public_key

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    @property
    def key_id_hex(self) -> str:
        return self.verifier.key_id_hex

    @property
    def verifier_key(self) -> str:
        return self.verifier.verifier_key

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `message`."""
        return bytes(self._key.sign(message).signature)

    def sign_entry(self, leaf_hash: bytes) -> bytes:
        """The entry signature of LEDGER-SPEC §3 over a 32-byte leaf hash."""
        if len(leaf_hash) != 32:
            raise ValueError("a leaf hash is 32 bytes")
        return self.sign(ENTRY_CONTEXT + leaf_hash)

    # -- private key text and files ----------------------------------------------------------

    def to_private_text(self) -> str:
        """`PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ seed)>`, as Go's note.GenerateKey."""
        data = base64.b64encode(bytes([ALG_ED25519]) + bytes(self._key)).decode()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id_hex}+{data}"

    @classmethod
    def from_private_text(cls, text: str) -> SigningKey:
        """Parse the one-line private key; ValueError (never quoting the key) if malformed."""
        text = text.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise ValueError("a private key line starts with PRIVATE+KEY+")
        name, sep1, rest = text[len(_PRIVATE_PREFIX) :].partition("+")
        hex_id, sep2, data = rest.partition("+")
        if not (sep1 and sep2):
            raise ValueError("a private key reads PRIVATE+KEY+<name>+<key id>+<key data>")
        check_name(name)
        key = cls(name, _decode_key_data(data, "private key"))
        _check_key_id(hex_id, key.key_id, "private key")
        return key

    @classmethod
    def load_from_file(cls, path: str | os.PathLike[str]) -> SigningKey:
        """Read the key from a file that only its owner may read (mode 0600 or stricter)."""
        raw = read_private_file(path, "signing key")
        try:
            return cls.from_private_text(raw)
        except ValueError as err:
            raise ConfigurationError(f"the signing key file {path} is malformed: {err}") from None

    def write_to_file(self, path: str | os.PathLike[str]) -> None:
        """Create `path` with mode 0600 and the private key; refuses to overwrite a file."""
        write_private_file(path, self.to_private_text())

    @classmethod
    def load_from_env(cls, value: str) -> SigningKey:
        """Parse the private key from an environment variable's value."""
        try:
            return cls.from_private_text(value)
        except ValueError as err:
            raise ConfigurationError(f"the signing key in the environment: {err}") from None

    def __repr__(self) -> str:
        return f"SigningKey(name={self.name!r}, key_id={self.key_id_hex!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would copy the seed into another process or file; nothing needs that.
        raise TypeError("signing keys are not picklable")


def generate(name: str) -> SigningKey:
    """A fresh signing key named `name` (see `default_name`)."""
    return SigningKey.generate(name)
