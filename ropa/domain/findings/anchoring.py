"""Findings about the ledger's anchoring: Art. 5(2) and 30 (being able to show the records).

The ledger's own signatures prove no time (LEDGER-SPEC §9). When Time-Stamping Authorities
are configured and the organisation's newest checkpoint has waited longer than the
deployment's threshold for a timestamp, the records can no longer be shown to have
existed when they say: the anchorer or a TSA is failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ropa.domain.findings.model import Concern, Rule, Severity, Snapshot


def _anchoring_failing(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    status = snapshot.anchoring
    if status is None or status.waiting_since is None:
        return
    waited = (now - status.waiting_since).total_seconds()
    if waited <= status.alert_after_seconds:
        return
    organization = snapshot.organization
    yield Concern(
        "Organization",
        organization["id"],
        f"The ledger of {organization['name']} has had no trusted timestamp from "
        f"{status.tsa} for {_hours(waited)} (threshold {_hours(status.alert_after_seconds)}): "
        "its latest changes cannot be shown to date from when they say. Check that the TSA "
        "is reachable and that the anchorer runs (`ropa anchor run --once`).",
    )


def _hours(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


RULES = (Rule("ANCHORING_FAILING", Severity.MEDIUM, "Art. 5(2), 30", _anchoring_failing),)
