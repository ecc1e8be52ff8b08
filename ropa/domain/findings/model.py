"""What a finding is, what it is computed from, and what a rule looks like.

A finding is never stored: it is recomputed from a snapshot of the organisation's record
states (docs/data-model.md) at the instant asked, so that `asOf` queries answer with the
findings of that day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from ropa.domain.vocabulary import ActivityStatus, ProcessorStatus

State = dict[str, Any]


class Severity(StrEnum):
    """How urgently a DPO should act: INFO is advice, HIGH a likely infringement."""

    INFO = "INFO"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Span:
    """A passage of a privacy notice's text: `[start, end)` in code points, and its words."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Evidence:
    """Where a privacy notice version says (or fails to say) what a finding is about."""

    policy_id: str
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One problem with one record. `code` is stable: dashboards and docs key on it.

    `evidence` cites the privacy notice, `related` the other records concerned (type, id)
    and `seqs` the ledger entries that show a change, where the rule has them.
    """

    code: str
    severity: Severity
    entity_type: str
    entity_id: str
    message: str
    evidence: Evidence | None = None
    related: tuple[tuple[str, str], ...] = ()
    seqs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Concern:
    """What a rule reports about one record; the rule adds its code and severity."""

    entity_type: str
    entity_id: str
    message: str
    evidence: Evidence | None = None
    related: tuple[tuple[str, str], ...] = ()
    seqs: tuple[int, ...] = ()


@dataclass(frozen=True)
class AnchoringStatus:
    """How the ledger's trusted timestamps stand (LEDGER-SPEC §9): since when its oldest
    unstamped checkpoint waits (None: every checkpoint stamped), for which TSA, and how long
    the deployment lets it wait."""

    waiting_since: datetime | None
    tsa: str | None
    alert_after_seconds: float


@dataclass
class Snapshot:
    """Every record state of one organisation, as they stand at one instant."""

    organization: State
    activities: list[State] = field(default_factory=list)
    processors: list[State] = field(default_factory=list)
    engagements: list[State] = field(default_factory=list)
    transfers: list[State] = field(default_factory=list)
    breaches: list[State] = field(default_factory=list)
    policies: list[State] = field(default_factory=list)
    anchoring: AnchoringStatus | None = None  # None: no TSA configured, or a past view
    # ledger entries that changed the records materially after the notice in force was
    # published: {"seq", "ts", "op", "entityType", "entityId"} (filled by the service)
    changes_since_notice: list[State] = field(default_factory=list)
    # the ledger seq that published each privacy-notice version (orders same-day versions)
    policy_published: dict[str, int] = field(default_factory=dict)

    def activity(self, activity_id: str) -> State | None:
        return self._activities_by_id.get(activity_id)

    def processor(self, processor_id: str | None) -> State | None:
        if processor_id is None:
            return None
        return self._processors_by_id.get(processor_id)

    # Indexes, built on first use: rules look records up by id for every engagement and
    # transfer, and a scan per lookup made findings quadratic in the organisation's size.
    @cached_property
    def _activities_by_id(self) -> dict[str, State]:
        return _first_by_id(self.activities)

    @cached_property
    def _processors_by_id(self) -> dict[str, State]:
        return _first_by_id(self.processors)

    def live_activities(self) -> Iterator[State]:
        """DRAFT and ACTIVE activities: retired ones are history and raise no finding."""
        return (a for a in self.activities if a["status"] != ActivityStatus.RETIRED)

    def is_live_activity(self, activity_id: str) -> bool:
        activity = self.activity(activity_id)
        return activity is not None and activity["status"] != ActivityStatus.RETIRED

    def live_processors(self) -> Iterator[State]:
        return (p for p in self.processors if p["status"] != ProcessorStatus.RETIRED)

    def live_engagements(self) -> Iterator[State]:
        """Engagements of a live activity with a processor that is not retired."""
        for engagement in self.engagements:
            processor = self.processor(engagement["processorId"])
            if (
                self.is_live_activity(engagement["activityId"])
                and processor is not None
                and processor["status"] != ProcessorStatus.RETIRED
            ):
                yield engagement

    def activities_by_processor(self) -> dict[str, list[State]]:
        """For each processor id, the live activities engaging it, once each, in order."""
        found: dict[str, list[State]] = {}
        seen: set[tuple[str, str]] = set()
        for engagement in self.live_engagements():
            activity = self.activity(engagement["activityId"])
            engaging = found.setdefault(engagement["processorId"], [])
            if activity is not None and (engagement["processorId"], activity["id"]) not in seen:
                seen.add((engagement["processorId"], activity["id"]))
                engaging.append(activity)
        return found

    def live_transfers(self) -> Iterator[State]:
        return (t for t in self.transfers if self.is_live_activity(t["activityId"]))


def _first_by_id(states: list[State]) -> dict[str, State]:
    index: dict[str, State] = {}
    for state in states:
        index.setdefault(state["id"], state)
    return index


@dataclass(frozen=True)
class Rule:
    """One check: its stable code, severity, the article it rests on, and the check."""

    code: str
    severity: Severity
    article: str
    check: Callable[[Snapshot, datetime], Iterable[Concern]]


def about_activity(activity: State, message: str) -> Concern:
    return Concern("ProcessingActivity", activity["id"], message)
