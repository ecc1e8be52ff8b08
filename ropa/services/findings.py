"""An organisation's findings in a view: the rules of `ropa.domain.findings` over its records.

Findings are computed, never stored (docs/findings.md). One snapshot of every record in the
view is judged at the view's instant (`asOf`) or, for the current view, now; so the findings
of a past day are those its records and the adequacy decisions of that day deserve.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ropa.domain.findings import AnchoringStatus, Finding, Snapshot, compute_findings
from ropa.domain.instants import parse_instant
from ropa.services import anchors, reads
from ropa.services.access import SYSTEM_PRINCIPAL, Principal, may_read
from ropa.services.reads import View
from ropa.services.runtime import Runtime


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
    return Snapshot(
        organization=organization,
        activities=records("ProcessingActivity"),
        processors=records("Processor"),
        engagements=records("ProcessorEngagement"),
        transfers=records("Transfer"),
        breaches=records("BreachIncident"),
        policies=records("PrivacyPolicy"),
        anchoring=_anchoring(rt, view),
    )


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
    found = compute_findings(snapshot(rt, view), judged_at(view))
    return [f for f in found if may_read(principal, f.entity_type)]
