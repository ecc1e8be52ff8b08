"""Personal data breaches: the 72-hour clock of Art. 33 and the communication of Art. 34.

- Art. 33(1): notify the supervisory authority without undue delay and, where feasible,
  within 72 hours of becoming aware (`discoveredAt`), unless the breach is unlikely to
  result in a risk; a later notification gives reasons for the delay
  (`new_notification_errors`).
- Art. 33(4): information may be provided in phases: one INITIAL notification, then
  FOLLOW_UPs, then at most one FINAL.
- Art. 33(5): the controller documents the breach, its effects and the remedial action;
  recorded notifications are that documentation and are never rewritten.
- Art. 34(1), (3): a high-risk breach is communicated to the data subjects unless one of
  the exemptions of Art. 34(3) applies.

A breach is OPEN until contained; it is CONTAINED, then CLOSED, and never closed without
recording when it was contained. Nothing is recorded as having happened after the moment it
is recorded (`future_errors`): a notification not made yet is not a notification.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ropa.domain.instants import parse_instant
from ropa.domain.vocabulary import BreachRisk, BreachStatus, NotificationPhase
from ropa.errors import FieldError, ValidationError

NOTIFICATION_WINDOW = timedelta(hours=72)
# how far a caller's clock may run ahead of ours before an instant counts as "not yet"
CLOCK_SKEW = timedelta(minutes=5)

_NEXT_STATUSES: Mapping[BreachStatus, frozenset[BreachStatus]] = {
    BreachStatus.OPEN: frozenset(BreachStatus),
    BreachStatus.CONTAINED: frozenset({BreachStatus.CONTAINED, BreachStatus.CLOSED}),
    BreachStatus.CLOSED: frozenset({BreachStatus.CLOSED}),
}


def notification_deadline(discovered_at: datetime) -> datetime:
    """When the supervisory authority must have been notified (Art. 33(1))."""
    return discovered_at + NOTIFICATION_WINDOW


def requires_notification(state: Mapping[str, Any]) -> bool:
    """Whether the supervisory authority must be notified: unless the risk is UNLIKELY."""
    return bool(state["risk"] != BreachRisk.UNLIKELY)


def is_overdue(state: Mapping[str, Any], now: datetime) -> bool:
    """Whether the 72 hours have passed, judged at `now`, with no notification made in time
    and no reasons given for the delay. Notifications dated after `now` are not yet made.
    """
    if not requires_notification(state):
        return False
    deadline = notification_deadline(parse_instant(state["discoveredAt"]))
    if now <= deadline:
        return False
    made = [n for n in state["authorityNotifications"] if parse_instant(n["notifiedAt"]) <= now]
    in_time = any(parse_instant(n["notifiedAt"]) <= deadline for n in made)
    delay_explained = any(n["delayReasons"] for n in made)
    return not (in_time or delay_explained)


def requires_subject_communication(state: Mapping[str, Any]) -> bool:
    """Whether Art. 34 requires telling the data subjects: a high risk and no exemption."""
    return bool(
        state["risk"] == BreachRisk.HIGH_RISK and state["subjectCommunicationExemption"] is None
    )


def subjects_not_informed(state: Mapping[str, Any]) -> bool:
    """Whether the data subjects are owed a communication that is not recorded."""
    return requires_subject_communication(state) and state["subjectCommunication"] is None


def next_phases(state: Mapping[str, Any]) -> frozenset[NotificationPhase]:
    """The phases the next authority notification may have (Art. 33(4))."""
    phases = [n["phase"] for n in state["authorityNotifications"]]
    if not phases:
        return frozenset({NotificationPhase.INITIAL})
    if NotificationPhase.FINAL in phases:
        return frozenset()
    return frozenset({NotificationPhase.FOLLOW_UP, NotificationPhase.FINAL})


def _instant(value: Any) -> datetime | None:
    # Malformed values are reported by the shape checks; the rules skip them.
    try:
        return parse_instant(value) if isinstance(value, str) else None
    except ValueError:
        return None


def rule_errors(state: Mapping[str, Any]) -> list[FieldError]:
    """Every Art. 33/34 rule one breach state breaks, each naming its field."""
    errors: list[FieldError] = []
    occurred = _instant(state.get("occurredAt"))
    discovered = _instant(state.get("discoveredAt"))
    contained = _instant(state.get("containedAt"))

    # 1. Timeline: nobody becomes aware of, or contains, a breach before it happens.
    if occurred and discovered and discovered < occurred:
        errors.append(FieldError("discoveredAt", "is before the breach occurred (occurredAt)"))
    if occurred and contained and contained < occurred:
        errors.append(FieldError("containedAt", "is before the breach occurred (occurredAt)"))

    # 2. Status: CONTAINED and CLOSED breaches say when they were contained.
    status = state.get("status")
    if status in (BreachStatus.CONTAINED, BreachStatus.CLOSED) and state.get("containedAt") is None:
        errors.append(FieldError("containedAt", f"must be recorded before the breach is {status}"))

    # 3. Authority notifications, in phases and in time order, after awareness.
    notifications = state.get("authorityNotifications")
    errors += _notification_errors(
        notifications if isinstance(notifications, list) else [], discovered
    )

    # 4. Data subjects are told after the controller is aware, not before.
    communication = state.get("subjectCommunication")
    if isinstance(communication, Mapping):
        told = _instant(communication.get("notifiedAt"))
        if told and discovered and told < discovered:
            errors.append(
                FieldError(
                    "subjectCommunication.notifiedAt",
                    "is before the breach was discovered (discoveredAt)",
                )
            )
    return errors


def _notification_errors(notifications: list[Any], discovered: datetime | None) -> list[FieldError]:
    errors: list[FieldError] = []
    seen_final = False
    previous: datetime | None = None
    for index, notification in enumerate(notifications):
        if not isinstance(notification, Mapping):
            continue
        path = f"authorityNotifications.{index}"
        phase = notification.get("phase")
        if index == 0 and phase not in (None, NotificationPhase.INITIAL):
            errors.append(FieldError(f"{path}.phase", "the first notification must be INITIAL"))
        elif index > 0 and phase == NotificationPhase.INITIAL:
            errors.append(FieldError(f"{path}.phase", "only the first notification is INITIAL"))
        if seen_final:
            errors.append(FieldError(f"{path}.phase", "comes after the FINAL notification"))
        seen_final = seen_final or phase == NotificationPhase.FINAL

        notified = _instant(notification.get("notifiedAt"))
        if notified and discovered and notified < discovered:
            errors.append(
                FieldError(
                    f"{path}.notifiedAt", "is before the breach was discovered (discoveredAt)"
                )
            )
        if notified and previous and notified < previous:
            errors.append(
                FieldError(f"{path}.notifiedAt", "is before the notification listed before it")
            )
        previous = notified or previous
    return errors


def future_errors(state: Mapping[str, Any], now: datetime) -> list[FieldError]:
    """Instants of one breach state that have not come yet at `now`, the time of recording."""
    latest = now + CLOCK_SKEW
    paths: list[tuple[str, Any]] = [
        (name, state.get(name)) for name in ("occurredAt", "discoveredAt", "containedAt")
    ]
    notifications = state.get("authorityNotifications")
    for index, notification in enumerate(notifications if isinstance(notifications, list) else []):
        if isinstance(notification, Mapping):
            paths.append((f"authorityNotifications.{index}.notifiedAt",
                          notification.get("notifiedAt")))
    communication = state.get("subjectCommunication")
    if isinstance(communication, Mapping):
        paths.append(("subjectCommunication.notifiedAt", communication.get("notifiedAt")))
    return [
        FieldError(path, "is in the future: record it once it has happened")
        for path, value in paths
        if (moment := _instant(value)) is not None and moment > latest
    ]


def new_notification_errors(
    state: Mapping[str, Any], notification: Mapping[str, Any]
) -> list[FieldError]:
    """What a notification about to be added to `state` lacks (Art. 33(1), second sentence).

    The first notification to arrive after the 72 hours, when none was made in time,
    states the reasons for the delay. Follow-ups of a notification made in time, and
    notifications of a breach unlikely to result in a risk, need none.
    """
    discovered = _instant(state.get("discoveredAt"))
    notified = _instant(notification.get("notifiedAt"))
    if discovered is None or notified is None or not requires_notification(state):
        return []
    deadline = notification_deadline(discovered)
    if notified <= deadline or notification.get("delayReasons"):
        return []
    made = [n for n in state["authorityNotifications"] if isinstance(n, Mapping)]
    if any(
        n.get("delayReasons") or ((t := _instant(n.get("notifiedAt"))) and t <= deadline)
        for n in made
    ):
        return []
    return [
        FieldError(
            "delayReasons",
            f"is required: the authority is notified after the 72-hour deadline "
            f"({deadline.strftime('%Y-%m-%dT%H:%M:%SZ')}) (Art. 33(1))",
        )
    ]


def check_transition(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
    """Refuse a change to a breach that rewrites its history.

    Status only moves forward (OPEN, CONTAINED, CLOSED); notifications already made to the
    authority are kept as they were (Art. 33(5)); a communication to the data subjects,
    once made, is neither changed nor withdrawn. `before` is None for a new report.
    """
    if before is None:
        return
    errors: list[FieldError] = []
    old, new = BreachStatus(before["status"]), BreachStatus(after["status"])
    if new not in _NEXT_STATUSES[old]:
        errors.append(FieldError("status", f"a {old} breach cannot become {new}"))

    made, now_listed = before["authorityNotifications"], after["authorityNotifications"]
    for index, notification in enumerate(made):
        if index >= len(now_listed) or now_listed[index] != notification:
            errors.append(
                FieldError(
                    f"authorityNotifications.{index}",
                    "a notification already made cannot be changed or removed",
                )
            )
    communication = before["subjectCommunication"]
    if communication is not None and after["subjectCommunication"] != communication:
        errors.append(
            FieldError(
                "subjectCommunication",
                "a communication already made cannot be changed or removed",
            )
        )
    if errors:
        raise ValidationError(errors)
