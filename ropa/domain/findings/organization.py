"""Findings about the organisation itself: Art. 37 (the data protection officer)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ropa.domain.findings.model import Concern, Rule, Severity, Snapshot


def _no_dpo(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    organization = snapshot.organization
    if organization["dpo"] is None:
        yield Concern(
            "Organization",
            organization["id"],
            f"{organization['name']} has no data protection officer on record. A DPO is "
            "mandatory for public bodies and for core activities of large-scale monitoring "
            "or large-scale special-category processing (Art. 37(1)); otherwise record who "
            "handles data protection.",
        )


RULES = (Rule("ORGANIZATION_NO_DPO", Severity.INFO, "Art. 37(1), 37(7)", _no_dpo),)
