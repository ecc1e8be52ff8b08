"""Deployment settings, read from the environment (`ROPA_*`) with sane defaults."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///ropa.db"
DEFAULT_KEY_FILE = ".ropa/signing.key"


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
            metrics_token_sha256=_metrics_token_hash(),
        )


def _metrics_token_hash() -> str | None:
    """`ROPA_METRICS_TOKEN_SHA256`, or the SHA-256 of `ROPA_METRICS_TOKEN` (kept only hashed)."""
    given = os.environ.get("ROPA_METRICS_TOKEN_SHA256")
    if given:
        return given.strip().lower()
    token = os.environ.get("ROPA_METRICS_TOKEN")
    return hashlib.sha256(token.encode()).hexdigest() if token else None
