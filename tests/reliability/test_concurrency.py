"""Two server processes on one database, concurrent writers on one organisation and on
others: every acknowledged change is in a ledger that verifies, with no gap and no fork,
and a replay of each ledger equals the database.

PostgreSQL serialises writers on each organisation's ledger head (SELECT ... FOR UPDATE);
SQLite serialises every writer (BEGIN IMMEDIATE, WAL, a busy timeout). Either way a
writer gets its receipt or a clear error, never a corrupt ledger.
"""

from __future__ import annotations

import asyncio

import pytest

from bench.harness import Deployment
from bench.load import Target, run
from tests.reliability.conftest import RELIABILITY_SECONDS, SETUP_ENTRIES, figures_line

pytestmark = pytest.mark.slow


def test_two_servers_with_concurrent_writers_lose_no_acknowledged_change(
    deployment: Deployment,
) -> None:
    tokens = {slug: deployment.make_org(slug) for slug in ("shared", "solo-a", "solo-b")}
    servers = [deployment.server().start(), deployment.server().start()]
    try:
        writers: list[Target] = []
        readers: list[Target] = []
        for server, solo in zip(servers, ("solo-a", "solo-b"), strict=True):
            writers += [Target(server.url, "shared", tokens["shared"])] * 3
            writers.append(Target(server.url, solo, tokens[solo]))
            readers.append(Target(server.url, "shared", tokens["shared"]))
        figures, took = asyncio.run(run(writers, readers, RELIABILITY_SECONDS))
    finally:
        for server in servers:
            server.stop()
    summary = figures.summary(took)
    ledger = deployment.verify(figures.acknowledged)
    print(figures_line(f"concurrency ({deployment.rt.db.dialect}, 2 servers)", summary))
    print(f"ledgers: {ledger}")

    if deployment.rt.db.is_sqlite:
        # one lock for the whole file: a writer that waited past the busy timeout is told to
        # retry, in so many words; nothing else may fail
        retryable = {"write:200:SERVICE_UNAVAILABLE"}
        assert set(figures.errors) <= retryable, summary["error_kinds"]
    else:
        assert summary["errors"] == 0, summary["error_kinds"]
    assert figures.acknowledged, "no write was acknowledged"
    for slug in ("shared", "solo-a", "solo-b"):
        assert ledger[slug]["found"] == ledger[slug]["acknowledged"]
        # and nothing else: the organisation and its token, then one entry per receipt
        assert ledger[slug]["size"] == SETUP_ENTRIES + ledger[slug]["acknowledged"]
    assert sum(v["acknowledged"] for v in ledger.values()) == len(figures.acknowledged)
