"""Storing and reading RFC 3161 anchors of checkpoints (LEDGER-SPEC §9, `ledger_anchor`).

`add_anchor` is the only writer of `ledger_anchor`: one row per (organisation, tree size,
TSA), inserted or, when another process stamped the same first, dropped (INSERT ... ON
CONFLICT DO NOTHING). The table is append-only in the database itself (migration 0004).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import col

from ropa.store.database import WRITE_OPTION, Database
from ropa.store.tables import LedgerAnchor, LedgerCheckpoint, LedgerHead

# pg_try_advisory_lock key: "ropa anchor" in ASCII, one anchorer at a time per database
ADVISORY_LOCK_KEY = 0x726F7061_616E6368


@dataclass(frozen=True)
class Anchor:
    org_id: str
    size: int
    tsa: str
    gen_time: str
    token: bytes


@dataclass(frozen=True)
class Moved:
    """A ledger whose head a TSA has not stamped yet: its latest checkpoint to stamp."""

    org_id: str
    size: int
    checkpoint: str
    tsa: str


def add_anchor(db: Database, anchor: Anchor, created_at: str) -> bool:
    """Store a checked token; False if this (organisation, size, TSA) was already stored."""
    values = {
        "org_id": anchor.org_id,
        "size": anchor.size,
        "tsa": anchor.tsa,
        "gen_time": anchor.gen_time,
        "token": anchor.token,
        "created_at": created_at,
    }
    dialect = postgresql if db.dialect == "postgresql" else sqlite
    statement = dialect.insert(LedgerAnchor).values(**values).on_conflict_do_nothing()
    engine = db.engine.execution_options(**{WRITE_OPTION: True})
    with engine.connect() as conn, conn.begin():
        inserted = conn.execute(statement.returning(col(LedgerAnchor.size))).first()
    return inserted is not None


@contextmanager
def anchoring_turn(db: Database) -> Iterator[bool]:
    """Whether this process may anchor now: on PostgreSQL, one holder of an advisory lock
    across every worker and replica; on SQLite always (duplicates are dropped on insert)."""
    if db.dialect != "postgresql":
        yield True
        return
    with db.engine.connect() as conn:
        got = bool(
            conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
        )
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                conn.commit()


def latest_anchored(conn: Connection) -> dict[tuple[str, str], int]:
    """(organisation, TSA) -> the largest tree size that TSA stamped."""
    rows = conn.execute(
        select(
            col(LedgerAnchor.org_id), col(LedgerAnchor.tsa), func.max(col(LedgerAnchor.size))
        ).group_by(col(LedgerAnchor.org_id), col(LedgerAnchor.tsa))
    ).all()
    return {(org, tsa): size for org, tsa, size in rows}


def moved_heads(conn: Connection, tsas: list[str]) -> list[Moved]:
    """For each TSA, every ledger whose head is past the last size that TSA stamped."""
    done = latest_anchored(conn)
    heads = conn.execute(
        select(col(LedgerHead.org_id), col(LedgerHead.size), col(LedgerHead.checkpoint))
        .where(col(LedgerHead.size) > 0)
        .order_by(col(LedgerHead.org_id))
    ).all()
    return [
        Moved(org, size, note, tsa)
        for org, size, note in heads
        for tsa in tsas
        if done.get((org, tsa), 0) < size and note
    ]


def anchors(
    conn: Connection,
    org_id: str,
    *,
    size: int | None = None,
    max_size: int | None = None,
    after_size: int | None = None,
    gen_time_at_most: str | None = None,
    limit: int | None = None,
) -> list[Anchor]:
    """An organisation's anchors by size then TSA, optionally of one size, up to a size,
    past a size, or with genTime no later than an instant; at most `limit`."""
    stmt = select(LedgerAnchor).where(col(LedgerAnchor.org_id) == org_id)
    if size is not None:
        stmt = stmt.where(col(LedgerAnchor.size) == size)
    if max_size is not None:
        stmt = stmt.where(col(LedgerAnchor.size) <= max_size)
    if after_size is not None:
        stmt = stmt.where(col(LedgerAnchor.size) > after_size)
    if gen_time_at_most is not None:
        stmt = stmt.where(col(LedgerAnchor.gen_time) <= gen_time_at_most)
    stmt = stmt.order_by(col(LedgerAnchor.size), col(LedgerAnchor.tsa))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        Anchor(r.org_id, r.size, r.tsa, r.gen_time, bytes(r.token))
        for r in conn.execute(stmt).all()
    ]


def checkpoint_at(conn: Connection, org_id: str, size: int) -> str | None:
    """The signed checkpoint note of the tree of `size` entries."""
    return conn.execute(
        select(col(LedgerCheckpoint.note)).where(
            col(LedgerCheckpoint.org_id) == org_id, col(LedgerCheckpoint.size) == size
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Waiting:
    """A ledger a TSA has not caught up with: since when its oldest unstamped checkpoint
    waits (that checkpoint's ts), and the newest genTime that TSA gave it."""

    org_id: str
    tsa: str
    waiting_since: str
    newest_gen_time: str | None


def waiting(conn: Connection, tsas: list[str], org_id: str | None = None) -> list[Waiting]:
    """Every (ledger, TSA) whose head is past what that TSA stamped."""
    done = latest_anchored(conn)
    heads_stmt = select(col(LedgerHead.org_id), col(LedgerHead.size)).where(
        col(LedgerHead.size) > 0
    )
    if org_id is not None:
        heads_stmt = heads_stmt.where(col(LedgerHead.org_id) == org_id)
    out: list[Waiting] = []
    for org, size in conn.execute(heads_stmt).all():
        for tsa in tsas:
            stamped = done.get((org, tsa), 0)
            if stamped >= size:
                continue
            since = conn.execute(
                select(func.min(col(LedgerCheckpoint.ts))).where(
                    col(LedgerCheckpoint.org_id) == org, col(LedgerCheckpoint.size) > stamped
                )
            ).scalar_one_or_none()
            newest = conn.execute(
                select(col(LedgerAnchor.gen_time)).where(
                    col(LedgerAnchor.org_id) == org,
                    col(LedgerAnchor.tsa) == tsa,
                    col(LedgerAnchor.size) == stamped,
                )
            ).scalar_one_or_none()
            if since is not None:
                out.append(Waiting(org, tsa, since, newest))
    return out
