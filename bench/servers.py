"""The two servers a side-by-side benchmark talks to, on loopback ports, and how to stop them.

`ropa_server` runs `ropa serve` (one uvicorn worker) on a benchmark database, with the
page size the dashboard needs (`ROPA_MAX_PAGE=1000`), the cost limit raised to match and
rate limiting off. `postgraphile_server` installs PostGraphile v4 from npm into
`bench/out/postgraphile` (once), creates the schema `bench_pg` of views over the current
rows (`valid_to IS NULL`) with smart comments for keys and relations, and serves it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

from bench.common import DASHBOARD_ENV, KEY_FILE, OUT, ROOT

PG_BENCH_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bench_pg;
CREATE OR REPLACE VIEW bench_pg.activities AS
  SELECT id, org_id, name, role, status, purposes, data_categories, legal_bases, retention
  FROM public.processing_activity WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW bench_pg.processors AS
  SELECT id, org_id, name, country, dpf, dpa_signed_on
  FROM public.processor WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW bench_pg.engagements AS
  SELECT id, org_id, activity_id, processor_id, purpose, data_categories
  FROM public.processor_engagement WHERE valid_to IS NULL;
CREATE OR REPLACE VIEW bench_pg.transfers AS
  SELECT id, org_id, activity_id, recipient_processor_id, recipient_name, to_country,
         mechanism, scc_module
  FROM public.transfer WHERE valid_to IS NULL;
COMMENT ON VIEW bench_pg.activities IS E'@primaryKey id';
COMMENT ON VIEW bench_pg.processors IS E'@primaryKey id';
COMMENT ON VIEW bench_pg.engagements IS
  E'@primaryKey id\\n@foreignKey (activity_id) references bench_pg.activities (id)\\n'
  '@foreignKey (processor_id) references bench_pg.processors (id)';
COMMENT ON VIEW bench_pg.transfers IS
  E'@primaryKey id\\n@foreignKey (activity_id) references bench_pg.activities (id)\\n'
  '@foreignKey (recipient_processor_id) references bench_pg.processors (id)';
"""

# The same data as graphql/operations/DashboardActivities.graphql asks of ropa.
POSTGRAPHILE_QUERY = """
query Dashboard($org: UUID!, $first: Int!) {
  allActivities(condition: {orgId: $org}, orderBy: [NAME_ASC, ID_ASC], first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id name role status purposes dataCategories legalBases retention
      engagementsByActivityId { nodes {
        id purpose dataCategories
        processorByProcessorId { id name country dpf dpaSignedOn }
      } }
      transfersByActivityId { nodes {
        id toCountry mechanism sccModule recipientName
        processorByRecipientProcessorId { id name }
      } }
    } }
  }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server at {url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not start in {seconds:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def ropa_server(database_url: str, **env: str) -> Iterator[str]:
    """`ropa serve` on a free port; yields the /graphql URL."""
    port = free_port()
    environ = {
        **os.environ, "ROPA_DATABASE_URL": database_url, "ROPA_SIGNING_KEY_FILE": str(KEY_FILE),
        **DASHBOARD_ENV, "ROPA_GRAPHIQL": "0", **env,
    }
    log = open(OUT / "ropa-server.log", "ab")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(  # noqa: S603  (our own command line)
        [str(Path(sys.executable).parent / "ropa"), "serve", "--port", str(port)],
        env=environ, stdout=log, stderr=log, cwd=ROOT,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        _stop(process)
        log.close()


@contextmanager
def bare_server(body: bytes) -> Iterator[str]:
    """`bench.bare` under uvicorn, serving `body`; yields its /graphql URL."""
    OUT.mkdir(parents=True, exist_ok=True)
    body_file = OUT / "bare-body.json"
    body_file.write_bytes(body)
    port = free_port()
    log = open(OUT / "bare-server.log", "ab")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(  # noqa: S603  (our own command line)
        [sys.executable, "-m", "uvicorn", "bench.bare:app", "--port", str(port),
         "--log-level", "warning"],
        env={**os.environ, "BENCH_BARE_BODY": str(body_file)}, stdout=log, stderr=log, cwd=ROOT,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        _stop(process)
        log.close()


def install_postgraphile() -> Path:
    """PostGraphile v4 from npm, into bench/out/postgraphile (once)."""
    prefix = OUT / "postgraphile"
    binary = prefix / "node_modules" / ".bin" / "postgraphile"
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        npm = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
               "postgraphile@4"]
        subprocess.run(npm, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return binary


@contextmanager
def postgraphile_server(database_url: str) -> Iterator[str]:
    """PostGraphile v4 over the `bench_pg` views; yields the /graphql URL."""
    binary = install_postgraphile()
    plain_url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain_url, autocommit=True) as conn:
        conn.execute(PG_BENCH_SCHEMA)  # type: ignore[arg-type]
    port = free_port()
    log = open(OUT / "postgraphile.log", "ab")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(  # noqa: S603
        [str(binary), "-c", plain_url, "-s", "bench_pg", "--host", "127.0.0.1",
         "--port", str(port), "--disable-query-log", "--no-setof-functions-contain-nulls"],
        stdout=log, stderr=log, cwd=OUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.post(url, json={"query": "{ __typename }"}, timeout=2)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        "PostGraphile did not start: see bench/out/postgraphile.log"
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        _stop(process)
        log.close()
