"""A bounded load on loopback: dashboard reads (graphql/operations/DashboardOverview.graphql)
mixed with writes on two organisations, through one server process. No request fails, the
latency percentiles are printed, and the ledgers verify afterwards.

`python -m bench.load --seconds 60` runs the same driver for longer and prints the figures.
"""

from __future__ import annotations

import asyncio

import pytest

from bench.harness import Deployment
from bench.load import Target, run
from tests.reliability.conftest import RELIABILITY_SECONDS, SETUP_ENTRIES, figures_line

pytestmark = pytest.mark.slow


def test_a_bounded_load_of_reads_and_writes_has_no_error_and_a_verified_ledger(
    deployment: Deployment,
) -> None:
    tokens = {slug: deployment.make_org(slug) for slug in ("load-a", "load-b")}
    server = deployment.server().start()
    try:
        writers = [Target(server.url, slug, tokens[slug]) for slug in tokens] * 2
        readers = [Target(server.url, slug, tokens[slug]) for slug in tokens] * 3
        figures, took = asyncio.run(run(writers, readers, RELIABILITY_SECONDS))
    finally:
        server.stop()
    summary = figures.summary(took)
    ledger = deployment.verify(figures.acknowledged)
    print(figures_line(f"load ({deployment.rt.db.dialect}, 1 server)", summary), ledger)

    assert summary["errors"] == 0, summary["error_kinds"]
    assert summary["read"]["count"] > 0
    assert summary["write"]["count"] > 0
    for slug in tokens:
        assert ledger[slug]["found"] == ledger[slug]["acknowledged"]
        assert ledger[slug]["size"] == SETUP_ENTRIES + ledger[slug]["acknowledged"]
