"""The ledger at scale: `ropa ledger verify` against the Ed25519 limit, proofs, and asOf.

    .venv/bin/python -m bench.ledger                      # PostgreSQL
    .venv/bin/python -m bench.ledger --backend sqlite
    .venv/bin/python -m bench.ledger --only verify        # only part 1
    (needs `python -m bench.generate --ledger` first: the organisation bench-ledger)

1. The machine's raw PyNaCl verify rate, one core, measured in this run, times the cores:
   the most any verifier can do. Then `ropa ledger verify` on the exported bundle as a
   child process: entries per second, its ratio to that limit, and the child's peak
   memory (resource.getrusage of the children). `--chunks` also runs the verifier in
   process with several chunk sizes, to tune `verify.DEFAULT_CHUNK`.
2. RFC 9162 inclusion and consistency proofs at the ledger's full size, as the API serves
   them (`ledger_queries`), median and p99 over random positions.
3. The dashboard's activity list (DashboardActivities, compiled) at the current state and
   `asOf` the instant of the middle entry: the same query over the versioned tables, whose
   rows now hold the whole history. Medians and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import nacl.signing
import orjson

from bench.common import (
    OUT,
    analyze,
    apply_dashboard_limits,
    database_url,
    in_org,
    load,
    median,
    ms,
    percentile,
    runtime,
    table,
)
from ropa.services import ledger_queries, reads
from ropa.services.runtime import Runtime

SLUG = "bench-ledger"


def raw_verify_rate(seconds: float = 3.0) -> float:
    """Ed25519 verifications per second on one core, through PyNaCl."""
    key = nacl.signing.SigningKey.generate()
    signed = key.sign(b"ropa-ledger-entry-v1\n" + os.urandom(32))
    verify = key.verify_key.verify
    n = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(200):
            verify(signed)
        n += 200
    return n / (time.perf_counter() - started)


def export(rt: Runtime, backend: str) -> tuple[Path, int, str]:
    from ropa.services.ledger_export import write_bundle

    principal = in_org(rt, SLUG)
    view = reads.view_of(rt, principal, principal.org_id or "")
    out = OUT / f"bundle-{backend}-{view.size}"
    if not out.exists():
        started = time.perf_counter()
        write_bundle(rt.db, view, out)
        print(f"exported {view.size:,} entries in {time.perf_counter() - started:.0f} s")
    key = rt.signing_key().verifier_key
    return out, view.size, key


def verify_child(bundle: Path, key: str) -> tuple[float, int]:
    """Seconds and peak RSS (bytes) of `ropa ledger verify` run as a child process."""
    ropa = Path(sys.executable).parent / "ropa"
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603  (our own command line)
        [str(ropa), "ledger", "verify", str(bundle), "--key", key],
        capture_output=True, text=True, check=False,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"verify failed: {done.stdout}{done.stderr}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return took, peak_kib * 1024


def verify_figures(rt: Runtime, backend: str, chunks: bool) -> None:
    bundle, size, key = export(rt, backend)
    cores = os.cpu_count() or 1
    rate = raw_verify_rate()
    took, peak = verify_child(bundle, key)
    eps = size / took
    rows = [
        ("raw PyNaCl verify, one core", f"{rate:,.0f}/s", ""),
        (f"limit: raw rate x {cores} cores", f"{rate * cores:,.0f}/s", ""),
        (f"`ropa ledger verify`, {size:,} entries", f"{eps:,.0f}/s",
         f"{eps / (rate * cores):.2f} of the limit"),
        ("verify wall time", f"{took:.1f} s", ""),
        ("peak memory of the child (RSS)", f"{peak / 1e6:.0f} MB", ""),
    ]
    if chunks:
        from ropa.ledger.verify import verify_bundle

        for chunk in (512, 2048, 8192):
            started = time.perf_counter()
            verify_bundle(bundle, key, chunk_size=chunk)
            chunk_eps = size / (time.perf_counter() - started)
            rows.append((f"in process, chunk {chunk}", f"{chunk_eps:,.0f}/s",
                         f"{chunk_eps / (rate * cores):.2f} of the limit"))
    print(table(rows, ("ledger verify", "figure", "")))


def proof_figures(rt: Runtime, samples: int) -> None:
    principal = in_org(rt, SLUG)
    org_id = principal.org_id or ""
    size = ledger_queries.head(rt, principal, org_id).size
    rnd = random.Random(5)  # noqa: S311  (positions, not secrets)
    inclusion, consistency = [], []
    for _ in range(samples):
        seq = rnd.randrange(size)
        started = time.perf_counter()
        ledger_queries.inclusion_proof(rt, principal, org_id, seq, size)
        inclusion.append(time.perf_counter() - started)
        old = rnd.randrange(1, size)
        started = time.perf_counter()
        ledger_queries.consistency_proof(rt, principal, org_id, old, size)
        consistency.append(time.perf_counter() - started)
    print(table([
        ("inclusion proof", ms(median(inclusion)), ms(percentile(inclusion, 99))),
        ("consistency proof", ms(median(consistency)), ms(percentile(consistency, 99))),
    ], (f"proofs at {size:,} entries ({samples} random)", "median", "p99")))


def as_of_figures(rt: Runtime, runs: int) -> None:
    from sqlalchemy import select

    from ropa.api import compiled
    from ropa.api.context import Context
    from ropa.api.limits import Limits
    from ropa.api.schema import build_schema
    from ropa.store.tables import LedgerEntry

    principal = in_org(rt, SLUG)
    org_id = principal.org_id or ""
    size = ledger_queries.head(rt, principal, org_id).size
    with rt.db.read() as conn:
        middle = conn.execute(select(LedgerEntry.ts).where(
            LedgerEntry.org_id == org_id, LedgerEntry.seq == size // 2)).scalar_one()
    schema = compiled.enable(build_schema(limits=Limits.from_env()))
    query = (Path(__file__).resolve().parents[1] / "graphql" / "operations" /
             "DashboardActivities.graphql").read_text()
    query = query.replace("organization(slug: $slug)", "organization(slug: $slug, asOf: $asOf)")
    query = query.replace("$after: String)", "$after: String, $asOf: DateTime)")

    activities = len(reads.all_records(rt, reads.view_of(rt, principal, org_id),
                                       "ProcessingActivity"))

    def run(as_of: str | None) -> float:
        context = Context(runtime=rt, principal_or_none=principal, compiled=True,
                          splice_json=True)
        started = time.perf_counter()
        result = asyncio.run(schema.execute(
            query, variable_values={"slug": SLUG, "first": 1000, "asOf": as_of},
            context_value=context))
        orjson.dumps({"data": result.data})  # to the answer's bytes, as over HTTP
        took = time.perf_counter() - started
        assert not result.errors, result.errors
        return took

    run(None)
    run(middle)
    current, past = [], []
    for _ in range(runs):
        current.append(run(None))
        past.append(run(middle))
    print(table([
        ("current state", ms(median(current)), ""),
        (f"asOf {middle} (entry {size // 2:,})", ms(median(past)),
         f"{median(past) / median(current):.2f}x the current state"),
    ], (f"{activities:,} activities, ledger of {size:,} entries", "median", "")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--chunks", action="store_true", help="tune the verifier's chunks")
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--only", choices=["proofs", "asof", "verify"], action="append",
                        help="run only these parts (repeatable)")
    args = parser.parse_args(argv)
    parts = set(args.only or ["proofs", "asof", "verify"])
    if args.skip_verify:
        parts.discard("verify")
    apply_dashboard_limits()
    rt = runtime(args.backend, "ledger")
    if args.backend == "postgresql" and parts - {"verify"}:
        analyze(database_url(args.backend, "ledger"))
    print(f"backend: {args.backend}; organisation {SLUG}; load: {load()}")
    if "proofs" in parts:
        proof_figures(rt, args.samples)
    if "asof" in parts:
        as_of_figures(rt, args.runs)
    if "verify" in parts:
        verify_figures(rt, args.backend, args.chunks)
    rt.db.dispose()
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
