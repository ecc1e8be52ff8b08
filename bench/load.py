"""A bounded load test over loopback: dashboard reads mixed with writes, then the figures.

    .venv/bin/python -m bench.load --seconds 60                     # spawns a server (SQLite)
    .venv/bin/python -m bench.load --database postgresql://postgres@127.0.0.1/ropa_load
    .venv/bin/python -m bench.load --url http://127.0.0.1:8000/graphql --token T --slug S

Readers send `graphql/operations/DashboardOverview.graphql`; writers register processors
and update them (every write acknowledged with a ledger receipt is remembered). It stops
by itself after `--seconds`, prints requests, errors and latency percentiles, and, when it
spawned the server, verifies the ledger: signatures, Merkle root, checkpoints, no gap, no
fork, every acknowledged receipt present, and a replay equal to the database.

The same driver (`run`) is what tests/reliability uses, with shorter runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
ERROR_PAUSE = 0.05  # seconds a client waits after a failed request
DASHBOARD = (ROOT / "graphql" / "operations" / "DashboardOverview.graphql").read_text()
REGISTER = """mutation Register($input: RegisterProcessorInput!) {
  registerProcessor(input: $input) { processor { id name } receipt { seq leafHash } } }"""
UPDATE = """mutation Update($input: UpdateProcessorInput!) {
  updateProcessor(input: $input) { processor { id name } receipt { seq leafHash } } }"""


@dataclass(frozen=True)
class Target:
    """One server, one organisation, and a token of that organisation (EDITOR or above)."""

    url: str
    slug: str
    token: str


@dataclass
class Figures:
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"read": [], "write": []})
    # (slug, seq, leafHash) of every write the server acknowledged with a receipt
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)

    def percentile(self, kind: str, p: float) -> float:
        values = sorted(self.latencies[kind])
        if not values:
            return 0.0
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000

    def summary(self, seconds: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seconds": round(seconds, 1), "requests": self.requests,
            "per_second": round(self.requests / seconds, 1) if seconds else 0,
            "errors": sum(self.errors.values()), "error_kinds": dict(self.errors),
            "acknowledged_writes": len(self.acknowledged),
        }
        for kind in ("read", "write"):
            if self.latencies[kind]:
                out[kind] = {
                    "count": len(self.latencies[kind]),
                    "p50_ms": round(self.percentile(kind, 50), 1),
                    "p99_ms": round(self.percentile(kind, 99), 1),
                    "mean_ms": round(statistics.fmean(self.latencies[kind]) * 1000, 1),
                }
        return out


async def _post(
    client: httpx.AsyncClient, target: Target, query: str, variables: dict[str, Any],
    figures: Figures, kind: str,
) -> dict[str, Any] | None:
    started = time.perf_counter()
    try:
        response = await client.post(
            target.url, json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {target.token}"},
        )
    except httpx.HTTPError as exc:
        figures.requests += 1
        figures.errors[f"{kind}:{type(exc).__name__}"] += 1
        return None
    figures.requests += 1
    figures.latencies[kind].append(time.perf_counter() - started)
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        figures.errors[f"{kind}:http {response.status_code}"] += 1
        return None
    if response.status_code != 200 or body.get("errors"):
        codes = [(e.get("extensions") or {}).get("code", "?") for e in body.get("errors") or []]
        figures.errors[f"{kind}:{response.status_code}:{','.join(codes)}"] += 1
        return None
    return body


async def writer(client: httpx.AsyncClient, target: Target, name: str, deadline: float,
                 figures: Figures) -> None:
    n = 0
    last_id: str | None = None
    while time.monotonic() < deadline:
        n += 1
        if last_id is not None and n % 3 == 0:
            variables = {"input": {"id": last_id, "name": f"{name}{n} (renamed)"}}
            body = await _post(client, target, UPDATE, variables, figures, "write")
            payload = (body or {}).get("data", {}).get("updateProcessor") if body else None
        else:
            variables = {"input": {"name": f"{name}{n}", "country": "DE",
                                   "services": ["hosting"]}}
            body = await _post(client, target, REGISTER, variables, figures, "write")
            payload = (body or {}).get("data", {}).get("registerProcessor") if body else None
        if payload and payload.get("receipt"):
            receipt = payload["receipt"]
            figures.acknowledged.append((target.slug, receipt["seq"], receipt["leafHash"]))
            last_id = payload["processor"]["id"]
        elif body is None:
            await asyncio.sleep(ERROR_PAUSE)  # as a client would before retrying


async def reader(client: httpx.AsyncClient, target: Target, deadline: float,
                 figures: Figures) -> None:
    while time.monotonic() < deadline:
        body = await _post(client, target, DASHBOARD, {"slug": target.slug, "first": 20},
                           figures, "read")
        if body is None:
            await asyncio.sleep(ERROR_PAUSE)


async def run(
    writers: list[Target], readers: list[Target], seconds: float, timeout: float = 30.0,
    figures: Figures | None = None,
) -> tuple[Figures, float]:
    """Drive the writers and readers until `seconds` have passed; every request is bounded.

    `figures`, when given, is filled as the run goes (another thread may watch it).
    """
    figures = figures if figures is not None else Figures()
    run = uuid.uuid4().hex[:8]
    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=len(writers) + len(readers) + 4)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        await asyncio.gather(
            # names distinct across writers and runs, also with spacing ignored (a name
            # already registered is refused as a likely duplicate)
            *(writer(client, t, f"Vendor w{i} run {run} n", deadline, figures)
              for i, t in enumerate(writers)),
            *(reader(client, t, deadline, figures) for t in readers),
        )
    return figures, time.perf_counter() - started


# --- standalone: spawn a server on a fresh database, load it, verify the ledger -----------


def _spawn_and_run(args: argparse.Namespace) -> int:
    import tempfile

    from bench.harness import Deployment

    with tempfile.TemporaryDirectory() as tmp:
        deployment = Deployment.create(Path(tmp), args.database)
        slugs = [f"load-{i}" for i in range(args.orgs)]
        tokens = {slug: deployment.make_org(slug) for slug in slugs}
        with deployment.serve() as url:
            writers = [Target(url, slugs[i % len(slugs)], tokens[slugs[i % len(slugs)]])
                       for i in range(args.writers)]
            readers = [Target(url, slugs[i % len(slugs)], tokens[slugs[i % len(slugs)]])
                       for i in range(args.readers)]
            figures, took = asyncio.run(run(writers, readers, args.seconds))
        report = figures.summary(took)
        report["ledger"] = deployment.verify(figures.acknowledged)
        deployment.close()
    print(json.dumps(report, indent=2))
    return 0 if report["errors"] == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--orgs", type=int, default=2, help="organisations (spawned server)")
    parser.add_argument("--database", default=None,
                        help="PostgreSQL URL of an empty database (default: a fresh SQLite)")
    parser.add_argument("--url", help="an already running server's /graphql")
    parser.add_argument("--token", help="a token of --slug's organisation (with --url)")
    parser.add_argument("--slug", help="the organisation to load (with --url)")
    args = parser.parse_args(argv)
    if args.url:
        target = Target(args.url, args.slug, args.token)
        figures, took = asyncio.run(
            run([target] * args.writers, [target] * args.readers, args.seconds)
        )
        print(json.dumps(figures.summary(took), indent=2))
        return 0 if not figures.errors else 1
    return _spawn_and_run(args)


if __name__ == "__main__":
    raise SystemExit(main())
