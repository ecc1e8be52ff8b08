"""`ropa serve` as an operator meets it: a real process on loopback, changed under it by
the `ropa` command (key rotation), or started on a database nobody has migrated."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from bench.harness import Deployment, Server
from ropa.ledger.keys import SigningKey
from tests.conftest import PG_URL, _pg_admin, _pg_url

ROPA = Path(sys.executable).parent / "ropa"
REGISTER = """mutation($name: String!) { registerProcessor(input: {name: $name,
  legalName: $name, country: "DE", services: ["CRM"]}) {
  processor { id } receipt { seq keyId } } }"""


def write(server: Server, token: str, name: str) -> dict[str, Any]:
    response = httpx.post(
        server.url,
        json={"query": REGISTER, "variables": {"name": name}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return dict(response.json())


def readyz(server: Server) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{server.base}/readyz", timeout=30)
    return response.status_code, dict(response.json())


def rotate(deployment: Deployment) -> str:
    done = subprocess.run(  # our own entry point
        [str(ROPA), "keys", "rotate", "--name", f"rotated-{uuid.uuid4().hex[:6]}"],
        env=deployment.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]  # the new verifier key


def test_a_running_service_signs_with_the_key_rotated_by_the_cli(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    deployment = Deployment.create(tmp_path, key=signing_key)
    token = deployment.make_org("acme")
    server = deployment.server().start()
    try:
        first = write(server, token, "Before")
        assert "errors" not in first, first
        assert first["data"]["registerProcessor"]["receipt"]["keyId"] == signing_key.key_id.hex()

        new_key = rotate(deployment)
        new_id = new_key.split("+")[1]
        assert new_id != signing_key.key_id.hex()
        status, body = readyz(server)
        assert status == 200, body
        assert body["checks"]["signingKey"] is True

        second = write(server, token, "After")
        assert "errors" not in second, second
        assert second["data"]["registerProcessor"]["receipt"]["keyId"] == new_id
    finally:
        server.stop()
        deployment.close()


def test_a_service_given_its_key_in_the_environment_is_not_ready_after_a_rotation(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    deployment = Deployment.create(tmp_path, key=signing_key)
    token = deployment.make_org("acme")
    secret = deployment.key_file.read_text().strip()
    server = deployment.server(ROPA_SIGNING_KEY=secret).start()
    try:
        assert readyz(server)[0] == 200
        new_id = rotate(deployment).split("+")[1]  # the file changes; the environment not

        status, body = readyz(server)
        assert status == 503
        assert body["checks"]["signingKey"] is False
        reason = body["reasons"]["signingKey"]
        assert signing_key.key_id.hex() in reason and new_id in reason
        assert "restart" in reason
        refused = write(server, token, "Stale")
        assert refused["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "not the deployment's current key" in refused["errors"][0]["message"]
        assert "no signing key loaded" not in refused["errors"][0]["message"]
    finally:
        server.stop()
        deployment.close()


@pytest.fixture
def empty_postgres(pg_available: bool) -> Iterator[str]:
    """A new PostgreSQL database that nobody has migrated."""
    if not pg_available:
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable")
    name = f"ropa_empty_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _pg_url(name)
    with _pg_admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_serve_on_an_unmigrated_postgresql_says_so_and_answers_service_unavailable(
    tmp_path: Path, signing_key: SigningKey, empty_postgres: str
) -> None:
    deployment = Deployment.create(tmp_path, empty_postgres, migrate=False, key=signing_key)
    server = deployment.server().start()
    try:
        for headers in ({}, {"Authorization": "Bearer ropa_unknown"}):
            response = httpx.post(
                server.url, json={"query": "{ __typename }"}, headers=headers, timeout=30
            )
            assert response.status_code == 503, response.text
            error = response.json()["errors"][0]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert "ropa migrate" in error["message"]
        status, body = readyz(server)
        assert status == 503
        assert "ropa migrate" in body["reasons"]["migrations"]
    finally:
        server.stop()
        deployment.close()
    said = [line for line in server.log.read_text().splitlines() if "ropa migrate" in line]
    assert said[0].startswith("warning: the database at postgresql://"), said
    assert "has no ropa schema: run `ropa migrate`" in said[0]
    assert "Traceback" not in server.log.read_text()

    with psycopg.connect(empty_postgres) as conn:  # and nothing was created in it
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)
