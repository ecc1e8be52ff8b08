"""A witness's durable state (C2SP tlog-witness): the latest checkpoint it cosigned per log.

One `witness_log` row per log origin. `advance` moves it only by compare-and-swap on the
(size, root) the caller checked, inside a write transaction that also locks the row, so
of two concurrent requests from the same state only one can win; the other is answered
409 with the new size. The check and the write are one atomic step, as the spec demands.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from ropa.store.database import Database
from ropa.store.tables import WitnessLog


@dataclass(frozen=True)
class LogState:
    size: int
    root: bytes


def read(session: Session, origin: str, *, lock: bool = False) -> LogState | None:
    stmt = select(col(WitnessLog.size), col(WitnessLog.root_hash)).where(
        col(WitnessLog.origin) == origin
    )
    if lock:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    return LogState(int(row[0]), bytes.fromhex(row[1])) if row else None


def advance(
    session: Session, origin: str, checked: LogState | None, new: LogState, now: str
) -> bool:
    """Move `origin` from `checked` to `new`; False if someone else moved it first."""
    if checked is None:
        try:
            with session.begin_nested():
                session.execute(
                    insert(WitnessLog).values(
                        origin=origin, size=new.size, root_hash=new.root.hex(), updated_at=now
                    )
                )
        except IntegrityError:
            return False
        return True
    result = session.execute(
        update(WitnessLog)
        .where(
            col(WitnessLog.origin) == origin,
            col(WitnessLog.size) == checked.size,
            col(WitnessLog.root_hash) == checked.root.hex(),
        )
        .values(size=new.size, root_hash=new.root.hex(), updated_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def current(db: Database, origin: str) -> LogState | None:
    """The state as committed (for status pages and tests)."""
    with db.write_session() as session, session.begin():
        return read(session, origin)
