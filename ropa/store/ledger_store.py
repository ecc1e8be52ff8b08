"""The ledger's storage: appending signed entries, stored subtree hashes, checkpoints, proofs.

Appending costs O(log n): the head row keeps the tree's right edge (the frontier of
complete subtrees), each new leaf writes the complete subtree nodes it closes
(`ledger_node`), and proofs read O(log n) of those nodes in one query (RFC 9162 §2.1).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import insert, select, text, tuple_, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from ropa.ledger import merkle
from ropa.ledger.canonical import canonical
from ropa.ledger.checkpoint import checkpoint_text
from ropa.ledger.keys import SigningKey
from ropa.ledger.note import sign_note
from ropa.store.database import driver, driver_errors
from ropa.store.tables import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode


@dataclass(frozen=True)
class Actor:
    """Who made a change: a token (its id and role) or the system (CLI, migrations)."""

    id: str
    role: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "role": self.role}


SYSTEM = Actor("system", "SYSTEM")

# a `ledger_entry` row as the write path builds it (column -> value)
EntryRow = dict[str, Any]


@dataclass(frozen=True)
class Receipt:
    """The ledger entry a change became, and the signed checkpoint that first includes it."""

    seq: int
    leaf_hash: str
    signature: str
    key_id: str
    checkpoint: str
    entity_type: str
    entity_id: str


def origin_for(prefix: str, org_id: str) -> str:
    return f"{prefix}/{org_id}"


def new_head(org_id: str, origin: str, key: SigningKey) -> LedgerHead:
    return LedgerHead(
        org_id=org_id,
        origin=origin,
        size=0,
        frontier=[],
        root_hash=merkle.EMPTY_ROOT.hex(),
        checkpoint="",
        key_id=key.key_id.hex(),
        last_ts=None,
    )


def lock_head(conn: Connection, org_id: str) -> LedgerHead | None:
    """The organisation's head, its row locked until the transaction ends (PostgreSQL).

    On SQLite the whole database is already locked by `BEGIN IMMEDIATE`. The head comes
    back detached: the write path changes it in memory and `write` stores it.
    """
    raw = driver(conn)
    if raw is not None:
        # BEGIN and the locking read in one round trip (libpq pipeline mode)
        with driver_errors(), raw.pipeline():
            found = raw.execute(_PG_LOCK_HEAD, (org_id,)).fetchone()
        if found is None:
            return None
        values = dict(zip(_HEAD_ALL, found, strict=True))
        values["org_id"] = str(values["org_id"])
        return LedgerHead.model_validate(values)
    table = LedgerHead.__table__  # type: ignore[attr-defined]
    stmt = select(table).where(table.c.org_id == org_id).with_for_update()
    row = conn.execute(stmt).first()
    return None if row is None else LedgerHead.model_validate(row._mapping)


_HEAD_ALL = ("org_id", "origin", "size", "frontier", "root_hash", "checkpoint", "key_id",
             "last_ts")
_PG_LOCK_HEAD = (
    f"SELECT {', '.join(_HEAD_ALL)} FROM ledger_head WHERE org_id = %s FOR UPDATE"
)
_ENTRY_COLUMNS = ("org_id", "seq", "ts", "op", "entity_type", "entity_id", "canonical",
                  "leaf_hash", "signature", "key_id")
_PG_INSERT = {
    table: (columns, f"INSERT INTO {table} ({', '.join(columns)})"
                     f" VALUES ({', '.join(['%s'] * len(columns))})")
    for table, columns in (
        ("ledger_entry", _ENTRY_COLUMNS),
        ("ledger_node", ("org_id", "level", "idx", "hash")),
        ("ledger_checkpoint", ("org_id", "size", "ts", "note")),
    )
}


@dataclass
class Pending:
    """Rows a transaction has built and not yet sent: written by `write` in a few statements."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)


def append_entry(
    head: LedgerHead, key: SigningKey, entry: dict[str, Any], out: Pending
) -> EntryRow:
    """Sign `entry` (whose seq must be the head's size); its row and nodes go to `out`.

    The head's size, frontier and last `ts` move in memory; nothing is sent here.
    """
    assert entry["seq"] == head.size, "an entry's seq is the ledger's size before it"
    data = canonical(entry)
    leaf = merkle.leaf_hash(data)
    row: EntryRow = {
        "org_id": head.org_id,
        "seq": head.size,
        "ts": entry["ts"],
        "op": entry["op"],
        "entity_type": entry["entity"]["type"],
        "entity_id": entry["entity"]["id"],
        "canonical": data,
        "leaf_hash": leaf,
        "signature": key.sign_entry(leaf),
        "key_id": key.key_id.hex(),
    }
    frontier = [bytes.fromhex(h) for h in head.frontier]
    frontier, nodes = merkle.append_nodes(head.size, leaf, frontier)
    out.entries.append(row)
    org = head.org_id
    out.nodes.extend({"org_id": org, "level": lvl, "idx": i, "hash": h} for lvl, i, h in nodes)
    head.frontier = [h.hex() for h in frontier]
    head.size += 1
    head.last_ts = entry["ts"]
    return row


def seal(
    head: LedgerHead,
    key: SigningKey,
    ts: str,
    out: Pending,
    *,
    retiring: SigningKey | None = None,
) -> str:
    """Close a commit: the new root and the signed checkpoint (spec §5), kept in the head.

    `retiring` is the key a rotation in this commit retires: the checkpoint that first
    includes the rotation is signed by it first, then by `key` (spec §5, v1.1), so a
    signed-note verifier that knows either key bridges the rotation.
    """
    root = merkle.root_from_frontier(head.size, [bytes.fromhex(h) for h in head.frontier])
    signers = [key] if retiring is None else [retiring, key]
    note = sign_note(checkpoint_text(head.origin, head.size, root), signers)
    head.root_hash = root.hex()
    head.checkpoint = note
    head.key_id = key.key_id.hex()
    out.checkpoints.append({"org_id": head.org_id, "size": head.size, "ts": ts, "note": note})
    return note


def write(
    conn: Connection,
    pending: Pending,
    copy: Callable[[Connection, Any, list[dict[str, Any]]], bool] | None = None,
) -> None:
    """Send the pending ledger rows: one multi-row statement per table (or `copy`)."""
    tables: tuple[tuple[Any, list[dict[str, Any]]], ...] = (
        (LedgerEntry.__table__, pending.entries),  # type: ignore[attr-defined]
        (LedgerNode.__table__, pending.nodes),  # type: ignore[attr-defined]
        (LedgerCheckpoint.__table__, pending.checkpoints),  # type: ignore[attr-defined]
    )
    raw = driver(conn)
    for table, rows in tables:
        if rows:
            if copy is not None and copy(conn, table, rows):
                pass
            elif raw is not None:
                columns, sql = _PG_INSERT[table.name]
                with driver_errors():
                    raw.cursor().executemany(sql, [[r[c] for c in columns] for r in rows])
            else:
                conn.execute(insert(table), rows)
            rows.clear()


_HEAD_COLUMNS = ("size", "frontier", "root_hash", "checkpoint", "key_id", "last_ts")
_PG_STORE_HEAD = (
    f"UPDATE ledger_head SET {', '.join(f'{c} = %s' for c in _HEAD_COLUMNS)} WHERE org_id = %s"
)


def store_head(conn: Connection, head: LedgerHead, *, new: bool) -> None:
    """Write the head's new state (insert for a new ledger), in one statement."""
    raw = driver(conn)
    if raw is not None and not new:
        with driver_errors():
            raw.execute(_PG_STORE_HEAD, (
                head.size, Jsonb(head.frontier), head.root_hash, head.checkpoint, head.key_id,
                head.last_ts, head.org_id,
            ))
        return
    table = LedgerHead.__table__  # type: ignore[attr-defined]
    if new:
        conn.execute(insert(table).values(
            org_id=head.org_id, origin=head.origin,
            **{c: getattr(head, c) for c in _HEAD_COLUMNS},
        ))
    else:
        conn.execute(
            update(table)
            .where(table.c.org_id == head.org_id)
            .values(**{c: getattr(head, c) for c in _HEAD_COLUMNS})
        )


def receipt(row: EntryRow, checkpoint: str) -> Receipt:
    return Receipt(
        seq=row["seq"],
        leaf_hash=row["leaf_hash"].hex(),
        signature=base64.b64encode(row["signature"]).decode(),
        key_id=row["key_id"],
        checkpoint=checkpoint,
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
    )


# --- reading --------------------------------------------------------------------------


# the size and root of an organisation's head, for `Database.read_one_async` (PostgreSQL)
HEAD_MARK_SQL = "SELECT size, root_hash FROM ledger_head WHERE org_id = %s"


def head_mark_statement(org_id: str) -> Any:
    """The same, as a statement of either database (for `Database.read_one`)."""
    return select(col(LedgerHead.size), col(LedgerHead.root_hash)).where(
        col(LedgerHead.org_id) == org_id
    )


def read_head(conn: Connection, org_id: str) -> LedgerHead | None:
    row = conn.execute(select(LedgerHead).where(col(LedgerHead.org_id) == org_id)).first()
    return LedgerHead.model_validate(row._mapping) if row else None


def size_at(conn: Connection, org_id: str, ts: str) -> int:
    """How many entries the ledger held at instant `ts` (entries with ts <= the instant).

    An entry's ts is never earlier than the previous one's (LEDGER-SPEC), so the last entry
    by (ts, seq) is the last by seq: one probe of `ix_ledger_entry_ts` from the instant
    down, where ordering by seq alone walks back over every entry written after it.
    """
    stmt = (
        select(col(LedgerEntry.seq))
        .where(col(LedgerEntry.org_id) == org_id, col(LedgerEntry.ts) <= ts)
        .order_by(col(LedgerEntry.ts).desc(), col(LedgerEntry.seq).desc())
        .limit(1)
    )
    seq = conn.execute(stmt).scalar_one_or_none()
    return 0 if seq is None else seq + 1


def fetch_nodes(
    conn: Connection, org_id: str, wanted: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    pairs = list(set(wanted))
    if not pairs:
        return {}
    stmt = select(col(LedgerNode.level), col(LedgerNode.idx), col(LedgerNode.hash)).where(
        col(LedgerNode.org_id) == org_id,
        tuple_(col(LedgerNode.level), col(LedgerNode.idx)).in_(pairs),
    )
    return {(lvl, idx): bytes(h) for lvl, idx, h in conn.execute(stmt)}


# One statement for a proof: the head's size (as level -1, idx = size) and the nodes asked
# for, given as two arrays. The text is constant, so the driver prepares it once.
_PROOF_SQL = {
    "postgresql": text(
        "SELECT -1 AS level, size AS idx, NULL AS hash FROM ledger_head"
        " WHERE org_id = CAST(:org AS uuid)"
        " UNION ALL SELECT n.level, n.idx, n.hash FROM ledger_node n"
        " JOIN unnest(CAST(:levels AS int[]), CAST(:idxs AS bigint[])) AS w(level, idx)"
        " ON n.level = w.level AND n.idx = w.idx"
        " WHERE n.org_id = CAST(:org AS uuid)"
    ),
    "sqlite": text(
        "SELECT -1 AS level, size AS idx, NULL AS hash FROM ledger_head WHERE org_id = :org"
        " UNION ALL SELECT n.level, n.idx, n.hash FROM ledger_node n"
        " JOIN (SELECT json_extract(value, '$[0]') AS level, json_extract(value, '$[1]') AS idx"
        "       FROM json_each(:pairs)) AS w ON n.level = w.level AND n.idx = w.idx"
        " WHERE n.org_id = :org"
    ),
}


def head_size_and_nodes(
    conn: Connection, org_id: str, wanted: Iterable[tuple[int, int]]
) -> tuple[int | None, dict[tuple[int, int], bytes]]:
    """The ledger's size (None: no ledger) and the stored nodes `wanted`, in one statement."""
    pairs = sorted(set(wanted))
    dialect = conn.dialect.name
    if dialect == "postgresql":
        params: dict[str, object] = {
            "org": org_id, "levels": [lvl for lvl, _ in pairs], "idxs": [i for _, i in pairs]
        }
    else:
        params = {"org": org_id, "pairs": json.dumps(pairs)}
    size: int | None = None
    nodes: dict[tuple[int, int], bytes] = {}
    for level, idx, digest in conn.execute(_PROOF_SQL[dialect], params):
        if level == -1:
            size = int(idx)
        else:
            nodes[(int(level), int(idx))] = bytes(digest)
    return size, nodes


def root_at(conn: Connection, org_id: str, size: int) -> bytes:
    return merkle.root_at(size, lambda wanted: fetch_nodes(conn, org_id, wanted))


def inclusion_proof(conn: Connection, org_id: str, seq: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(seq, size, lambda wanted: fetch_nodes(conn, org_id, wanted))


def consistency_proof(conn: Connection, org_id: str, size1: int, size2: int) -> list[bytes]:
    return merkle.consistency_proof(size1, size2, lambda wanted: fetch_nodes(conn, org_id, wanted))


def checkpoint_for(conn: Connection, org_id: str, seq: int) -> str | None:
    """The checkpoint of the first tree that included entry `seq`."""
    stmt = (
        select(col(LedgerCheckpoint.note))
        .where(col(LedgerCheckpoint.org_id) == org_id, col(LedgerCheckpoint.size) > seq)
        .order_by(col(LedgerCheckpoint.size))
        .limit(1)
    )
    return conn.execute(stmt).scalar_one_or_none()


def checkpoint_at(conn: Connection, org_id: str, ts: str) -> tuple[int, str] | None:
    """The checkpoint in force at instant `ts`: the largest tree sealed at or before it.

    Its size is `size_at(ts)`: every commit is sealed at its entries' `ts`.
    """
    stmt = (
        select(col(LedgerCheckpoint.size), col(LedgerCheckpoint.note))
        .where(col(LedgerCheckpoint.org_id) == org_id, col(LedgerCheckpoint.ts) <= ts)
        .order_by(col(LedgerCheckpoint.size).desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    return None if row is None else (int(row[0]), str(row[1]))


def entries(
    conn: Connection,
    org_id: str,
    *,
    after: int = -1,
    limit: int | None = None,
    entity_id: str | None = None,
    below: int | None = None,
    batch: int = 1000,
) -> Iterator[LedgerEntry]:
    """Entries in seq order (seq < `below`, if given), fetched in batches."""
    remaining = limit
    while remaining is None or remaining > 0:
        take = batch if remaining is None else min(batch, remaining)
        stmt = select(LedgerEntry).where(
            col(LedgerEntry.org_id) == org_id, col(LedgerEntry.seq) > after
        )
        if entity_id is not None:
            stmt = stmt.where(col(LedgerEntry.entity_id) == entity_id)
        if below is not None:
            stmt = stmt.where(col(LedgerEntry.seq) < below)
        rows = conn.execute(stmt.order_by(col(LedgerEntry.seq)).limit(take)).all()
        if not rows:
            return
        for r in rows:
            yield LedgerEntry.model_validate(r._mapping)
        after = rows[-1].seq
        if remaining is not None:
            remaining -= len(rows)
        if len(rows) < take:
            return
