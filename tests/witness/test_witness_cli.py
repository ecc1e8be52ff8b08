"""`ropa witness keygen` and `serve`'s refusals, and ROPA_WITNESSES checked at start: one line
that says what to do and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.harness import ROPA
from ropa.ledger.cosignature import CosignerVerifier, CosigningKey


def ropa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ROPA_")}
    return subprocess.run(
        [str(ROPA), *args], capture_output=True, text=True, timeout=120, check=False,
        env={**base, **(env or {})},
    )  # fmt: skip


def test_keygen_writes_a_0600_key_prints_its_verifier_key_and_never_overwrites(
    tmp_path: Path,
) -> None:
    out = tmp_path / "witness.key"
    made = ropa("witness", "keygen", "--name", "auditor.test/w1", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    vkey = made.stdout.strip().splitlines()[-1]
    assert CosignerVerifier.parse(vkey) == CosigningKey.load_from_file(out).verifier
    assert out.read_text().split("+", 4)[-1].strip() not in made.stdout + made.stderr
    again = ropa("witness", "keygen", "--name", "auditor.test/w1", "--out", str(out))
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_serve_refuses_to_start_without_logs_or_with_a_readable_key(tmp_path: Path) -> None:
    key = tmp_path / "witness.key"
    CosigningKey.generate("auditor.test/w1").write_to_file(key)
    db = f"sqlite:///{tmp_path / 'w.db'}"
    no_logs = ropa("witness", "serve", "--key-file", str(key), "--database", db)
    assert no_logs.returncode == 1 and "no log to witness" in no_logs.stderr
    bad_log = ropa(
        "witness", "serve", "--key-file", str(key), "--database", db, "--log", "origin nonsense"
    )
    assert bad_log.returncode == 1 and "witness logs, line 1" in bad_log.stderr
    key.chmod(0o644)
    readable = ropa("witness", "serve", "--key-file", str(key), "--database", db, "--log", "x y")
    assert readable.returncode == 1 and "chmod 600" in readable.stderr
    for done in (no_logs, bad_log, readable):
        assert "Traceback" not in done.stderr


def test_a_malformed_ropa_witnesses_is_one_line_at_start(tmp_path: Path) -> None:
    env = {"ROPA_DATABASE_URL": f"sqlite:///{tmp_path / 'ropa.db'}"}
    for value in ("auditor.test/w1+00000000+AAAA https://w.example", "just-a-key"):
        done = ropa("migrate", env={**env, "ROPA_WITNESSES": value})
        assert done.returncode == 1, value
        assert done.stderr.startswith("error: ROPA_WITNESSES")
        assert "Traceback" not in done.stderr
