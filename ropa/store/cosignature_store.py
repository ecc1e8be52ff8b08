"""Cosignatures a log received from its witnesses (LEDGER-SPEC §9), stored append-only.

`checkpoint_cosignature` is outside the ledger: a cosignature signs a checkpoint, it is
not a change. Only the witnessing job writes it (`add`), in a short transaction of its
own; the migration's triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlmodel import col

from ropa.store.database import Database
from ropa.store.tables import CheckpointCosignature, LedgerCheckpoint, LedgerHead


def add(
    db: Database, org_id: str, size: int, rows: Iterable[tuple[str, str, str]], now: str
) -> int:
    """Store (witness, key id hex, line) cosignatures of checkpoint `size`; returns how many
    were new (one per witness and key per size: a repeat is skipped, never replaced)."""
    added = 0
    with db.write_session() as session, session.begin():
        for witness, key_id, line in rows:
            exists = session.execute(
                select(col(CheckpointCosignature.size)).where(
                    col(CheckpointCosignature.org_id) == org_id,
                    col(CheckpointCosignature.size) == size,
                    col(CheckpointCosignature.witness) == witness,
                    col(CheckpointCosignature.key_id) == key_id,
                )
            ).first()
            if exists is None:
                session.add(
                    CheckpointCosignature(
                        org_id=org_id,
                        size=size,
                        witness=witness,
                        key_id=key_id,
                        line=line,
                        created_at=now,
                    )
                )
                added += 1
    return added


def lines_at(conn: Connection, org_id: str, size: int) -> list[str]:
    """The cosignature lines of checkpoint `size`, in the order they arrived."""
    stmt = (
        select(col(CheckpointCosignature.line))
        .where(col(CheckpointCosignature.org_id) == org_id, col(CheckpointCosignature.size) == size)
        .order_by(col(CheckpointCosignature.created_at), col(CheckpointCosignature.witness))
    )
    return list(conn.execute(stmt).scalars())


def cosigned_sizes(conn: Connection, org_id: str, up_to: int) -> list[int]:
    """The sizes, at most `up_to`, of the checkpoints that carry a cosignature."""
    stmt = (
        select(col(CheckpointCosignature.size))
        .where(
            col(CheckpointCosignature.org_id) == org_id, col(CheckpointCosignature.size) <= up_to
        )
        .distinct()
        .order_by(col(CheckpointCosignature.size))
    )
    return [int(s) for s in conn.execute(stmt).scalars()]


def note_at(conn: Connection, org_id: str, size: int) -> str | None:
    """The stored checkpoint of tree size `size` with its cosignatures appended."""
    note = conn.execute(
        select(col(LedgerCheckpoint.note)).where(
            col(LedgerCheckpoint.org_id) == org_id, col(LedgerCheckpoint.size) == size
        )
    ).scalar_one_or_none()
    if note is None:
        return None
    return str(note) + "".join(lines_at(conn, org_id, size))


Pending = tuple[str, int, str, dict[str, int]]


def pending(conn: Connection, witnesses: Sequence[str]) -> list[Pending]:
    """(org id, head size, head checkpoint, {witness: newest size it cosigned}) of every
    organisation whose head is past what some witness cosigned."""
    heads = conn.execute(
        select(col(LedgerHead.org_id), col(LedgerHead.size), col(LedgerHead.checkpoint)).where(
            col(LedgerHead.size) > 0
        )
    ).all()
    done: dict[str, dict[str, int]] = {}
    for org_id, witness, size in conn.execute(
        select(
            col(CheckpointCosignature.org_id),
            col(CheckpointCosignature.witness),
            func.max(col(CheckpointCosignature.size)),
        ).group_by(col(CheckpointCosignature.org_id), col(CheckpointCosignature.witness))
    ):
        done.setdefault(str(org_id), {})[str(witness)] = int(size)
    out = []
    for org_id, size, checkpoint in heads:
        cosigned = done.get(str(org_id), {})
        if checkpoint and any(cosigned.get(w, 0) < size for w in witnesses):
            out.append((str(org_id), int(size), str(checkpoint), cosigned))
    return out
