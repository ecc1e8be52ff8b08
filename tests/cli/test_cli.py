"""The `ropa` command as an operator and an auditor use it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ropa.cli.main import app


def _ok(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_writes_are_refused_until_a_key_exists_and_the_message_says_what_to_run(
    cli: CliRunner,
) -> None:
    result = cli.invoke(
        app, ["org", "create", "--slug", "acme", "--name", "Acme", "--country", "DE"]
    )
    assert result.exit_code == 1
    assert "ropa keys init" in result.output


def test_keys_init_writes_a_private_file_and_show_prints_only_the_public_key(
    cli: CliRunner, tmp_path: Path
) -> None:
    out = _ok(cli, "keys", "init", "--name", "acme-20261123")
    key_file = tmp_path / "keys" / "signing.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    secret = key_file.read_text().strip()
    shown = _ok(cli, "keys", "show").strip()
    assert shown.startswith("acme-20261123+") and shown in out
    material = secret.split("+", 4)[4]  # PRIVATE+KEY+name+id+base64 (which may hold "+")
    assert secret not in out and material not in shown
    again = cli.invoke(app, ["keys", "init"])
    assert again.exit_code == 1 and "already exists" in again.output


def test_export_verify_rotate_and_verify_against_the_kept_checkpoint(
    cli: CliRunner, tmp_path: Path, database_url: str
) -> None:
    _ok(cli, "keys", "init", "--name", "first-20261123")
    first_key = _ok(cli, "keys", "show").strip()
    _ok(cli, "org", "create", "--slug", "acme", "--name", "Acme", "--country", "DE")
    token = _ok(cli, "token", "create", "--org", "acme", "--role", "DPO").strip().splitlines()[0]
    assert token.startswith("ropa_")
    listed = _ok(cli, "token", "list", "--org", "acme")
    assert "DPO" in listed and token not in listed
    _ok(cli, "ledger", "export", "--org", "acme", str(tmp_path / "one"))
    out = _ok(
        cli,
        "ledger",
        "verify",
        str(tmp_path / "one"),
        "--key",
        first_key,
        "--database",
        database_url,
    )
    assert out.startswith("OK: 2 entries")
    assert "kept checkpoint" not in out
    assert "OK: the live database holds what the entries replay to" in out
    _ok(cli, "keys", "rotate", "--name", "second-20261123")
    assert _ok(cli, "keys", "show").startswith("second-20261123+")
    _ok(cli, "token", "create", "--org", "acme", "--role", "VIEWER")
    _ok(cli, "ledger", "export", "--org", "acme", str(tmp_path / "two"))
    keys = (tmp_path / "two" / "keys.txt").read_text().splitlines()
    assert keys[0] == first_key and keys[1].startswith("second-20261123+")
    out = _ok(
        cli,
        "ledger",
        "verify",
        str(tmp_path / "two"),
        "--key",
        first_key,
        "--checkpoint",
        str(tmp_path / "one" / "checkpoint"),
        "--database",
        database_url,
    )
    assert out.startswith("OK: 4 entries")
    assert "OK: the ledger extends the kept checkpoint of size 2 (consistency proof checked)" in out


def test_verify_names_the_failure_and_exits_non_zero(cli: CliRunner, tmp_path: Path) -> None:
    _ok(cli, "keys", "init")
    key = _ok(cli, "keys", "show").strip()
    _ok(cli, "org", "create", "--slug", "acme", "--name", "Acme", "--country", "DE")
    bundle = tmp_path / "b"
    _ok(cli, "ledger", "export", "--org", "acme", str(bundle))
    state = bundle / "state.json"
    state.write_bytes(state.read_bytes().replace(b'"Acme"', b'"Acne"'))
    result = cli.invoke(app, ["ledger", "verify", str(bundle), "--key", key])
    assert result.exit_code == 1
    assert "state.json" in result.output
    missing = cli.invoke(app, ["ledger", "verify", str(tmp_path / "nope"), "--key", key])
    assert missing.exit_code == 1
    assert f"no ledger bundle at {tmp_path / 'nope'}" in missing.output
    no_kept = cli.invoke(
        app, ["ledger", "verify", str(bundle), "--key", key, "--checkpoint", "gone.txt"]
    )
    assert no_kept.exit_code == 1
    assert no_kept.output.count("\n") == 1
    assert "cannot read the kept checkpoint" in no_kept.output
    assert str(Path("gone.txt").resolve()) in no_kept.output
    (bundle / "checkpoint").unlink()
    torn = cli.invoke(app, ["ledger", "verify", str(bundle), "--key", key])
    assert torn.exit_code == 1
    assert str(bundle / "checkpoint") in torn.output


def test_migrate_says_what_it_applied_and_when_nothing_was_needed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROPA_DATABASE_URL", database_url)
    runner = CliRunner()
    again = runner.invoke(app, ["migrate"])  # the fixture's database is migrated already
    assert again.exit_code == 0
    assert "is already up to date: no migration applied" in again.output


def test_demo_load_is_idempotent_and_goes_through_the_ledger(
    cli: CliRunner, tmp_path: Path
) -> None:
    _ok(cli, "keys", "init")
    first = _ok(cli, "demo", "load")
    assert "loaded demo organisation qualer" in first
    second = _ok(cli, "demo", "load")
    assert "loaded demo organisation" not in second
    key = _ok(cli, "keys", "show").strip()
    _ok(cli, "ledger", "export", "--org", "qwiqi", str(tmp_path / "q"))
    assert _ok(cli, "ledger", "verify", str(tmp_path / "q"), "--key", key).startswith("OK")


def test_token_expiry_takes_any_rfc3339_instant_or_a_date_and_refuses_a_naive_time(
    cli: CliRunner,
) -> None:
    _ok(cli, "keys", "init", "--name", "acme-20261123")
    _ok(cli, "org", "create", "--slug", "acme", "--name", "Acme", "--country", "DE")
    for expiry in ("2099-01-01T00:00:00Z", "2099-01-01T01:00:00+01:00", "2099-06-30"):
        _ok(cli, "token", "create", "--org", "acme", "--role", "VIEWER", "--expires-at", expiry)
    naive = cli.invoke(
        app,
        [
            "token",
            "create",
            "--org",
            "acme",
            "--role",
            "VIEWER",
            "--expires-at",
            "2099-01-01T00:00:00",
        ],
    )
    assert naive.exit_code == 1
    assert naive.output.count("\n") == 1 and "add Z for UTC" in naive.output
    listed = _ok(cli, "token", "list", "--org", "acme")
    assert listed.count("2099-01-01T00:00:00.000000Z") == 2
