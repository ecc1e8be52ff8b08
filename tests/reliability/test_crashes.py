"""Crashes and faults under load: a server killed with SIGKILL in the middle of a write
loop, PostgreSQL backends terminated mid-transaction, and SIGTERM during a slow request.

Clients get errors, never hangs; the service recovers on its own (pooled connections are
pre-pinged); and afterwards every acknowledged change is in a ledger that verifies and
whose replay equals the database, with nothing half-written.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import make_url

from bench.harness import Deployment
from bench.load import REGISTER, Figures, Target, run
from tests.conftest import PG_URL
from tests.reliability.conftest import RELIABILITY_SECONDS, figures_line

pytestmark = pytest.mark.slow

CLIENT_TIMEOUT = 10.0


def in_background(targets: list[Target], seconds: float) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {"figures": Figures()}

    def drive() -> None:
        _, out["took"] = asyncio.run(run(targets, [], seconds, CLIENT_TIMEOUT, out["figures"]))

    thread = threading.Thread(target=drive)
    thread.start()
    return thread, out


def until_acknowledged(out: dict[str, Any], count: int, seconds: float = 20) -> None:
    """Wait until the clients hold `count` receipts: the loop is truly under way."""
    deadline = time.monotonic() + seconds
    while len(out["figures"].acknowledged) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def settle(thread: threading.Thread, out: dict[str, Any], seconds: float) -> tuple[Figures, float]:
    thread.join(seconds + CLIENT_TIMEOUT + 10)
    assert not thread.is_alive(), "a client hung"
    figures: Figures = out["figures"]
    took: float = out["took"]
    assert took < seconds + CLIENT_TIMEOUT + 1, "a request outlived its timeout"
    return figures, took


def test_a_server_killed_mid_write_loop_loses_no_acknowledged_change(
    deployment: Deployment,
) -> None:
    token = deployment.make_org("acme")
    server = deployment.server().start()
    seconds = RELIABILITY_SECONDS / 2
    thread, out = in_background([Target(server.url, "acme", token)] * 4, seconds + 5)
    until_acknowledged(out, 4)
    server.kill()  # SIGKILL, in the middle of the writes: no chance to finish anything
    crashed, took = settle(thread, out, seconds + 5)

    restarted = deployment.server().start()
    after, after_took = asyncio.run(run([Target(restarted.url, "acme", token)] * 2, [], 1.5))
    restarted.stop()
    ledger = deployment.verify(crashed.acknowledged + after.acknowledged)
    print(figures_line(f"kill -9 ({deployment.rt.db.dialect})", crashed.summary(took)))
    print(figures_line("after the restart", after.summary(after_took)), ledger)

    assert crashed.acknowledged, "nothing was acknowledged before the kill"
    assert crashed.errors, "the clients did not notice the crash"
    assert not after.errors, after.errors
    assert ledger["acme"]["found"] == len(crashed.acknowledged) + len(after.acknowledged)


def test_terminated_postgresql_backends_are_survived_without_a_restart(
    deployment: Deployment,
) -> None:
    if deployment.rt.db.is_sqlite:
        return  # PostgreSQL only: SQLite has no server to lose
    name = make_url(deployment.rt.db.url).database
    token = deployment.make_org("acme")
    server = deployment.server().start()
    seconds = RELIABILITY_SECONDS / 2
    thread, out = in_background([Target(server.url, "acme", token)] * 4, seconds + 5)
    terminated = 0
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        for n in (4, 8):
            until_acknowledged(out, n)
            terminated += len(admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (name,),
            ).fetchall())
    during, took = settle(thread, out, seconds + 5)

    after, after_took = asyncio.run(run([Target(server.url, "acme", token)] * 2, [], 1.5))
    server.stop()
    ledger = deployment.verify(during.acknowledged + after.acknowledged)
    print(f"\nterminated {terminated} backends;"
          + figures_line(" during", during.summary(took))
          + figures_line("after, same process", after.summary(after_took)), ledger)

    assert terminated > 0
    assert not after.errors, after.errors  # recovered on its own
    assert ledger["acme"]["found"] == len(during.acknowledged) + len(after.acknowledged)
    for kind in during.errors:  # a dropped connection, or an error that says it failed
        _, _, codes = kind.partition(":200:")
        assert set(codes.split(",")) <= {"", "SERVICE_UNAVAILABLE"}, kind


@contextmanager
def write_lock_held(deployment: Deployment, org_slug: str) -> Iterator[None]:
    """Hold the organisation's ledger lock from outside the service (a slow writer)."""
    org_id = deployment.orgs[org_slug]
    if deployment.rt.db.is_sqlite:
        conn = sqlite3.connect(make_url(deployment.rt.db.url).database or "",
                               isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    with psycopg.connect(deployment.database_url) as pg:
        pg.execute("SELECT 1 FROM ledger_head WHERE org_id = %s FOR UPDATE", (org_id,))
        yield
        pg.rollback()


def test_sigterm_lets_a_request_in_flight_finish(deployment: Deployment) -> None:
    token = deployment.make_org("acme")
    server = deployment.server().start()
    result: dict[str, Any] = {}

    def send() -> None:
        result["response"] = httpx.post(
            server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30,
            json={"query": REGISTER, "variables": {"input": {"name": "Slow", "country": "DE"}}},
        )

    with write_lock_held(deployment, "acme"):
        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(1.0)  # the request is in, waiting for the lock
        server.signal(15)  # SIGTERM
        time.sleep(0.5)
        assert server.process is not None
        assert server.process.poll() is None, "the server quit with a request in flight"
    sender.join(30)
    code = server.wait(30)

    response = result["response"]
    assert response.status_code == 200
    receipt = response.json()["data"]["registerProcessor"]["receipt"]
    assert code in {0, -15}  # uvicorn re-raises the signal once it has shut down
    ledger = deployment.verify([("acme", receipt["seq"], receipt["leafHash"])])
    assert ledger["acme"]["found"] == 1
