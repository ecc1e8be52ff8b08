"""What the benchmarks share: where data goes, databases, runtimes, timing and counting.

Everything generated lives in `bench/out/` (git-ignored): the SQLite databases, the
signing key, exported bundles, the npm cache for PostGraphile. PostgreSQL databases are
`ropa_bench` (the dashboard set), `ropa_bench_ledger` (the ledger set) and
`ropa_bench_writes` (bench.mutations) on `ROPA_BENCH_POSTGRES_URL` (default: the local
server). When that URL names a database (`postgresql://host/mine`), the dashboard set
lives in it and the others in `mine_ledger` and `mine_writes`.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from ropa.config import Settings
from ropa.ledger.keys import SigningKey
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.reads import open_view
from ropa.services.runtime import Runtime
from ropa.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
KEY_FILE = OUT / "signing.key"

DATABASES = {
    # name -> (PostgreSQL database, SQLite file)
    "main": ("ropa_bench", "main.db"),
    "ledger": ("ropa_bench_ledger", "ledger.db"),
    "writes": ("ropa_bench_writes", "writes.db"),
}


# The dashboard deployment's settings (docs/performance.md): one page holds every activity,
# the cost limit fits it, and rate limiting is off. Servers get them in their environment
# (bench.servers); in-process runs get them from `apply_dashboard_limits`.
DASHBOARD_ENV = {"ROPA_MAX_PAGE": "1000", "ROPA_MAX_COST": "1000000", "ROPA_RATE_LIMIT": "0"}


def apply_dashboard_limits() -> None:
    """The dashboard deployment's limits in this process (bench commands only)."""
    from ropa.api.limits import page_size
    from ropa.services import reads

    os.environ.update(DASHBOARD_ENV)
    reads.MAX_PAGE = page_size.MAX_PAGE = int(DASHBOARD_ENV["ROPA_MAX_PAGE"])


def postgres_server() -> tuple[str, str | None]:
    """`ROPA_BENCH_POSTGRES_URL` split into the server and the database it names, if any."""
    url = os.environ.get("ROPA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    name = path.split("?", 1)[0].strip("/") if slash else ""
    return f"{scheme}{sep}{authority}", name or None


def database_url(backend: str, name: str = "main") -> str:
    pg_name, sqlite_file = DATABASES[name]
    if backend == "postgresql":
        server, chosen = postgres_server()
        if chosen is not None:
            pg_name = chosen if name == "main" else f"{chosen}_{name}"
        return f"{server}/{pg_name}"
    if backend == "sqlite":
        return f"sqlite:///{OUT / sqlite_file}"
    raise SystemExit(f"unknown backend {backend!r}: postgresql or sqlite")


def signing_key() -> SigningKey:
    OUT.mkdir(parents=True, exist_ok=True)
    if not KEY_FILE.exists():
        SigningKey.generate("ropa.bench-20260101").write_to_file(KEY_FILE)
    return SigningKey.load_from_file(KEY_FILE)


def runtime(backend: str, name: str = "main") -> Runtime:
    signing_key()
    return Runtime(Settings(database_url=database_url(backend, name), key_file=KEY_FILE))


def prepare(backend: str, name: str) -> Runtime:
    """A runtime on benchmark database `name`, created and migrated if need be."""
    url = database_url(backend, name)
    if backend == "postgresql":
        import psycopg
        from psycopg import sql

        server, _, db_name = url.rpartition("/")
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (db_name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
    rt = runtime(backend, name)
    upgrade(rt.db)
    return rt


def in_org(rt: Runtime, slug: str) -> Principal:
    view, _ = open_view(rt, SYSTEM_PRINCIPAL, slug)
    return Principal(SYSTEM_PRINCIPAL.actor, view.org_id)


# --- measuring ------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock seconds of `repeat` calls of `fn`."""
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def percentile(xs: list[float], p: float) -> float:
    ordered = sorted(xs)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def analyze(url: str) -> None:
    """PostgreSQL as autovacuum keeps it (dead versions gone, fresh planner statistics),
    before timing: a generator's bulk updates leave it otherwise for a while."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def load() -> str:
    """The machine's load averages (1, 5, 15 min) and cores, printed with every figure."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class StatementCounter:
    """Counts SQL statements sent on an engine (a `before_cursor_execute` listener)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []

    def _on_execute(self, *args: Any) -> None:
        self.count += 1
        self.statements.append(str(args[2])[:120])

    @contextmanager
    def counting(self) -> Iterator[StatementCounter]:
        self.count = 0
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._on_execute)


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A Markdown table, as docs/performance.md holds them."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def line(r: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])
