"""Writes with the ledger against the same writes without it, and 8 concurrent writers.

    .venv/bin/python -m bench.mutations                     # PostgreSQL
    .venv/bin/python -m bench.mutations --backend sqlite

1. One write at a time, interleaved: `registerProcessor` through the write path (validate,
   lock the head, sign the entry, add the Merkle nodes, sign the checkpoint, commit) against
   the same validated row inserted with a plain SQLAlchemy INSERT in one transaction (into
   a scratch organisation with no ledger, deleted afterwards). Medians, p99, their ratio.
2. 8 writer threads of one process at once, as a service's concurrent requests: all into
   one organisation (its ledger takes one transaction at a time; the group commit joins
   the writers that arrive meanwhile into the next one) and each into its own; per-write
   latency p50/p99, throughput in total and per organisation, and how many commits held
   more than one change.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from typing import Any

from sqlalchemy import delete, insert

from bench.common import (
    apply_dashboard_limits,
    load,
    median,
    ms,
    percentile,
    prepare,
    table,
)
from ropa.services import organizations, processors
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.changes import new_state
from ropa.services.runtime import Runtime
from ropa.store.tables import Processor

WRITERS = 8


def _vendor(i: int) -> dict[str, Any]:
    return {"name": f"Writer vendor {i}", "legalName": f"Writer vendor {i} GmbH",
            "country": "DE", "services": ["hosting"], "processingLocations": ["DE"],
            "dpaSignedOn": "2025-01-01", "dpaReference": f"W-{i}",
            "certifications": ["ISO 27001"]}


def _org(rt: Runtime, slug: str) -> Principal:
    """A new organisation for this run (its vendors are the duplicate check's whole set)."""
    slug = f"{slug}-{uuid.uuid4().hex[:8]}"
    change = organizations.create_organization(
        rt, SYSTEM_PRINCIPAL, {"slug": slug, "name": slug, "roles": ["CONTROLLER"],
                               "country": "DE"})
    assert change.state is not None
    return Principal(SYSTEM_PRINCIPAL.actor, change.state["id"])


def with_ledger(rt: Runtime, principal: Principal, i: int) -> None:
    processors.register_processor(rt, principal, _vendor(i))


def without_ledger(rt: Runtime, scratch_org: str, i: int) -> None:
    """The same validated write without the ledger: the same state, the same duplicate
    look-up (processors.duplicate_query), the row inserted, committed."""
    state = new_state("Processor", {"status": "ACTIVE", **_vendor(i)})
    with rt.db.engine.begin() as conn:
        if conn.execute(processors.duplicate_query(scratch_org, state)).first() is not None:
            raise AssertionError("a duplicate vendor")
        conn.execute(insert(Processor.__table__).values(  # type: ignore[attr-defined]
            id=state["id"], org_id=scratch_org, valid_from=0, valid_to=None,
            **Processor.row_values(state),
        ))


def one_at_a_time(rt: Runtime, n: int) -> None:
    principal = _org(rt, "bench-writes")
    scratch = str(uuid.uuid4())
    ledger, plain = [], []
    for i in range(5):  # connections, key and caches warmed
        with_ledger(rt, principal, 900_000 + i)
        without_ledger(rt, scratch, 900_000 + i)
    for i in range(n):
        started = time.perf_counter()
        with_ledger(rt, principal, i)
        ledger.append(time.perf_counter() - started)
        started = time.perf_counter()
        without_ledger(rt, scratch, i)
        plain.append(time.perf_counter() - started)
    with rt.db.engine.begin() as conn:
        conn.execute(delete(Processor.__table__).where(  # type: ignore[attr-defined]
            Processor.__table__.c.org_id == scratch))  # type: ignore[attr-defined]
    print(table([
        ("with the ledger (registerProcessor)", ms(median(ledger)), ms(percentile(ledger, 99))),
        ("without (plain INSERT, same row)", ms(median(plain)), ms(percentile(plain, 99))),
        ("ratio", f"{median(ledger) / median(plain):.2f}",
         f"{percentile(ledger, 99) / percentile(plain, 99):.2f}"),
    ], (f"one write at a time, {n} each", "median", "p99")))


def _writer(rt: Runtime, org_id: str, start: int, count: int, go: threading.Barrier,
            out: list[tuple[list[float], float, float]]) -> None:
    """A writer thread: its latencies, and when its timed writes began and ended."""
    principal = Principal(SYSTEM_PRINCIPAL.actor, org_id)
    go.wait()
    latencies = []
    began = time.perf_counter()
    for i in range(start, start + count):
        started = time.perf_counter()
        with_ledger(rt, principal, i)
        latencies.append(time.perf_counter() - started)
    out.append((latencies, began, time.perf_counter()))


def concurrent(rt: Runtime, per_writer: int) -> None:
    """8 writer threads of one process (a service's requests), into one organisation or
    each into its own: the service's group commit joins the writes that arrive while a
    transaction holds an organisation's ledger."""
    shared = _org(rt, "bench-writes").org_id or ""
    own = [_org(rt, f"bench-writes-{k}").org_id or "" for k in range(WRITERS)]
    rows = []
    for label, orgs in (("8 writers, one organisation", [shared] * WRITERS),
                        ("8 writers, one organisation each", own)):
        for k, org in enumerate(orgs):  # connections and caches warmed
            with_ledger(rt, Principal(SYSTEM_PRINCIPAL.actor, org), 800_000 + k)
        groups_before = rt.writes.groups
        results: list[tuple[list[float], float, float]] = []
        go = threading.Barrier(WRITERS)
        threads = [
            threading.Thread(target=_writer,
                             args=(rt, org, 10_000 * (k + 1), per_writer, go, results))
            for k, org in enumerate(orgs)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        latencies = [x for r, _, _ in results for x in r]
        took = max(e for _, _, e in results) - min(b for _, b, _ in results)
        total = len(latencies) / took
        per_org = total / len(set(orgs))
        rows.append((label, ms(percentile(latencies, 50)), ms(percentile(latencies, 99)),
                     f"{total:.0f}", f"{per_org:.0f}",
                     str(rt.writes.groups - groups_before)))
    print(table(rows, (f"concurrent writes ({per_writer} per writer)", "p50", "p99",
                       "writes/s", "writes/s per organisation", "grouped commits")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--per-writer", type=int, default=50)
    args = parser.parse_args(argv)
    apply_dashboard_limits()
    rt = prepare(args.backend, "writes")
    print(f"backend: {args.backend}; load {load()}")
    one_at_a_time(rt, args.writes)
    concurrent(rt, args.per_writer)
    rt.db.dispose()


if __name__ == "__main__":
    main()
