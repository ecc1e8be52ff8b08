"""The `ropa` command in process, on each test database, with a key file of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ropa.cli.main import app


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose database is migrated; no signing key yet."""
    monkeypatch.setenv("ROPA_DATABASE_URL", database_url)
    monkeypatch.setenv("ROPA_SIGNING_KEY_FILE", str(tmp_path / "keys" / "signing.key"))
    monkeypatch.delenv("ROPA_SIGNING_KEY", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    return runner
