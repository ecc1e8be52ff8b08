"""A deployment for each test database: `ropa serve` processes over one database.

Runs are bounded: each test drives its clients for `RELIABILITY_SECONDS` (default 6,
`ROPA_RELIABILITY_SECONDS` to change) and every request has a timeout.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.harness import Deployment
from ropa.ledger.keys import SigningKey

RELIABILITY_SECONDS = float(os.environ.get("ROPA_RELIABILITY_SECONDS", "6"))
SETUP_ENTRIES = 2  # a deployment's organisation: its creation and its token


@pytest.fixture
def deployment(database_url: str, tmp_path: Path, signing_key: SigningKey) -> Iterator[Deployment]:
    found = Deployment.create(tmp_path, database_url, migrate=False, key=signing_key)
    yield found
    found.close()


def figures_line(title: str, summary: dict[str, object]) -> str:
    read = summary.get("read") or {}
    write = summary.get("write") or {}
    return (
        f"\n{title}: {summary['requests']} requests in {summary['seconds']} s "
        f"({summary['per_second']}/s), writes acknowledged {summary['acknowledged_writes']}, "
        f"errors {summary['errors']} {summary['error_kinds'] or ''}; "
        f"read p50 {read.get('p50_ms')} ms p99 {read.get('p99_ms')} ms; "  # type: ignore[union-attr]
        f"write p50 {write.get('p50_ms')} ms p99 {write.get('p99_ms')} ms"  # type: ignore[union-attr]
    )
