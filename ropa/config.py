"""Deployment settings, read from the environment (`ROPA_*`) with sane defaults.

Anchors (LEDGER-SPEC §9, docs/anchors.md):

    ROPA_TSA                  Time-Stamping Authorities, `name=URL=CERTFILE` separated by `;`
                              (or newlines). The name is letters, digits, `.` and `-`; the
                              certificate file (PEM) holds the root that the TSA's tokens
                              chain to. Unset: no timestamps.
    ROPA_ANCHOR_INTERVAL      how often moved checkpoints are stamped (default 60s)
    ROPA_ANCHOR_TIMEOUT       one TSA request's time limit (default 10s)
    ROPA_ANCHOR_ALERT_AFTER   how long a checkpoint may stay unanchored before the
                              ANCHORING_FAILING finding (default 1h)

Witnesses (LEDGER-SPEC §9, docs/witnesses.md):

    ROPA_WITNESSES            C2SP tlog-witnesses, `<witness verifier key> <URL>` separated
                              by `;` (or newlines). Unset: no cosignatures.
    ROPA_WITNESS_INTERVAL     how often moved checkpoints are sent (default 60s)
    ROPA_WITNESS_TIMEOUT      one witness request's time limit (default 10s)

Durations are seconds (`90`), a number and unit (`90s`, `15m`, `1h`) or ISO 8601 (`PT1H`).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ropa.domain.durations import to_seconds
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


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


_TSA_NAME = re.compile(r"[A-Za-z0-9.-]{1,64}", re.ASCII)


@dataclass(frozen=True)
class TsaConfig:
    """One Time-Stamping Authority: its name (in bundle file names), URL and trust root."""

    name: str
    url: str
    cert_file: Path


def parse_tsas(text: str) -> tuple[TsaConfig, ...]:
    """`name=URL=CERTFILE` items separated by `;` or newlines; ConfigurationError if malformed.

    The name ends at the first `=` and the file starts after the last, so a URL may hold `=`.
    """
    found: list[TsaConfig] = []
    for item in re.split(r"[;\n]", text):
        item = item.strip()
        if not item:
            continue
        name, _, rest = item.partition("=")
        url, _, cert = rest.rpartition("=")
        name, url, cert = name.strip(), url.strip(), cert.strip()
        if not _TSA_NAME.fullmatch(name) or not url or not cert:
            raise ConfigurationError(
                f"ROPA_TSA: {item!r} is not name=URL=CERTFILE (a name of letters, digits, "
                "'.' and '-')"
            )
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"ROPA_TSA: the URL of {name} is not http(s): {url!r}")
        if any(t.name == name for t in found):
            raise ConfigurationError(f"ROPA_TSA: the name {name} is given twice")
        found.append(TsaConfig(name, url, Path(cert)))
    return tuple(found)


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = to_seconds(value)
    except ValueError as err:
        raise ConfigurationError(f"{name}: {err}") from None
    if seconds <= 0:
        raise ConfigurationError(f"{name}: a duration above zero, such as 60s or PT1H")
    return seconds


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    ledger_prefix: str = "ropa.local"
    key_file: Path = field(default_factory=lambda: Path(DEFAULT_KEY_FILE))
    # the private key itself, when given through the environment instead of a file
    key_env: str | None = field(default=None, repr=False)
    graphiql: bool = True
    introspection: bool = True
    # RFC 3161 anchoring of checkpoints (docs/anchors.md)
    tsas: tuple[TsaConfig, ...] = ()
    anchor_interval: float = 60.0
    anchor_timeout: float = 10.0
    anchor_alert_after: float = 3600.0
    # witnesses that cosign the ledgers' checkpoints (LEDGER-SPEC §9, docs/witnesses.md)
    witnesses: tuple[WitnessEndpoint, ...] = ()
    witness_interval: float = DEFAULT_WITNESS_INTERVAL
    witness_timeout: float = DEFAULT_WITNESS_TIMEOUT
    # SHA-256 (hex) of the bearer token that reads per-organisation metrics; never the token
    metrics_token_sha256: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("ROPA_DATABASE_URL") or DEFAULT_DATABASE_URL,
            ledger_prefix=os.environ.get("ROPA_LEDGER_PREFIX") or "ropa.local",
            key_file=Path(os.environ.get("ROPA_SIGNING_KEY_FILE") or DEFAULT_KEY_FILE),
            key_env=os.environ.get("ROPA_SIGNING_KEY") or None,
            graphiql=_flag("ROPA_GRAPHIQL", True),
            introspection=_flag("ROPA_INTROSPECTION", True),
            tsas=parse_tsas(os.environ.get("ROPA_TSA") or ""),
            anchor_interval=_seconds("ROPA_ANCHOR_INTERVAL", 60.0),
            anchor_timeout=_seconds("ROPA_ANCHOR_TIMEOUT", 10.0),
            anchor_alert_after=_seconds("ROPA_ANCHOR_ALERT_AFTER", 3600.0),
            witnesses=parse_witnesses(os.environ.get("ROPA_WITNESSES", "")),
            witness_interval=_seconds("ROPA_WITNESS_INTERVAL", DEFAULT_WITNESS_INTERVAL),
            witness_timeout=_seconds("ROPA_WITNESS_TIMEOUT", DEFAULT_WITNESS_TIMEOUT),
            metrics_token_sha256=_metrics_token_hash(),
        )


def _metrics_token_hash() -> str | None:
    """`ROPA_METRICS_TOKEN_SHA256`, or the SHA-256 of `ROPA_METRICS_TOKEN` (kept only hashed)."""
    given = os.environ.get("ROPA_METRICS_TOKEN_SHA256")
    if given:
        return given.strip().lower()
    token = os.environ.get("ROPA_METRICS_TOKEN")
    return hashlib.sha256(token.encode()).hexdigest() if token else None
