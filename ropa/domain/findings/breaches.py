"""Findings about personal data breaches: Art. 33 (the 72 hours) and Art. 34 (telling people).

Breaches are judged whatever their status: a closed breach that was never notified stays a
documented failure (Art. 33(5)).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ropa.domain.breach import is_overdue, notification_deadline, requires_subject_communication
from ropa.domain.findings.model import Concern, Rule, Severity, Snapshot
from ropa.domain.instants import parse_instant


def _notification_overdue(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for breach in snapshot.breaches:
        if is_overdue(breach, now):
            deadline = notification_deadline(parse_instant(breach["discoveredAt"]))
            yield Concern(
                "BreachIncident",
                breach["id"],
                f'Breach "{breach["title"]}" was not notified to the supervisory authority by '
                f"{deadline:%Y-%m-%d %H:%M} UTC, 72 hours after it was "
                "discovered, and no reasons for the delay are recorded.",
            )


def _subjects_not_informed(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for breach in snapshot.breaches:
        communication = breach["subjectCommunication"]
        informed = communication is not None and parse_instant(communication["notifiedAt"]) <= now
        if requires_subject_communication(breach) and not informed:
            yield Concern(
                "BreachIncident",
                breach["id"],
                f'Breach "{breach["title"]}" is likely to result in a high risk, but the data '
                "subjects have not been told and no Art. 34(3) exemption is recorded.",
            )


RULES = (
    Rule("BREACH_NOTIFICATION_OVERDUE", Severity.HIGH, "Art. 33(1)", _notification_overdue),
    Rule("BREACH_SUBJECTS_NOT_INFORMED", Severity.HIGH, "Art. 34(1)", _subjects_not_informed),
)
