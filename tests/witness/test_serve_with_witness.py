"""`ropa serve` with ROPA_WITNESSES: the job runs from the app's lifespan, writes never wait
for a witness that is down, and the served checkpoint gains the cosignature once it is up
(a real `ropa serve` and a real `ropa witness serve`, over HTTP on loopback)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Deployment
from ropa.ledger.cosignature import verify_cosignatures
from ropa.ledger.keys import SigningKey
from ropa.store.ledger_store import origin_for
from tests.witness.conftest import WitnessProcess

REGISTER = """mutation Register($input: RegisterProcessorInput!) {
  registerProcessor(input: $input) { receipt { seq checkpoint } } }"""
LEDGER = """query Ledger($slug: String!, $size: Int!) {
  organization(slug: $slug) { ledger { size checkpoint checkpointAt(size: $size) } } }"""


def graphql(url: str, token: str, query: str, variables: dict[str, Any]) -> Any:
    answer = httpx.post(
        url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


def test_serve_sends_checkpoints_to_a_witness_once_it_is_up_and_writes_never_wait(
    tmp_path: Path, signing_key: SigningKey, database_url: str
) -> None:
    deployment = Deployment.create(tmp_path / "log", database_url, key=signing_key, migrate=False)
    token = deployment.make_org("acme")
    origin = origin_for("ropa.local", deployment.orgs["acme"])
    witness = WitnessProcess(
        tmp_path, f"sqlite:///{tmp_path / 'witness.db'}", [f"{origin} {signing_key.verifier_key}"]
    )
    server = deployment.server(
        ROPA_WITNESSES=f"{witness.key.verifier_key} {witness.url}", ROPA_WITNESS_INTERVAL="0.3"
    ).start()
    try:
        # the witness is down: writes answer at once all the same
        for name in ("Acme CRM", "Acme Mail"):
            started = time.monotonic()
            data = graphql(server.url, token, REGISTER, {"input": {
                "name": name, "country": "US", "services": ["CRM"]}})  # fmt: skip
            assert data["registerProcessor"]["receipt"]["seq"] > 0
            assert time.monotonic() - started < 5
        witness.start()
        deadline = time.monotonic() + 60
        while True:
            ledger = graphql(server.url, token, LEDGER, {"slug": "acme", "size": 0})
            checkpoint = ledger["organization"]["ledger"]["checkpoint"]
            if "\u2014 auditor.test/w1 " in checkpoint:
                break
            assert time.monotonic() < deadline, "no cosignature within 60 s"
            time.sleep(0.3)
        assert set(verify_cosignatures(checkpoint, [witness.key.verifier])) == {"auditor.test/w1"}
        size = ledger["organization"]["ledger"]["size"]
        at = graphql(server.url, token, LEDGER, {"slug": "acme", "size": size})
        assert at["organization"]["ledger"]["checkpointAt"] == checkpoint
        state = witness.state(origin)
        assert state is not None and state.size == size
        metrics = httpx.get(f"{server.base}/metrics", timeout=10).text
        assert 'ropa_witness_failures_total{witness="auditor.test/w1"}' in metrics
        assert "witnesses: sending moved checkpoints to auditor.test/w1" in server.log.read_text()
    finally:
        server.stop()
        witness.stop()
        deployment.close()
