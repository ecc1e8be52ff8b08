"""Figures for operating the service: each organisation's ledger size and last checkpoint.

Read from `ledger_head` (one row per organisation), for `/metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from ropa.services.access import Action, Principal, authorize
from ropa.services.runtime import Runtime
from ropa.store.tables import LedgerHead


@dataclass(frozen=True)
class LedgerFigures:
    org_id: str
    size: int
    last_checkpoint_at: float | None  # Unix time of the newest checkpoint


def ledger_figures(rt: Runtime, principal: Principal) -> list[LedgerFigures]:
    """Every organisation's ledger size and newest checkpoint: READ_METRICS."""
    authorize(principal, Action.READ_METRICS)
    with rt.db.read() as conn:
        rows = conn.execute(
            select(col(LedgerHead.org_id), col(LedgerHead.size), col(LedgerHead.last_ts))
        ).all()
    return [LedgerFigures(org, size, _unix(ts)) for org, size, ts in rows]


def _unix(ts: str | None) -> float | None:
    if not ts:
        return None
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
