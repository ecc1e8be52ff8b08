"""Anchors over GraphQL (by role, by size, under asOf), the ANCHORING_FAILING finding, the
metrics and /readyz, and the anchorer the service's lifespan runs."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from ropa.app import create_app
from ropa.cli.anchor import serving_line
from ropa.config import Settings, TsaConfig
from ropa.ledger.checkpoint import checkpoint_body
from ropa.ledger.timestamp import load_trusted, open_token
from ropa.services import findings, processors
from ropa.services.anchorer import Anchorer
from ropa.services.reads import view_of
from ropa.services.runtime import Runtime
from ropa.store import anchor_store
from ropa.store.write_path import now_ts
from tests.anchors.conftest import with_tsas
from tests.anchors.tsa import Authority, TsaServer
from tests.api.conftest import GraphQLClient, error_codes
from tests.conftest import Org

ANCHORS = """
query($slug: String!, $asOf: DateTime, $size: Int!) {
  organization(slug: $slug, asOf: $asOf) {
    ledger { anchors { size tsa genTime token } anchor(size: $size) { size tsa } }
  }
}
"""


@pytest.fixture
def client(art: Runtime) -> Iterator[GraphQLClient]:
    # the lifespan's own anchorer stays off: these tests stamp when they choose
    with TestClient(create_app(art, anchor_in_background=False)) as http:
        yield GraphQLClient(http)


def _anchors(rt: Runtime, org: Org) -> list[anchor_store.Anchor]:
    with rt.db.read() as conn:
        return anchor_store.anchors(conn, org.id)


def _write(rt: Runtime, org: Org, name: str) -> None:
    processors.register_processor(rt, org.as_role("EDITOR"), {"name": name, "country": "DE"})


def _ledger(
    client: GraphQLClient, org: Org, role: str = "AUDITOR", as_of: str | None = None, size: int = 0
) -> dict[str, object]:
    body = client(ANCHORS, {"slug": org.slug, "asOf": as_of, "size": size}, org.tokens[role])
    ledger: dict[str, object] = body["data"]["organization"]["ledger"]
    return ledger


def test_anchors_are_served_with_their_token_and_gen_time(
    art: Runtime, org: Org, client: GraphQLClient, authority: Authority
) -> None:
    Anchorer(art).run_once()
    with art.db.read() as conn:
        (stored,) = anchor_store.anchors(conn, org.id)
        note = anchor_store.checkpoint_at(conn, org.id, stored.size)
    assert note is not None
    ledger = _ledger(client, org, size=stored.size)
    (served,) = ledger["anchors"]  # type: ignore[misc]
    assert (served["size"], served["tsa"]) == (stored.size, authority.name)
    der = base64.b64decode(served["token"])
    token = open_token(der, checkpoint_body(note), load_trusted(authority.ca_cert))
    assert served["genTime"].startswith(token.gen_time_text[:19])
    assert ledger["anchor"] == [{"size": stored.size, "tsa": authority.name}]
    assert _ledger(client, org, size=stored.size + 99)["anchor"] == []


@pytest.mark.parametrize("role", ["AUDITOR", "DPO", "ADMIN"])
def test_every_role_that_reads_the_ledger_reads_its_anchors(
    art: Runtime, org: Org, client: GraphQLClient, role: str
) -> None:
    Anchorer(art).run_once()
    assert len(_ledger(client, org, role)["anchors"]) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize("role", ["VIEWER", "EDITOR"])
def test_roles_that_may_not_read_the_ledger_may_not_read_anchors(
    art: Runtime, org: Org, client: GraphQLClient, role: str
) -> None:
    Anchorer(art).run_once()
    body = client(ANCHORS, {"slug": org.slug, "size": 1}, org.tokens[role], expect_errors=True)
    assert "FORBIDDEN" in error_codes(body)


def test_as_of_shows_only_anchors_whose_gen_time_is_not_later(
    art: Runtime, org: Org, client: GraphQLClient
) -> None:
    anchorer = Anchorer(art)
    anchorer.run_once()
    between = now_ts()
    time.sleep(1.2)  # genTime has whole seconds
    _write(art, org, "Later")
    anchorer.run_once()
    assert len(_ledger(client, org)["anchors"]) == 2  # type: ignore[arg-type]
    past = _ledger(client, org, as_of=between)["anchors"]
    assert len(past) == 1  # type: ignore[arg-type]
    assert past[0]["genTime"] <= between  # type: ignore[index]


def test_anchoring_failing_is_found_once_a_checkpoint_waits_past_the_threshold(
    rt: Runtime, org: Org, tsa: TsaServer, authority: Authority
) -> None:
    config = TsaConfig(authority.name, tsa.url, authority.ca_cert)
    patient = with_tsas(rt, config, anchor_alert_after=3600.0)
    strict = with_tsas(rt, config, anchor_alert_after=0.001)
    time.sleep(0.01)

    def codes(runtime: Runtime) -> list[str]:
        view = view_of(runtime, org.as_role("DPO"), org.id)
        return [f.code for f in findings.findings(runtime, org.as_role("DPO"), view)]

    assert "ANCHORING_FAILING" not in codes(patient)
    assert "ANCHORING_FAILING" in codes(strict)
    assert "ANCHORING_FAILING" not in codes(rt)  # no TSA configured: no such finding
    Anchorer(strict).run_once()
    assert "ANCHORING_FAILING" not in codes(strict)


def test_metrics_carry_one_lag_gauge_without_organisation_labels_and_readyz_reports_it(
    art: Runtime, org: Org, tsa: TsaServer
) -> None:
    with TestClient(create_app(art, anchor_in_background=False)) as http:
        metrics = http.get("/metrics").text
        lines = [line for line in metrics.splitlines() if line.startswith("ropa_anchor")]
        lag = next(line for line in lines if line.startswith("ropa_anchor_lag_seconds"))
        assert lag.startswith("ropa_anchor_lag_seconds ")  # no labels at all
        assert float(lag.split()[1]) > 0
        ready = http.get("/readyz")
        assert ready.status_code == 200  # a lagging anchorer never makes the service unready
        assert ready.json()["anchors"]["organizationsBehind"] >= 1
        Anchorer(art).run_once()
        assert http.get("/readyz").json()["anchors"] == {
            "lagSeconds": 0.0,
            "organizationsBehind": 0,
        }


def test_the_service_lifespan_runs_the_anchorer_and_counts_failures(
    art: Runtime, org: Org, tsa: TsaServer
) -> None:
    tsa.mode = "garbage"
    with TestClient(create_app(art)) as http:
        deadline = time.monotonic() + 10
        while "ropa_anchor_failures_total{" not in http.get("/metrics").text:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        tsa.mode = "ok"
        while not _anchors(art, org):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        _write(art, org, "Written while the anchorer runs")


def test_serve_says_so_when_no_tsa_is_configured() -> None:
    assert serving_line(Settings()).startswith("anchors: none configured — ")
