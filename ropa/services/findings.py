"""An organisation's findings in a view: the rules of `ropa.domain.findings` over its records.

Findings are computed, never stored (docs/findings.md). One snapshot of every record in the
view is judged at the view's instant (`asOf`) or, for the current view, now; so the findings
of a past day are those its records and the adequacy decisions of that day deserve. The
privacy notice in force at that instant is compared with the records too
(`ropa.notices.compare`, Art. 13/14 against Art. 30), with the ledger entries that changed
the records materially after it took effect.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from ropa.domain.findings import RULES, AnchoringStatus, Finding, Snapshot, compute_findings
from ropa.domain.instants import parse_instant
from ropa.notices import compare
from ropa.services import anchors, reads
from ropa.services.access import SYSTEM_PRINCIPAL, Principal, may_read
from ropa.services.reads import View
from ropa.services.runtime import Runtime
from ropa.store.tables import LedgerEntry

ALL_RULES = (*RULES, *compare.RULES)
MAX_CHANGES_CITED = 500  # a notice outdated by more changes cites the first ones
MAX_ENTRIES_READ = 10_000  # candidate entries read per view: findings stay bounded in time

# the ledger ops that may change what a notice must disclose (Art. 13(1)(c)-(f))
_MATERIAL_OPS = (
    "engageProcessor",
    "disengageProcessor",
    "recordTransfer",
    "updateTransfer",
    "removeTransfer",
    "createProcessingActivity",
    "updateProcessingActivity",
)


def judged_at(view: View) -> datetime:
    """The instant a view's records are judged at: its `asOf`, or now."""
    return parse_instant(view.as_of) if view.as_of else datetime.now(UTC)


def snapshot(rt: Runtime, view: View) -> Snapshot:
    """Every record state of the view's organisation (the view was authorised when opened)."""

    def records(entity_type: str) -> list[dict[str, object]]:
        return reads.all_records(rt, view, entity_type)

    organization = reads.by_ids(
        rt, SYSTEM_PRINCIPAL, view, "Organization", [view.org_id]
    )[view.org_id]
    found = Snapshot(
        organization=organization,
        activities=records("ProcessingActivity"),
        processors=records("Processor"),
        engagements=records("ProcessorEngagement"),
        transfers=records("Transfer"),
        breaches=records("BreachIncident"),
        policies=records("PrivacyPolicy"),
        anchoring=_anchoring(rt, view),
    )
    found.policy_published = _published(rt, view, [p["id"] for p in found.policies])
    notice = compare.notice_in_force(found, judged_at(view))
    if notice is not None and notice.get("analysis") is not None:
        found.changes_since_notice = _changes_since(
            rt, view, found.policy_published.get(notice["id"], -1), notice["effectiveDate"]
        )
    return found


def _anchoring(rt: Runtime, view: View) -> AnchoringStatus | None:
    """The ledger's timestamps now (a past view has no anchoring finding: the records of
    that day did not fail to be stamped later)."""
    if not view.is_current:
        return None
    lag = anchors.org_lag(rt, view.org_id)
    if lag is None:
        return None
    since = parse_instant(lag.since) if lag.since else None
    return AnchoringStatus(since, lag.tsa, rt.settings.anchor_alert_after)


def findings(rt: Runtime, principal: Principal, view: View) -> list[Finding]:
    """Every finding about the organisation in `view` that `principal` may read, most severe
    first (a finding about a breach tells of the breach: only for those who may read it)."""
    found = compute_findings(snapshot(rt, view), judged_at(view), ALL_RULES)
    return [f for f in found if may_read(principal, f.entity_type)]


def _published(rt: Runtime, view: View, policy_ids: list[str]) -> dict[str, int]:
    """The seq of the entry that published each notice version."""
    if not policy_ids:
        return {}
    stmt = (
        select(col(LedgerEntry.entity_id), func.min(col(LedgerEntry.seq)))
        .where(
            col(LedgerEntry.org_id) == view.org_id,
            col(LedgerEntry.entity_id).in_(policy_ids),
            col(LedgerEntry.seq) < view.size,
        )
        .group_by(col(LedgerEntry.entity_id))
    )
    with rt.db.read() as conn:
        return {str(entity_id): int(seq) for entity_id, seq in conn.execute(stmt).all()}


def _changes_since(rt: Runtime, view: View, published: int, effective: str) -> list[dict[str, Any]]:
    """Material changes after the notice was published and took effect, oldest first."""
    stmt = (
        select(
            col(LedgerEntry.seq),
            col(LedgerEntry.ts),
            col(LedgerEntry.op),
            col(LedgerEntry.entity_type),
            col(LedgerEntry.entity_id),
            col(LedgerEntry.canonical),
        )
        .where(
            col(LedgerEntry.org_id) == view.org_id,
            col(LedgerEntry.seq) > published,
            col(LedgerEntry.seq) < view.size,
            col(LedgerEntry.ts) > effective,
            col(LedgerEntry.op).in_(_MATERIAL_OPS),
        )
        .order_by(col(LedgerEntry.seq))
        .limit(MAX_ENTRIES_READ)
    )
    out: list[dict[str, Any]] = []
    with rt.db.read() as conn:
        for seq, ts, op, entity_type, entity_id, canonical in conn.execute(stmt):
            entry = json.loads(canonical)
            if is_material(op, entry["before"], entry["after"]):
                out.append({
                    "seq": seq, "ts": ts, "op": op, "entityType": entity_type,
                    "entityId": str(entity_id),
                })  # fmt: skip
                if len(out) >= MAX_CHANGES_CITED:
                    break
    return out


def is_material(op: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """Whether a change alters what the notice must disclose.

    Engagements and transfers made or removed are; a transfer's new destination or
    mechanism is; an ACTIVE activity's new data categories are. Drafts are not, nor is
    accepting a record drafted from the notice itself.
    """
    if op in {"engageProcessor", "disengageProcessor", "recordTransfer", "removeTransfer"}:
        return True
    if op == "updateTransfer":
        return (
            before is not None
            and after is not None
            and any(before.get(k) != after.get(k) for k in ("toCountry", "mechanism"))
        )
    if after is None or after.get("status") != "ACTIVE":
        return False
    new = set(after.get("dataCategories") or [])
    if before is None:
        return bool(new)
    if before.get("status") != "ACTIVE":  # accepted: a draft from the notice is no news
        return bool(new) and not after.get("evidence")
    return bool(new - set(before.get("dataCategories") or []))
