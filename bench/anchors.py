"""What anchoring costs a write: mutation latency with and without TSAs configured.

    .venv/bin/python -m bench.anchors                      # 300 writes a side, SQLite
    .venv/bin/python -m bench.anchors --writes 1000 --backend postgresql

Two `ropa serve` processes on loopback, each on its own fresh database: one without
`ROPA_TSA`, one stamping with a local openssl TSA (tests/anchors/tsa.py) every
`--interval` seconds (default 1 s), so its anchorer really runs during the writes. One
client sends `registerProcessor` to each in turn (one write at a time, alternating, so
both sides see the same machine load) and times each answer. Prints p50 and p99 per
side, their ratios, how many tokens the "with" side stored during the run, and the load
average before and after. Target: at most 5 % more at p50 and p99.

The "with" side also sends its checkpoints to two witnesses (C2SP tlog-witness: two
`ropa witness serve` processes, tests/witness/conftest.py) every `--interval` seconds;
`--no-witnesses` leaves them out, to see the TSA's share alone.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.common import median, percentile, postgres_server, table
from bench.harness import Deployment, Server
from ropa.ledger.cosignature import CosigningKey
from ropa.store.tables import CheckpointCosignature, LedgerAnchor
from tests.anchors.tsa import TsaServer, make_authority
from tests.witness.conftest import WitnessProcess

REGISTER = """mutation Register($input: RegisterProcessorInput!) {
  registerProcessor(input: $input) { processor { id } receipt { seq } } }"""
WITNESSES = 2


def _database(backend: str, root: Path, name: str) -> str | None:
    if backend == "sqlite":
        return None  # Deployment's own file
    import psycopg

    server, _ = postgres_server()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


def _side(
    root: Path, backend: str, name: str, witnesses: list[WitnessProcess] | None = None, **env: str
) -> tuple[Deployment, Server, str]:
    deployment = Deployment.create(root / name, _database(backend, root, f"ropa_bench_{name}"))
    token = deployment.make_org("acme", role="EDITOR")
    if witnesses is not None:
        origin = f"{deployment.rt.settings.ledger_prefix}/{deployment.orgs['acme']}"
        for i in range(WITNESSES):
            (root / f"witness-{i}").mkdir()
            witness = WitnessProcess(
                root / f"witness-{i}",
                f"sqlite:///{root / f'witness-{i}.db'}",
                [f"{origin} {deployment.key.verifier_key}"],
                key=CosigningKey.generate(f"bench.test/w{i}"),
            )
            witnesses.append(witness.start())
        env["ROPA_WITNESSES"] = ";".join(f"{w.key.verifier_key} {w.url}" for w in witnesses)
    server = deployment.server(**env).start()
    return deployment, server, token


def _write(client: httpx.Client, server: Server, token: str, i: int) -> float:
    # warm-up writes count down from -1: named apart, as the duplicate check ignores signs
    name = f"Vendor {'warmup' if i < 0 else 'timed'} {abs(i)}"
    variables: dict[str, Any] = {"input": {"name": name, "country": "DE"}}
    started = time.perf_counter()
    response = client.post(
        server.url,
        json={"query": REGISTER, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    elapsed = time.perf_counter() - started
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"write failed: {response.status_code} {body}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300, help="writes per side")
    parser.add_argument("--interval", type=float, default=1.0, help="anchoring interval, s")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--no-witnesses", action="store_true", help="the TSA alone")
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ropa-bench-anchors-") as tmp:
        root = Path(tmp)
        authority = make_authority(root / "tsa")
        tsa = TsaServer(authority).start()
        anchoring = {
            "ROPA_TSA": f"{authority.name}={tsa.url}={authority.ca_cert}",
            "ROPA_ANCHOR_INTERVAL": str(args.interval),
            "ROPA_WITNESS_INTERVAL": str(args.interval),
        }
        witnesses: list[WitnessProcess] = []
        plain = _side(root, args.backend, "without")
        anchored = _side(
            root, args.backend, "with", None if args.no_witnesses else witnesses, **anchoring
        )
        times: dict[str, list[float]] = {"without": [], "with": []}
        try:
            with httpx.Client(timeout=30) as client:
                for i in range(20):  # warm both up
                    _write(client, plain[1], plain[2], -i - 1)
                    _write(client, anchored[1], anchored[2], -i - 1)
                started = time.monotonic()
                for i in range(args.writes):
                    times["without"].append(_write(client, plain[1], plain[2], i))
                    times["with"].append(_write(client, anchored[1], anchored[2], i))
                seconds = time.monotonic() - started
            time.sleep(args.interval * 1.5)
            with anchored[0].rt.db.read() as conn:
                tokens = conn.execute(select(func.count()).select_from(LedgerAnchor)).scalar()
                cosignatures = conn.execute(
                    select(func.count()).select_from(CheckpointCosignature)
                ).scalar()
        finally:
            for deployment, server, _ in (plain, anchored):
                server.stop()
                deployment.close()
            for witness in witnesses:
                witness.stop()
            tsa.stop()
    load_after = os.getloadavg()

    def row(name: str) -> tuple[str, ...]:
        xs = times[name]
        return (name, f"{median(xs) * 1000:.2f} ms", f"{percentile(xs, 99) * 1000:.2f} ms")

    print(
        f"# anchoring overhead: {args.writes} writes a side, {args.backend}, "
        f"TSA and {len(witnesses)} witnesses every {args.interval:g}s, "
        f"{seconds:.1f}s of writes"
    )
    print(table([row("without"), row("with")], ("side", "p50", "p99")))
    p50 = median(times["with"]) / median(times["without"])
    p99 = percentile(times["with"], 99) / percentile(times["without"], 99)
    print(f"ratio with/without: p50 {p50:.3f}, p99 {p99:.3f} (target <= 1.05)")
    print(
        f"tokens stored by the 'with' side during the run: {tokens} "
        f"(TSA requests answered: {tsa.served}); cosignatures stored: {cosignatures}"
    )
    print(
        "load average before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(
            *load_before, *load_after
        )
    )


if __name__ == "__main__":
    main()
