"""The container's pieces that can run here, without a Docker engine: the entry point
migrates and serves outside a container, and the Dockerfile and compose file say what the
deployment relies on (non-root, migrations shipped, a migration step before the service)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.harness import free_port
from ropa.config import Settings
from ropa.services.runtime import Runtime
from ropa.store.migrate import is_current

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def entrypoint_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROPA_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def test_the_entrypoint_migrates_a_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ropa.db'}"
    done = subprocess.run([str(ENTRYPOINT), "migrate"], env=entrypoint_env(ROPA_DATABASE_URL=url),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rt = Runtime(Settings(database_url=url))
    assert is_current(rt.db)
    rt.db.dispose()


def test_the_entrypoint_refuses_to_serve_without_a_database_url() -> None:
    done = subprocess.run([str(ENTRYPOINT), "serve"], env=entrypoint_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 64
    assert "ROPA_DATABASE_URL" in done.stderr


def test_the_entrypoint_serves_until_sigterm(tmp_path: Path) -> None:
    subprocess.run(
        [str(ENTRYPOINT), "keys", "init"], check=True, capture_output=True, timeout=60,
        env=entrypoint_env(ROPA_SIGNING_KEY_FILE=str(tmp_path / "signing.key")),
    )
    port = free_port()
    env = entrypoint_env(
        ROPA_DATABASE_URL=f"sqlite:///{tmp_path / 'ropa.db'}", ROPA_MIGRATE="1",
        ROPA_SIGNING_KEY_FILE=str(tmp_path / "signing.key"), ROPA_HOST="127.0.0.1",
        ROPA_PORT=str(port),
    )
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([str(ENTRYPOINT)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert ready is not None, (tmp_path / "serve.log").read_text()
        assert ready.json()["ready"] is True
    finally:
        process.terminate()
        code = process.wait(40)
        log.close()
    assert code in {0, -15}  # exec'd uvicorn shut down on the signal


def test_the_image_runs_as_a_non_root_user_with_its_migrations() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") == 2  # build stage, then a slim runtime stage
    assert "USER ropa" in dockerfile
    assert "COPY migrations" in dockerfile
    assert "ROPA_MIGRATIONS_DIR=/app/migrations" in dockerfile
    compose = (ROOT / "docker" / "compose.yaml").read_text()
    assert 'command: ["migrate"]' in compose
    assert "service_completed_successfully" in compose
