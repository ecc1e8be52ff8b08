"""What operators rely on: /healthz, /readyz (database, migrations, signing key), /metrics
in Prometheus format, an X-Request-Id on every answer, and JSON logs that carry the request
id and never a token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from ropa.api.limits import Limits
from ropa.app import create_app
from ropa.config import Settings
from ropa.services.runtime import Runtime
from ropa.store.migrate import upgrade
from tests.conftest import Org
from tests.http.conftest import Running

COUNTS = "query Counts($slug: String!) { organization(slug: $slug) { ledger { size } } }"


@pytest.fixture
def http(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt, limits=Limits(rate_per_second=0))) as client:
        yield client


def test_readyz_says_ready_with_database_migrations_and_key(http: TestClient) -> None:
    assert http.get("/healthz").status_code == 200
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "ready": True, "checks": {"database": True, "migrations": True, "signingKey": True},
    }


def test_readyz_is_503_without_a_signing_key(rt: Runtime, tmp_path: Path) -> None:
    keyless = Runtime(Settings(database_url=rt.settings.database_url,
                               key_file=tmp_path / "missing.key"))
    with TestClient(create_app(keyless)) as client:
        ready = client.get("/readyz")
    keyless.db.dispose()
    assert ready.status_code == 503
    assert ready.json()["checks"]["signingKey"] is False


def test_readyz_is_503_on_a_database_behind_its_migrations(tmp_path: Path) -> None:
    behind = Runtime(Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}",
                              key_file=tmp_path / "k.key"))
    upgrade(behind.db, "0002")
    with TestClient(create_app(behind)) as client:
        ready = client.get("/readyz")
    behind.db.dispose()
    assert ready.status_code == 503
    assert ready.json()["checks"]["migrations"] is False


def test_metrics_count_operations_errors_and_ledger_sizes(http: TestClient, org: Org) -> None:
    auth = {"Authorization": f"Bearer {org.tokens['VIEWER']}"}
    size = http.post("/graphql", json={"query": COUNTS, "variables": {"slug": org.slug}},
                     headers=auth).json()["data"]["organization"]["ledger"]["size"]
    http.post("/graphql", json={"query": "{ nope }"}, headers=auth)

    scraped = http.get("/metrics", headers={"Authorization": f"Bearer {org.tokens['ADMIN']}"})
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scraped.text) for s in family.samples
    }
    key = ("ropa_graphql_operation_duration_seconds_count",
           (("operation", "Counts"), ("type", "query")))
    assert samples[key] == 1
    assert samples[("ropa_graphql_errors_total", (("code", "GRAPHQL_VALIDATION_FAILED"),))] == 1
    assert samples[("ropa_ledger_size", (("org_id", org.id),))] == size
    assert ("ropa_ledger_last_checkpoint_timestamp_seconds", (("org_id", org.id),)) in samples
    assert samples[("ropa_http_requests_total", (("route", "/graphql"), ("status", "200")))] >= 2


def test_every_answer_carries_a_request_id(http: TestClient) -> None:
    given = http.get("/healthz", headers={"X-Request-Id": "req-42.a"})
    assert given.headers["X-Request-Id"] == "req-42.a"
    made = http.get("/healthz").headers["X-Request-Id"]
    refused = http.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert len(made) == 32
    assert refused.headers["X-Request-Id"] != "bad id\twith spaces"


def test_logs_are_json_lines_with_the_request_id_and_never_a_token(running: Running) -> None:
    auth = {"Authorization": f"Bearer {running.token}", "X-Request-Id": "trace-me-1"}
    httpx.post(running.server.url, headers=auth,
               json={"query": COUNTS, "variables": {"slug": running.slug}})
    httpx.post(running.server.url, headers={**auth, "Idempotency-Key": "log-check"},
               json={"query": 'mutation { registerProcessor(input: {name: "Logged", '
                              'country: "DE"}) { receipt { seq } } }'})
    httpx.get(f"{running.server.url}?query={{__typename}}", headers={"X-Request-Id": "x-2"})
    running.server.stop()

    text = running.server.log.read_text()
    assert running.token not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry["logger"] == "ropa.access"]
    traced = [entry for entry in access if entry.get("request_id") == "trace-me-1"]
    assert {entry.get("operation") for entry in traced} == {"Counts", "anonymous"}
    assert all(entry["path"] == "/graphql" and entry["status"] == 200 for entry in traced)
    assert all("duration_ms" in entry for entry in access)
