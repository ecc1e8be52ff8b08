"""Findings: what a DPO should fix in the records, computed and never stored.

`compute_findings(snapshot, now)` runs every rule of `RULES` over one organisation's record
states as they stand at `now` and returns the findings most severe first, then by code and
record, so that the same records always give the same list. Each rule has one stable
`code`, one `Severity` and the article it rests on; docs/findings.md lists them with what
clears each one. Retired activities and processors raise no finding.

    rules by record:  activities.py  (Art. 6, 9, 22, 24, 30, 35)
                      transfers.py   (Chapter V, Art. 44-49)
                      processors.py  (Art. 28)
                      breaches.py    (Art. 33, 34)
                      organization.py (Art. 37)
                      anchoring.py   (Art. 5(2), 30: trusted timestamps of the ledger)
"""

from __future__ import annotations

from datetime import datetime

from ropa.domain.findings import (
    activities,
    anchoring,
    breaches,
    organization,
    processors,
    transfers,
)
from ropa.domain.findings.model import (
    AnchoringStatus,
    Concern,
    Evidence,
    Finding,
    Rule,
    Severity,
    Snapshot,
    Span,
)

__all__ = [
    "RULES",
    "AnchoringStatus",
    "Concern",
    "Evidence",
    "Finding",
    "Rule",
    "Severity",
    "Snapshot",
    "Span",
    "compute_findings",
]

RULES: tuple[Rule, ...] = (
    *organization.RULES,
    *activities.RULES,
    *processors.RULES,
    *transfers.RULES,
    *breaches.RULES,
    *anchoring.RULES,
)


def compute_findings(
    snapshot: Snapshot, now: datetime, rules: tuple[Rule, ...] = RULES
) -> list[Finding]:
    """Every finding of `rules` about `snapshot` at the aware instant `now`, in a stable order."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    findings = [
        Finding(
            rule.code,
            rule.severity,
            concern.entity_type,
            concern.entity_id,
            concern.message,
            concern.evidence,
            concern.related,
            concern.seqs,
        )
        for rule in rules
        for concern in rule.check(snapshot, now)
    ]
    return sorted(
        findings,
        key=lambda f: (-f.severity.rank, f.code, f.entity_type, f.entity_id, f.message),
    )
