"""Retrying after database faults and crashes, with `Idempotency-Key`, on PostgreSQL.

Eight writers register vendors, each request with its own key, while the service's
PostgreSQL backends are terminated (`pg_terminate_backend`), and again while the server
is killed (`kill -9`) and restarted. Then every request is retried with its key until it
is answered. Every first answer is a complete answer, SERVICE_UNAVAILABLE or a dropped
connection (never a 500 nor INTERNAL_SERVER_ERROR); every retry gets a complete answer,
equal to the first complete one when there was one (an answer lost between the commit
and its storing is rebuilt from the change); each vendor exists once; the ledger verifies.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import make_url

from bench.harness import Deployment, Server
from tests.conftest import PG_URL

pytestmark = pytest.mark.slow

WRITERS = 8
REQUESTS = 48
REGISTER = """mutation Register($input: RegisterProcessorInput!) {
  registerProcessor(input: $input) { processor { id name } receipt { seq leafHash } } }"""
COUNT = """query($slug: String!) { organization(slug: $slug) {
  processors(first: 100) { totalCount edges { node { name } } } } }"""


def _send(url: str, token: str, n: int) -> tuple[int, Any] | None:
    """One request's answer (status, JSON), or None when the connection dropped."""
    try:
        response = httpx.post(
            url,
            timeout=15,
            json={
                "query": REGISTER,
                "variables": {"input": {"name": f"Vendor {n}", "country": "DE"}},
            },
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"vendor-{n}"},
        )
    except httpx.HTTPError:
        return None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def _complete(answer: tuple[int, Any] | None) -> bool:
    return (
        answer is not None
        and answer[0] == 200
        and isinstance(answer[1], dict)
        and not answer[1].get("errors")
        and answer[1].get("data") is not None
    )


def _codes(answer: tuple[int, Any] | None) -> set[str]:
    if answer is None or not isinstance(answer[1], dict):
        return set()
    return {(e.get("extensions") or {}).get("code", "") for e in answer[1].get("errors") or []}


def _write_all(
    url: str,
    token: str,
    numbers: list[int],
    into: dict[int, tuple[int, Any] | None] | None = None,
) -> dict[int, tuple[int, Any] | None]:
    """Every request, `WRITERS` at a time; answers land in `into` as they come."""
    found = {} if into is None else into

    def one(n: int) -> None:
        found[n] = _send(url, token, n)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(one, numbers))
    return found


def _retry_until_answered(url: str, token: str, n: int) -> tuple[int, Any] | None:
    answer = None
    for _ in range(20):
        answer = _send(url, token, n)
        if _complete(answer):
            return answer
        time.sleep(0.2)
    return answer


def _check(
    deployment: Deployment,
    server: Server,
    token: str,
    slug: str,
    first: dict[int, tuple[int, Any] | None],
) -> dict[str, Any]:
    faults = {
        n: a
        for n, a in first.items()
        if a is not None and ((a[0] >= 500 and a[0] != 503) or "INTERNAL_SERVER_ERROR" in _codes(a))
    }
    assert not faults, faults
    retried = {n: _retry_until_answered(server.url, token, n) for n in first}
    unanswered = {n: a for n, a in retried.items() if not _complete(a)}
    assert not unanswered, unanswered
    changed = {
        n: (first[n], retried[n])
        for n in first
        if _complete(first[n]) and first[n][1] != retried[n][1]
    }  # type: ignore[index]
    assert not changed, changed
    listed = httpx.post(
        server.url,
        json={"query": COUNT, "variables": {"slug": slug}},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    names = [e["node"]["name"] for e in listed["data"]["organization"]["processors"]["edges"]]
    assert sorted(names) == sorted(f"Vendor {n}" for n in first), "a change applied twice"
    return {
        "first complete": sum(_complete(a) for a in first.values()),
        "first unavailable": sum(a is not None and a[0] == 503 for a in first.values()),
        "first dropped": sum(a is None for a in first.values()),
        "ledger": deployment.verify(),
    }


def test_retries_after_terminated_backends_get_the_first_answer_and_apply_once(
    deployment: Deployment,
) -> None:
    if deployment.rt.db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite has no backends to terminate")
    name = make_url(deployment.rt.db.url).database
    token = deployment.make_org("acme")
    server = deployment.server().start()
    stop = threading.Event()
    terminated = [0]

    def terminate() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            while not stop.wait(0.15):
                terminated[0] += len(
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()",
                        (name,),
                    ).fetchall()
                )

    killer = threading.Thread(target=terminate)
    killer.start()
    try:
        first = _write_all(server.url, token, list(range(REQUESTS)))
    finally:
        stop.set()
        killer.join()
    try:
        figures = _check(deployment, server, token, "acme", first)
    finally:
        server.stop()
    print(f"\nterminated {terminated[0]} backends; {figures}")
    assert terminated[0] > 0
    _logs_name_the_request_and_hold_no_parameters(server)


def _logs_name_the_request_and_hold_no_parameters(server: Server) -> None:
    """Every line logged while answering carries its request id; a database error is its
    first line only: no SQL parameters, no stored answer, no token hash."""
    lines = [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]
    answering = [x for x in lines if x["level"] in {"warning", "error"}]
    assert answering, "the faults left no trace in the log"
    assert all("request_id" in x for x in answering), [
        x for x in answering if "request_id" not in x
    ][:3]
    text = server.log.read_text()
    for leak in ("parameters", "Traceback", "Vendor ", "token_hash"):
        assert leak not in text, leak


def test_retries_after_kill_9_mid_write_get_the_first_answer_and_apply_once(
    deployment: Deployment,
) -> None:
    if deployment.rt.db.is_sqlite:
        pytest.skip("run on PostgreSQL (tests/reliability/test_crashes.py covers SQLite)")
    token = deployment.make_org("acme")
    server = deployment.server().start()
    first: dict[int, tuple[int, Any] | None] = {}

    writers = threading.Thread(
        target=_write_all, args=(server.url, token, list(range(REQUESTS)), first)
    )
    writers.start()
    deadline = time.monotonic() + 30
    while sum(_complete(a) for a in list(first.values())) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)  # writes under way, some answered
    server.kill()
    writers.join(60)
    assert not writers.is_alive(), "a client hung"
    restarted = deployment.server().start()
    try:
        figures = _check(deployment, restarted, token, "acme", first)
    finally:
        restarted.stop()
    print(f"\nkill -9 mid-write; {figures}")
    assert figures["first complete"] > 0, "the kill came before any answer"
    assert figures["first dropped"] > 0, "the kill came after every write"
