"""The DPO dashboard at 1,000 activities: latency cold and warm, SQL statements per request,
and the same data served by PostGraphile v4, side by side in one run.

    .venv/bin/python -m bench.dashboard                      # PostgreSQL, with PostGraphile
    .venv/bin/python -m bench.dashboard --backend sqlite     # ours only
    (needs `python -m bench.generate` first)

Prints, for graphql/operations/DashboardActivities.graphql with `first: 1000` on bench-1k
(1,000 activities, 2 legal bases, 3 engagements with their processor and a transfer each):

- in process: the standard executor (graphql-core through strawberry) against the
  compiled one, and the SQL statements each sends, at 100 and at 1,000 activities;
- over HTTP: cold requests (`Cache-Control: no-cache`, so every one executes) against
  PostGraphile's, interleaved, medians and their ratio; then warm repeats (served from the
  result cache, with and without If-None-Match) against PostGraphile's repeats, as
  requests per second and their ratio;
- the full DashboardOverview (with findings, breaches and the ledger head) for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    StatementCounter,
    apply_dashboard_limits,
    database_url,
    in_org,
    median,
    ms,
    runtime,
    table,
)
from bench.servers import POSTGRAPHILE_QUERY, postgraphile_server, ropa_server
from ropa.api import compiled
from ropa.api.context import Context
from ropa.api.limits import Limits
from ropa.api.schema import build_schema
from ropa.services import tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.runtime import Runtime

OPERATIONS = Path(__file__).resolve().parents[1] / "graphql" / "operations"
SLUG = "bench-1k"


def in_process(rt: Runtime, runs: int) -> list[tuple[str, ...]]:
    """Standard against compiled execution, without HTTP; statements per request."""
    schema = compiled.enable(build_schema(limits=Limits.from_env()))
    principal = in_org(rt, SLUG)
    counter = StatementCounter(rt.db.engine)
    rows: list[tuple[str, ...]] = []

    def run(name: str, variables: dict[str, Any], fast: bool) -> tuple[float, int, int]:
        query = (OPERATIONS / f"{name}.graphql").read_text()
        context = Context(runtime=rt, principal_or_none=principal, compiled=fast)
        with counter.counting():
            started = time.perf_counter()
            result = asyncio.run(
                schema.execute(query, variable_values=variables, context_value=context)
            )
            took = time.perf_counter() - started
        assert not result.errors, result.errors
        return took, counter.count, len(json.dumps(result.data))

    for name, first in (("DashboardActivities", 100), ("DashboardActivities", 1000),
                        ("DashboardOverview", 100)):
        variables = {"slug": SLUG, "first": first}
        run(name, variables, True)  # plans, pools and caches warmed
        standard = [run(name, variables, False) for _ in range(max(1, runs // 2))]
        fast = [run(name, variables, True) for _ in range(runs)]
        s, f = median([t for t, _, _ in standard]), median([t for t, _, _ in fast])
        rows.append((
            f"{name} first={first}", ms(s), ms(f), f"{s / f:.2f}x",
            f"{standard[0][1]} / {fast[0][1]}", f"{fast[0][2] / 1e6:.2f} MB",
        ))
    print(table(rows, ("in process", "standard", "compiled", "speed-up",
                       "SQL statements (std / compiled)", "JSON")))
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


def over_http(rt: Runtime, backend: str, runs: int, with_postgraphile: bool) -> None:
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
    with ropa_server(url) as ours, httpx.Client(timeout=120) as client:
        pg_ctx = postgraphile_server(url) if with_postgraphile else None
        theirs = pg_ctx.__enter__() if pg_ctx else None
        try:
            first_ours, r = _post(client, ours, ours_body, cold_headers)
            assert "errors" not in r.json(), r.text[:500]
            ours_size = len(r.content)
            if theirs:
                first_theirs, r = _post(client, theirs, theirs_body, {})
                assert "errors" not in r.json(), r.text[:500]
                theirs_size = len(r.content)
                count = r.json()["data"]["allActivities"]["totalCount"]
                assert count == 1000, count
            cold_ours, cold_theirs = [], []
            for _ in range(runs):  # interleaved, so both see the same machine
                cold_ours.append(_post(client, ours, ours_body, cold_headers)[0])
                if theirs:
                    cold_theirs.append(_post(client, theirs, theirs_body, {})[0])
            # warm: the result cache (full answers), and revalidation (304)
            _, r = _post(client, ours, ours_body, auth)
            etag = r.headers["etag"]
            warm_ours = [_post(client, ours, ours_body, auth)[0] for _ in range(runs * 3)]
            r304 = client.post(ours, json=ours_body, headers={**auth, "If-None-Match": etag})
            assert r304.status_code == 304, r304.status_code
            rate_ours = _rate(client, ours, ours_body, auth, 5)
            rate_304 = _rate(client, ours, ours_body, {**auth, "If-None-Match": etag}, 5)
            rate_theirs = _rate(client, theirs, theirs_body, {}, 5) if theirs else 0.0
        finally:
            if pg_ctx:
                pg_ctx.__exit__(None, None, None)
    rows = [
        ("first request after start", ms(first_ours), ms(first_theirs) if theirs else "-",
         f"{first_ours / first_theirs:.2f}" if theirs else "-"),
        (f"cold, median of {runs}", ms(median(cold_ours)),
         ms(median(cold_theirs)) if theirs else "-",
         f"{median(cold_ours) / median(cold_theirs):.2f}" if theirs else "-"),
        (f"warm (result cache), median of {runs * 3}", ms(median(warm_ours)),
         ms(median(cold_theirs)) if theirs else "-",
         f"{median(warm_ours) / median(cold_theirs):.3f}" if theirs else "-"),
        ("warm throughput, requests/s (200 from cache)", f"{rate_ours:.1f}",
         f"{rate_theirs:.1f}" if theirs else "-",
         f"{rate_ours / rate_theirs:.1f}x" if theirs else "-"),
        ("warm throughput, requests/s (304 If-None-Match)", f"{rate_304:.1f}",
         f"{rate_theirs:.1f}" if theirs else "-",
         f"{rate_304 / rate_theirs:.1f}x" if theirs else "-"),
        ("response size", f"{ours_size / 1e6:.2f} MB",
         f"{theirs_size / 1e6:.2f} MB" if theirs else "-", ""),
    ]
    print(table(rows, ("over HTTP, 1,000 activities", "ropa", "PostGraphile v4",
                       "ratio ropa/PostGraphile")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-postgraphile", action="store_true")
    args = parser.parse_args(argv)
    apply_dashboard_limits()
    rt = runtime(args.backend)
    print(f"backend: {args.backend}; organisation {SLUG}")
    in_process(rt, args.runs)
    over_http(rt, args.backend, args.runs,
              with_postgraphile=args.backend == "postgresql" and not args.no_postgraphile)
    rt.db.dispose()


if __name__ == "__main__":
    main()
