"""The database connection: SQLite (embedded default) or PostgreSQL through psycopg 3.

SQLite runs in WAL mode with foreign keys on and a busy timeout; write transactions start
with `BEGIN IMMEDIATE`, so two writers never both read a ledger head and then race to
extend it. PostgreSQL connections are pre-pinged so a restarted server is survived.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 5000
WRITE_OPTION = "ropa_write"


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Database:
    """An engine plus the session discipline ropa relies on."""

    def __init__(self, url: str, **engine_kw: Any) -> None:
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        # JSON columns are most of a record: decode them in C (a page of 1,000 activities
        # holds 14,000 JSON values)
        engine_kw.setdefault("json_deserializer", orjson.loads)
        if self.is_sqlite:
            engine_kw.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        else:
            engine_kw.setdefault("pool_pre_ping", True)
            engine_kw.setdefault("pool_size", 10)
            engine_kw.setdefault("max_overflow", 20)
        self.engine: Engine = create_engine(self.url, **engine_kw)
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection in one transaction (one snapshot on both databases)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def write_session(self) -> Session:
        """A session whose transaction takes the write lock (SQLite: BEGIN IMMEDIATE)."""
        bind = self.engine.execution_options(**{WRITE_OPTION: True})
        return Session(bind=bind, expire_on_commit=False, autoflush=False)

    def dispose(self) -> None:
        self.engine.dispose()


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
