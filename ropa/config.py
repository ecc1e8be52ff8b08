"""Deployment settings, read from the environment (`ROPA_*`) with sane defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ropa.errors import ConfigurationError
from ropa.ledger.cosignature import CosignerVerifier

DEFAULT_DATABASE_URL = "sqlite:///ropa.db"
DEFAULT_KEY_FILE = ".ropa/signing.key"
DEFAULT_WITNESS_INTERVAL = 60.0
DEFAULT_WITNESS_TIMEOUT = 10.0


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness the ledger sends its checkpoints to (C2SP tlog-witness, docs/witnesses.md).

    `verifier_key` is the witness's `<name>+<key id>+<base64(0x04 ‖ key)>`; `url` is its
    submission prefix (`add-checkpoint` is appended).
    """

    verifier_key: str
    url: str

    @property
    def name(self) -> str:
        return self.verifier_key.partition("+")[0]


def parse_witnesses(value: str) -> tuple[WitnessEndpoint, ...]:
    """`<verifier key> <url>` entries separated by newlines or `;` (ROPA_WITNESSES)."""
    out = []
    for raw in value.replace(";", "\n").splitlines():
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        vkey, _, url = entry.partition(" ")
        url = url.strip()
        if not url.startswith(("http://", "https://")) or " " in url:
            raise ConfigurationError(
                f"ROPA_WITNESSES: {vkey.partition('+')[0]!r} needs `<verifier key> <http(s) URL>`"
            )
        try:
            CosignerVerifier.parse(vkey)
        except ValueError as err:
            raise ConfigurationError(f"ROPA_WITNESSES: {err}") from None
        out.append(WitnessEndpoint(vkey, url.rstrip("/")))
    return tuple(out)


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, not {value!r}") from None
    if not seconds > 0:
        raise ConfigurationError(f"{name} must be positive")
    return seconds


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    ledger_prefix: str = "ropa.local"
    key_file: Path = field(default_factory=lambda: Path(DEFAULT_KEY_FILE))
    # the private key itself, when given through the environment instead of a file
    key_env: str | None = field(default=None, repr=False)
    graphiql: bool = True
    introspection: bool = True
    # witnesses that cosign the ledgers' checkpoints (LEDGER-SPEC §9, docs/witnesses.md)
    witnesses: tuple[WitnessEndpoint, ...] = ()
    witness_interval: float = DEFAULT_WITNESS_INTERVAL
    witness_timeout: float = DEFAULT_WITNESS_TIMEOUT

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("ROPA_DATABASE_URL") or DEFAULT_DATABASE_URL,
            ledger_prefix=os.environ.get("ROPA_LEDGER_PREFIX") or "ropa.local",
            key_file=Path(os.environ.get("ROPA_SIGNING_KEY_FILE") or DEFAULT_KEY_FILE),
            key_env=os.environ.get("ROPA_SIGNING_KEY") or None,
            graphiql=_flag("ROPA_GRAPHIQL", True),
            introspection=_flag("ROPA_INTROSPECTION", True),
            witnesses=parse_witnesses(os.environ.get("ROPA_WITNESSES", "")),
            witness_interval=_seconds("ROPA_WITNESS_INTERVAL", DEFAULT_WITNESS_INTERVAL),
            witness_timeout=_seconds("ROPA_WITNESS_TIMEOUT", DEFAULT_WITNESS_TIMEOUT),
        )
