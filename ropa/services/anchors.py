"""Reading RFC 3161 anchors (LEDGER-SPEC §9): an organisation's tokens, and how far the
anchorer lags, for the API, `/metrics`, `/readyz` and the ANCHORING_FAILING finding.

Anchors are read with the ledger: whoever may read an organisation's ledger
(`Action.READ_LEDGER`) may read its anchors. Under `asOf` only the anchors whose
`genTime` is no later than that instant exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ropa.domain.instants import parse_instant
from ropa.errors import FieldError, ValidationError
from ropa.services.access import Action, Principal, authorize
from ropa.services.runtime import Runtime
from ropa.store import anchor_store
from ropa.store.anchor_store import Anchor

__all__ = ["MAX_ANCHORS", "Anchor", "AnchorLag", "lag", "list_anchors", "org_lag"]

MAX_ANCHORS = 500  # one page of `Ledger.anchors`


def list_anchors(
    rt: Runtime,
    principal: Principal,
    org_id: str,
    *,
    size: int | None = None,
    as_of: str | None = None,
    first: int = MAX_ANCHORS,
    after_size: int | None = None,
) -> list[Anchor]:
    """The organisation's anchors by size then TSA: of one size, or `first` past a size;
    under `as_of`, only those whose genTime is no later than that instant."""
    authorize(principal, Action.READ_LEDGER, org_id)
    if first < 0 or first > MAX_ANCHORS:
        raise ValidationError(FieldError("first", f"between 0 and {MAX_ANCHORS}"))
    with rt.db.read() as conn:
        return anchor_store.anchors(
            conn, org_id, size=size, after_size=after_size, gen_time_at_most=as_of, limit=first
        )


@dataclass(frozen=True)
class AnchorLag:
    """How long the oldest unstamped checkpoint has waited (0 when every head is stamped
    by every TSA), and how many organisations have one waiting."""

    seconds: float
    organizations_behind: int
    tsa: str | None  # the TSA furthest behind
    since: str | None  # the ts of the oldest checkpoint waiting


def _lag_of(waiting: list[anchor_store.Waiting], now: datetime) -> AnchorLag:
    if not waiting:
        return AnchorLag(0.0, 0, None, None)
    oldest = min(waiting, key=lambda w: w.waiting_since)
    seconds = max(0.0, (now - parse_instant(oldest.waiting_since)).total_seconds())
    return AnchorLag(seconds, len({w.org_id for w in waiting}), oldest.tsa, oldest.waiting_since)


def lag(rt: Runtime, now: datetime | None = None) -> AnchorLag | None:
    """The anchorer's lag across every organisation; None when no TSA is configured."""
    names = [t.name for t in rt.settings.tsas]
    if not names:
        return None
    with rt.db.read() as conn:
        waiting = anchor_store.waiting(conn, names)
    return _lag_of(waiting, now or datetime.now(UTC))


def org_lag(rt: Runtime, org_id: str, now: datetime | None = None) -> AnchorLag | None:
    """One organisation's lag (the view was authorised when opened); None without TSAs."""
    names = [t.name for t in rt.settings.tsas]
    if not names:
        return None
    with rt.db.read() as conn:
        waiting = anchor_store.waiting(conn, names, org_id)
    return _lag_of(waiting, now or datetime.now(UTC))
