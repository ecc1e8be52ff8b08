"""The DPO dashboard at 1,000 activities: latency cold and warm, SQL statements per request,
and the same data served by PostGraphile v4, side by side in one run.

    .venv/bin/python -m bench.dashboard                      # PostgreSQL, with PostGraphile
    .venv/bin/python -m bench.dashboard --backend sqlite     # ours only
    (needs `python -m bench.generate` first)

Prints, for graphql/operations/DashboardActivities.graphql with `first: 1000` on bench-1k
(1,000 activities, 2 legal bases, 3 engagements with their processor and a transfer each):

- in process, to the answer's bytes: the standard executor (graphql-core through
  strawberry), the compiled one building values in Python, and the compiled one with the
  connection's JSON written by the database (`ropa.services.json_reads`), with the SQL
  statements each sends, at 100 and at 1,000 activities, and the full DashboardOverview;
- over HTTP, cold (`Cache-Control: no-cache`, so every request executes) against
  PostGraphile's, interleaved, medians and their ratio (after `ANALYZE`, for both);
- over HTTP, warm: result-cache hits against the same bytes served by a bare Starlette
  route (`bench.bare`) under the same uvicorn, interleaved; and hits and 304s per second,
  from one httpx client and over 8 keep-alive connections (`bench.keepalive`).

`--only warm` runs the warm part alone (no in-process runs, no cold runs, no PostGraphile).

The machine's load averages are printed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import (
    StatementCounter,
    analyze,
    apply_dashboard_limits,
    database_url,
    in_org,
    load,
    median,
    ms,
    runtime,
    table,
)
from bench.keepalive import requests_per_second
from bench.servers import POSTGRAPHILE_QUERY, bare_server, postgraphile_server, ropa_server
from ropa.api import compiled
from ropa.api.context import Context
from ropa.api.limits import Limits
from ropa.api.schema import build_schema
from ropa.services import tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.runtime import Runtime

OPERATIONS = Path(__file__).resolve().parents[1] / "graphql" / "operations"
SLUG = "bench-1k"
CONNECTIONS = 8  # keep-alive connections of the raw load driver, for the warm rates


def in_process(rt: Runtime, runs: int) -> list[tuple[str, ...]]:
    """The three executors without HTTP, each to the bytes of the answer; statements sent."""
    schema = compiled.enable(build_schema(limits=Limits.from_env()))
    principal = in_org(rt, SLUG)
    counter = StatementCounter(rt.db.engine)
    rows: list[tuple[str, ...]] = []
    modes = {  # name -> Context flags
        "standard": {"compiled": False},
        "compiled": {"compiled": True, "json_reads": False},
        "database JSON": {"compiled": True, "splice_json": True},
    }

    def run(name: str, variables: dict[str, Any], flags: dict[str, bool]) -> tuple[float, int, int]:
        query = (OPERATIONS / f"{name}.graphql").read_text()
        context = Context(runtime=rt, principal_or_none=principal, **flags)
        with counter.counting():
            started = time.perf_counter()
            result = asyncio.run(
                schema.execute(query, variable_values=variables, context_value=context)
            )
            body = orjson.dumps({"data": result.data})
            took = time.perf_counter() - started
        assert not result.errors, result.errors
        return took, counter.count, len(body)

    for name, first in (("DashboardActivities", 100), ("DashboardActivities", 1000),
                        ("DashboardOverview", 100)):
        variables = {"slug": SLUG, "first": first}
        for flags in modes.values():
            run(name, variables, flags)  # plans, pools and caches warmed
        timings = {}
        for mode, flags in modes.items():
            repeat = max(1, runs // 2) if mode == "standard" else runs
            timings[mode] = [run(name, variables, flags) for _ in range(repeat)]
        m = {mode: median([t for t, _, _ in found]) for mode, found in timings.items()}
        rows.append((
            f"{name} first={first}", ms(m["standard"]), ms(m["compiled"]),
            ms(m["database JSON"]), f"{m['standard'] / m['database JSON']:.1f}x",
            " / ".join(str(timings[mode][0][1]) for mode in modes),
            f"{timings['database JSON'][0][2] / 1e6:.2f} MB",
        ))
    print(table(rows, ("in process, to the answer's bytes", "standard", "compiled",
                       "database JSON", "speed-up", "SQL statements (std / comp / db)",
                       "JSON")))
    return rows


def _post(client: httpx.Client, url: str, body: dict[str, Any],
          headers: dict[str, str]) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.post(url, json=body, headers=headers)
    took = time.perf_counter() - started
    if response.status_code != 304:
        response.raise_for_status()
    return took, response


def _rate(client: httpx.Client, url: str, body: dict[str, Any], headers: dict[str, str],
          seconds: float) -> float:
    n = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        _post(client, url, body, headers)
        n += 1
    return n / (time.perf_counter() - started)


def over_http(rt: Runtime, backend: str, runs: int, with_postgraphile: bool,
              cold: bool = True) -> None:
    principal = in_org(rt, SLUG)
    secret = tokens.create_token(rt, SYSTEM_PRINCIPAL, principal.org_id or "", "DPO",
                                 "dashboard benchmark").secret
    ours_body = {"query": (OPERATIONS / "DashboardActivities.graphql").read_text(),
                 "variables": {"slug": SLUG, "first": 1000}}
    auth = {"Authorization": f"Bearer {secret}"}
    cold_headers = {**auth, "Cache-Control": "no-cache"}
    theirs_body = {"query": POSTGRAPHILE_QUERY,
                   "variables": {"org": principal.org_id, "first": 1000}}
    url = database_url(backend)
    rows: list[tuple[str, ...]] = []
    with ropa_server(url) as ours, httpx.Client(timeout=120) as client:
        first_ours, r = _post(client, ours, ours_body, cold_headers)
        assert "errors" not in r.json(), r.text[:500]
        cached = r.content
        if cold and with_postgraphile:
            with postgraphile_server(url) as theirs:
                first_theirs, r = _post(client, theirs, theirs_body, {})
                assert "errors" not in r.json(), r.text[:500]
                theirs_size = len(r.content)
                count = r.json()["data"]["allActivities"]["totalCount"]
                assert count == 1000, count
                cold_ours, cold_theirs = [], []
                for _ in range(runs):  # interleaved, so both see the same machine
                    cold_ours.append(_post(client, ours, ours_body, cold_headers)[0])
                    cold_theirs.append(_post(client, theirs, theirs_body, {})[0])
            rows += [
                ("first request after start", ms(first_ours), ms(first_theirs),
                 f"{first_ours / first_theirs:.2f}"),
                (f"cold (no-cache), median of {runs}", ms(median(cold_ours)),
                 ms(median(cold_theirs)), f"{median(cold_ours) / median(cold_theirs):.2f}"),
                ("response size", f"{len(cached) / 1e6:.2f} MB", f"{theirs_size / 1e6:.2f} MB",
                 ""),
            ]
        elif cold:
            cold_ours = [_post(client, ours, ours_body, cold_headers)[0] for _ in range(runs)]
            rows.append((f"cold (no-cache), median of {runs}", ms(median(cold_ours)), "-", "-"))
        if rows:
            print(table(rows, ("over HTTP, 1,000 activities, cold", "ropa", "PostGraphile v4",
                               "ratio ropa/PostGraphile")))
        warm_over_http(client, ours, ours_body, auth, runs)


def warm_over_http(client: httpx.Client, ours: str, body: dict[str, Any],
                   auth: dict[str, str], runs: int) -> None:
    """The result cache against the same bytes from a bare Starlette route, interleaved;
    then hits and 304s per second, from one httpx client and over `CONNECTIONS` raw
    keep-alive connections (`bench.keepalive`)."""
    _, r = _post(client, ours, body, auth)
    etag = r.headers["etag"]
    _, r = _post(client, ours, body, auth)
    assert r.headers.get("etag") == etag
    cached = r.content
    revalidate = {**auth, "If-None-Match": etag}
    warm_ours, warm_bare = [], []
    with bare_server(cached) as bare:
        _post(client, bare, body, {})
        for _ in range(runs * 3):
            warm_ours.append(_post(client, ours, body, auth)[0])
            warm_bare.append(_post(client, bare, body, {})[0])
        hits_n, bare_hits = 0.0, 0.0
        for _ in range(3):  # alternated, so both see the same machine
            hits_n += requests_per_second(ours, body, auth, connections=CONNECTIONS,
                                          seconds=1) / 3
            bare_hits += requests_per_second(bare, body, {}, connections=CONNECTIONS,
                                             seconds=1) / 3
    r304 = client.post(ours, json=body, headers=revalidate)
    assert r304.status_code == 304, r304.status_code
    rate_ours = _rate(client, ours, body, auth, 3)
    rate_304 = _rate(client, ours, body, revalidate, 3)
    r304_n = requests_per_second(ours, body, revalidate, status=304, connections=CONNECTIONS)
    w, b = median(warm_ours), median(warm_bare)
    print(table([
        (f"cache hit (200, {len(cached) / 1e6:.2f} MB), median of {runs * 3}", ms(w), ms(b),
         f"{w / b:.2f}"),
        ("cache hits, requests/s, one client", f"{rate_ours:.0f}", "", ""),
        (f"cache hits, requests/s, {CONNECTIONS} connections", f"{hits_n:.0f}",
         f"{bare_hits:.0f}", f"{bare_hits / hits_n:.2f}"),
        ("304 If-None-Match, requests/s, one client", f"{rate_304:.0f}", "", ""),
        (f"304 If-None-Match, requests/s, {CONNECTIONS} connections", f"{r304_n:.0f}", "", ""),
    ], ("over HTTP, warm", "ropa", "same bytes, bare Starlette", "ratio")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-postgraphile", action="store_true")
    parser.add_argument("--only", choices=["all", "warm"], default="all",
                        help="warm: only the result cache over HTTP (no in-process or cold run)")
    args = parser.parse_args(argv)
    apply_dashboard_limits()
    rt = runtime(args.backend)
    print(f"backend: {args.backend}; organisation {SLUG}; load: {load()}")
    if args.backend == "postgresql":
        analyze(database_url(args.backend))  # before any timing, in process or over HTTP
    if args.only == "all":
        in_process(rt, args.runs)
    over_http(rt, args.backend, args.runs,
              with_postgraphile=args.backend == "postgresql" and not args.no_postgraphile,
              cold=args.only == "all")
    rt.db.dispose()
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
