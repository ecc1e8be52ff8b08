"""The database connection: SQLite (embedded default) or PostgreSQL through psycopg 3.

SQLite runs in WAL mode with foreign keys on and a busy timeout; write transactions start
with `BEGIN IMMEDIATE`, so two writers never both read a ledger head and then race to
extend it. PostgreSQL connections are pre-pinged so a restarted server is survived; a
single-statement read (`Database.read_one`, and `read_one_async` from the event loop) is
sent without a ping or a transaction, and retried once on a fresh connection.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
from sqlalchemy import JSON, Engine, Table, event
from sqlalchemy.engine import Connection, Row, make_url
from sqlalchemy.exc import DBAPIError, InternalError, OperationalError
from sqlalchemy.sql import Executable
from sqlmodel import Session, create_engine

from ropa.errors import UnavailableError

SQLITE_BUSY_TIMEOUT_MS = 5000
LOOP_CONNECTIONS = 8  # per event loop, for `read_one_async`: more requests wait their turn
log = logging.getLogger("ropa.store")
WRITE_OPTION = "ropa_write"


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass
class _LoopConnections:
    """One event loop's connections for `Database.read_one_async`."""

    idle: list[psycopg.AsyncConnection[Any]]
    turn: asyncio.Semaphore


class Database:
    """An engine plus the session discipline ropa relies on."""

    def __init__(self, url: str, **engine_kw: Any) -> None:
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        # JSON columns are most of a record: decode them in C (a page of 1,000 activities
        # holds 14,000 JSON values)
        engine_kw.setdefault("json_deserializer", orjson.loads)
        engine_kw.setdefault("json_serializer", _json_text)
        if self.is_sqlite:
            engine_kw.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        else:
            engine_kw.setdefault("pool_pre_ping", True)
            engine_kw.setdefault("pool_size", 10)
            engine_kw.setdefault("max_overflow", 20)
        # a failed statement's parameters (stored answers, token hashes, record contents)
        # never reach an exception's text, so never a log line
        engine_kw.setdefault("hide_parameters", True)
        self.engine: Engine = create_engine(self.url, **engine_kw)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        # one-statement reads (`read_one`): autocommit, not pinged (PostgreSQL)
        self._single: Engine | None = None if self.is_sqlite else create_engine(
            self.url, **{**engine_kw, "pool_pre_ping": False, "isolation_level": "AUTOCOMMIT"}
        )
        # ... and the same from the event loop (`read_one_async`): its own idle connections
        self._conninfo = make_url(self.url).set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnections] = (
            weakref.WeakKeyDictionary()
        )
        # told each statement `read_one_async` sends (SQLAlchemy's events see the others)
        self.loop_statement_listeners: list[Callable[[str], None]] = []

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sqlite_file(self) -> Path | None:
        """The absolute path of an SQLite database file (None for PostgreSQL or `:memory:`)."""
        if not self.is_sqlite:
            return None
        name = make_url(self.url).database
        if not name or name == ":memory:" or name.startswith("file:"):
            return None
        return Path(name).resolve()

    @property
    def where(self) -> str:
        """The database named for a message: a file's absolute path, or the URL sans password."""
        path = self.sqlite_file
        if path is not None:
            return str(path)
        url = make_url(self.url)
        return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)

    def exists(self) -> bool:
        """False for an SQLite file that is not there (connecting would create it)."""
        path = self.sqlite_file
        return path is None or path.is_file()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection in one transaction (one snapshot on both databases).

        A lost connection (a terminated backend, a restarted server) or a database that
        refuses is UnavailableError (SERVICE_UNAVAILABLE), for reads as for writes.
        """
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except (OperationalError, InternalError) as exc:
            if not is_unavailable(exc):
                raise  # e.g. a table gone missing: an internal error, not a retry
            raise unavailable(exc, "read") from None

    @property
    def engines(self) -> list[Engine]:
        """Every engine statements go through (to observe them all)."""
        return [self.engine] + ([self._single] if self._single is not None else [])

    def read_one(self, statement: Executable) -> Row[Any] | None:
        """The first row of one read-only statement, in one round trip to the server.

        `read` pings a pooled PostgreSQL connection, then sends BEGIN, the statement and
        COMMIT: four round trips. One statement sees one snapshot without a transaction,
        so here it is sent alone on a connection in autocommit mode from a pool of its
        own that is not pinged; a connection found lost is dropped and the statement sent
        once more on a fresh one. SQLite has no round trips: `read` serves.
        """
        if self._single is None:
            with self.read() as conn:
                return conn.execute(statement).first()
        for attempt in (1, 2):
            try:
                with self._single.connect() as conn:
                    return conn.execute(statement).first()
            except (OperationalError, InternalError) as exc:
                if not is_unavailable(exc):
                    raise
                if attempt == 2 or not exc.connection_invalidated:
                    raise unavailable(exc, "read") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def read_one_async(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row of one read-only statement of PostgreSQL (`%s` placeholders), sent
        from the event loop itself: one round trip, no worker thread.

        Connections are autocommit, LOOP_CONNECTIONS at most per event loop (kept open
        between statements) and not pinged: one found lost is dropped and the statement
        sent once more on a fresh one. A database that cannot be reached is
        UnavailableError."""
        if self.is_sqlite:
            raise TypeError("read_one_async is for PostgreSQL: SQLite has `read_one`")
        loop = asyncio.get_running_loop()
        pool = self._loops.get(loop)
        if pool is None:
            pool = self._loops[loop] = _LoopConnections([], asyncio.Semaphore(LOOP_CONNECTIONS))
        async with pool.turn:
            for attempt in (1, 2):
                conn = pool.idle.pop() if pool.idle else None
                fresh = conn is None
                try:
                    if conn is None:
                        conn = await psycopg.AsyncConnection.connect(
                            self._conninfo, autocommit=True
                        )
                    for listener in self.loop_statement_listeners:
                        listener(sql)
                    cursor = await conn.execute(sql, params)
                    row = await cursor.fetchone()
                except psycopg.OperationalError as exc:
                    if conn is not None:
                        await conn.close()
                    if fresh or attempt == 2:
                        name = type(exc).__name__
                        log.warning("database read failed: %s: %s", name, first_line(exc))
                        raise UnavailableError(
                            "the database could not be reached; retry later"
                        ) from None
                    continue
                pool.idle.append(conn)
                return row
        raise AssertionError("unreachable")  # pragma: no cover

    def write_session(self) -> Session:
        """A session whose transaction takes the write lock (SQLite: BEGIN IMMEDIATE)."""
        bind = self.engine.execution_options(**{WRITE_OPTION: True})
        return Session(bind=bind, expire_on_commit=False, autoflush=False)

    @contextmanager
    def pipelined_commit(self, conn: Connection) -> Iterator[None]:
        """The statements sent inside, then COMMIT, go out together: one round trip.

        libpq's pipeline mode on PostgreSQL (psycopg 3), for statements whose results are
        not read (inserts, updates); the first error stops the rest, COMMIT included, and
        is raised as SQLAlchemy raises it. The caller's `commit()` afterwards then finds
        nothing left to commit, and only then returns the connection to the pool. SQLite
        is in process: nothing to gain, so nothing changes (the caller commits).
        """
        if self.is_sqlite:
            yield
            return
        raw = driver(conn)
        assert raw is not None
        with driver_errors(), raw.pipeline():
            yield
            raw.commit()

    def copy_rows(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> bool:
        """Insert `rows` into `table` with COPY (PostgreSQL); False where there is none.

        For hundreds of rows at once (an import): COPY skips the statement's per-row
        parameter handling. JSON columns are sent as their text, as the engine encodes
        them; the server parses every value into its column's type.
        """
        if self.is_sqlite or not rows:
            return False
        raw = driver(conn)
        assert raw is not None
        names = list(rows[0])
        as_json = [isinstance(table.c[n].type, JSON) for n in names]
        columns = ", ".join(f'"{n}"' for n in names)
        with driver_errors(), raw.cursor().copy(
            f'COPY "{table.name}" ({columns}) FROM STDIN'
        ) as copy:
            for row in rows:
                copy.write_row([
                    _json_text(row[n]) if j and row[n] is not None else row[n]
                    for n, j in zip(names, as_json, strict=True)
                ])
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self._single is not None:
            self._single.dispose()
        for pool in list(self._loops.values()):
            while pool.idle:
                pool.idle.pop().pgconn.finish()  # its loop may be gone: closed without it


def driver(conn: Connection) -> psycopg.Connection[Any] | None:
    """The psycopg connection under `conn` on PostgreSQL (None on SQLite): for the few fixed
    statements of every write, where SQLAlchemy's per-statement work is most of the cost."""
    if conn.dialect.name != "postgresql":
        return None
    return conn.connection.driver_connection


@contextmanager
def driver_errors() -> Iterator[None]:
    """psycopg's errors on the driver connection, raised as SQLAlchemy raises them, so a
    refusing database is told from a conflict as for every other statement."""
    try:
        yield
    except psycopg.Error as exc:
        raise DBAPIError.instance(None, None, exc, psycopg.Error, hide_parameters=True) from None


def _json_text(value: Any) -> str:
    """A JSON column's text, encoded in C (an import writes thousands of them a second)."""
    return orjson.dumps(value).decode()


def _global_id(type_name: str, record_id: str | None) -> str | None:
    """base64 of `Type:uuid`, as ropa.api.ids.to_global_id writes it."""
    if record_id is None:
        return None
    return base64.b64encode(f"{type_name}:{record_id}".encode()).decode()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        # Relay global ids in SQL (ropa.services.json_reads); PostgreSQL has base64 built in
        dbapi_conn.create_function("ropa_global_id", 2, _global_id, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def first_line(exc: BaseException) -> str:
    """The first line of a database error's own message: never its statement's parameters."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [""])[0]


_UNAVAILABLE_WORDS = ("locked", "busy", "readonly", "read-only", "disk", "full", "unable to open")


def is_unavailable(exc: OperationalError | InternalError) -> bool:
    """Whether the database, not the statement, failed: a lost or refused connection, a
    server shutting down or terminating the backend (PostgreSQL), a busy, read-only or
    full database (SQLite). Then a retry may succeed."""
    if exc.connection_invalidated:
        return True
    orig = exc.orig or exc
    if type(orig).__module__.startswith("psycopg"):
        return True  # PostgreSQL's OperationalError/InternalError: the server or the link
    return any(word in first_line(exc).lower() for word in _UNAVAILABLE_WORDS)


def unavailable(exc: OperationalError | InternalError, doing: str) -> UnavailableError:
    """A database that could not serve a `doing` ('read', 'write'): logged by the error's
    first line only, answered SERVICE_UNAVAILABLE."""
    name = type(getattr(exc, "orig", None) or exc).__name__
    log.warning("database %s failed: %s: %s", doing, name, first_line(exc))
    return UnavailableError("the database could not be reached; retry later")
