"""`Idempotency-Key` makes a mutation safe to retry: the retry gets the first answer and
its receipt, and the records and the ledger change once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from ropa.api.limits import Limits
from ropa.app import create_app
from ropa.services.runtime import Runtime
from tests.conftest import Org

REGISTER = """mutation Register($input: RegisterProcessorInput!) {
  registerProcessor(input: $input) {
    processor { id name } receipt { seq leafHash signature checkpoint } } }"""
COUNTS = """query Counts($slug: String!) {
  organization(slug: $slug) { processors { totalCount } ledger { size } } }"""


@pytest.fixture
def http(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt, limits=Limits(rate_per_second=0))) as client:
        yield client


def post(http: TestClient, token: str, variables: dict[str, Any], key: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return http.post("/graphql", json={"query": REGISTER, "variables": variables},
                     headers=headers)


def counts(http: TestClient, org: Org) -> tuple[int, int]:
    body = http.post(
        "/graphql", json={"query": COUNTS, "variables": {"slug": org.slug}},
        headers={"Authorization": f"Bearer {org.tokens['VIEWER']}"},
    ).json()["data"]["organization"]
    return body["processors"]["totalCount"], body["ledger"]["size"]


def vendor(name: str) -> dict[str, Any]:
    return {"input": {"name": name, "country": "US", "services": ["CRM"]}}


def test_a_retried_mutation_leaves_one_record_and_one_ledger_entry(
    http: TestClient, org: Org
) -> None:
    records, size = counts(http, org)
    first = post(http, org.tokens["EDITOR"], vendor("HubSpot"), "retry-1")
    again = post(http, org.tokens["EDITOR"], vendor("HubSpot"), "retry-1")

    assert first.status_code == again.status_code == 200
    assert "errors" not in first.json()
    assert again.json() == first.json()  # the same record, the same receipt
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts(http, org) == (records + 1, size + 1)


def test_the_same_key_with_another_request_is_a_conflict(http: TestClient, org: Org) -> None:
    post(http, org.tokens["EDITOR"], vendor("HubSpot"), "retry-2")
    records, size = counts(http, org)

    other_input = post(http, org.tokens["EDITOR"], vendor("Salesforce"), "retry-2")
    other_token = post(http, org.tokens["DPO"], vendor("HubSpot"), "retry-2")

    for response in (other_input, other_token):
        assert response.status_code == 422
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["CONFLICT"]
    assert counts(http, org) == (records, size)


def test_keys_are_per_organisation(http: TestClient, org: Org, other_org: Org) -> None:
    mine = post(http, org.tokens["EDITOR"], vendor("HubSpot"), "shared-key")
    theirs = post(http, other_org.tokens["EDITOR"], vendor("HubSpot"), "shared-key")
    assert "errors" not in theirs.json()
    assert theirs.json() != mine.json()


def test_a_mutation_that_changed_nothing_keeps_no_key(http: TestClient, org: Org) -> None:
    bad = post(http, org.tokens["EDITOR"], {"input": {"name": "X", "country": "XX"}}, "k-3")
    assert bad.json()["errors"]
    good = post(http, org.tokens["EDITOR"], vendor("Freshdesk"), "k-3")
    assert "errors" not in good.json()


def test_concurrent_requests_with_one_key_make_one_change(http: TestClient, org: Org) -> None:
    records, size = counts(http, org)
    answers: list[Any] = []

    def send() -> None:
        answers.append(post(http, org.tokens["EDITOR"], vendor("AWS"), "race-1"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert len(answers) == 4
    receipts = {
        a.json()["data"]["registerProcessor"]["receipt"]["seq"]
        for a in answers if a.status_code == 200
    }
    assert len(receipts) == 1  # everyone who got an answer got the same one
    assert all(a.status_code in {200, 409} for a in answers)
    assert counts(http, org) == (records + 1, size + 1)


def test_an_unusable_key_is_refused(http: TestClient, org: Org) -> None:
    response = post(http, org.tokens["EDITOR"], vendor("AWS"), "x" * 300)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def _applied_without_an_answer(
    rt: Runtime, org: Org, variables: dict[str, Any], key: str, role: str = "EDITOR"
) -> None:
    """The change of a request with `key` committed, and the process died before its
    answer was stored: what `kill -9` between the commit and `store_response` leaves."""
    from ropa.api import inputs
    from ropa.services import idempotency, processors

    principal = org.as_role(role)
    fields = {"query": REGISTER, "variables": variables, "operationName": None}
    claim = idempotency.Claim(org.id, key, idempotency.fingerprint(fields, principal.actor.id))
    data = inputs.to_dict(inputs.RegisterProcessorInput(**variables["input"]))
    with idempotency.claiming(claim):
        processors.register_processor(rt, principal, data)
    assert claim.committed
    stored = idempotency.lookup(rt, org.id, key)
    assert stored is not None
    assert stored.response is None


def test_a_retry_after_a_crash_before_the_answer_was_stored_gets_the_rebuilt_answer(
    http: TestClient, rt: Runtime, org: Org
) -> None:
    _applied_without_an_answer(rt, org, vendor("Crashed Vendor"), "crash-1")
    records, size = counts(http, org)
    retry = post(http, org.tokens["EDITOR"], vendor("Crashed Vendor"), "crash-1")
    again = post(http, org.tokens["EDITOR"], vendor("Crashed Vendor"), "crash-1")

    assert retry.status_code == 200, retry.text
    body = retry.json()
    assert "errors" not in body, body
    payload = body["data"]["registerProcessor"]
    assert payload["processor"]["name"] == "Crashed Vendor"
    assert payload["receipt"]["seq"] == size - 1  # the change made before the crash
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert again.json() == body  # stored now, and answered the same
    assert counts(http, org) == (records, size)  # nothing applied twice


def test_an_answer_with_errors_is_never_stored_nor_replayed(
    http: TestClient, rt: Runtime, org: Org
) -> None:
    from ropa.services import idempotency

    # the first mutation commits, the second is FORBIDDEN to an EDITOR: a partial answer
    both = """mutation {
      registerProcessor(input: {name: "Partial", country: "US"}) { processor { name } }
      reportBreach(input: {title: "B", discoveredAt: "2026-11-01T00:00:00Z"}) { breach { id } }
    }"""
    headers = {"Authorization": f"Bearer {org.tokens['EDITOR']}",
               "Idempotency-Key": "partial-1"}
    records, size = counts(http, org)
    first = http.post("/graphql", json={"query": both}, headers=headers).json()
    assert [e["extensions"]["code"] for e in first["errors"]] == ["FORBIDDEN"]
    assert counts(http, org) == (records + 1, size + 1)  # the first mutation committed
    stored = idempotency.lookup(rt, org.id, "partial-1")
    assert stored is not None
    assert stored.response is None  # applied, but its answer had errors: not kept
    retry = http.post("/graphql", json={"query": both}, headers=headers).json()
    assert counts(http, org) == (records + 1, size + 1)  # the retry applied nothing
    assert "INTERNAL_SERVER_ERROR" not in {e["extensions"]["code"] for e in retry["errors"]}
