from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ropa.domain.breach import (
    check_transition,
    is_overdue,
    next_phases,
    notification_deadline,
    requires_notification,
    requires_subject_communication,
    rule_errors,
    subjects_not_informed,
)
from ropa.domain.vocabulary import NotificationPhase
from ropa.errors import ValidationError

State = dict[str, Any]

DISCOVERED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)


def notice(at: str, phase: str = "INITIAL", delay: str | None = None) -> State:
    return {
        "authority": "BlnBDI",
        "notifiedAt": at,
        "reference": None,
        "phase": phase,
        "delayReasons": delay,
    }


@pytest.fixture
def unnotified(breach: State) -> State:
    breach["authorityNotifications"] = []
    return breach


def test_the_deadline_is_72_hours_after_awareness() -> None:
    assert notification_deadline(DISCOVERED) == DEADLINE
    assert notification_deadline(DISCOVERED) - DISCOVERED == timedelta(hours=72)


def test_not_overdue_until_the_72_hours_have_passed(unnotified: State) -> None:
    assert not is_overdue(unnotified, DEADLINE)
    assert is_overdue(unnotified, DEADLINE + timedelta(microseconds=1))


def test_a_notification_in_time_stops_the_clock(breach: State) -> None:
    assert not is_overdue(breach, DEADLINE + timedelta(days=30))


def test_a_late_notification_without_reasons_is_still_overdue(unnotified: State) -> None:
    unnotified["authorityNotifications"] = [notice("2026-11-06T10:00:00.000000Z")]
    assert is_overdue(unnotified, DEADLINE + timedelta(days=2))


def test_reasons_for_the_delay_clear_a_late_notification(unnotified: State) -> None:
    unnotified["authorityNotifications"] = [
        notice("2026-11-06T10:00:00.000000Z", delay="Forensics needed to scope the breach")
    ]
    assert not is_overdue(unnotified, DEADLINE + timedelta(days=2))


def test_notifications_after_the_instant_asked_do_not_count(breach: State) -> None:
    breach["authorityNotifications"] = [notice("2026-11-06T10:00:00.000000Z", delay="late")]
    assert is_overdue(breach, datetime(2026, 11, 6, 9, 0, tzinfo=UTC))
    assert not is_overdue(breach, datetime(2026, 11, 6, 10, 0, tzinfo=UTC))


def test_a_breach_unlikely_to_result_in_a_risk_is_never_overdue(unnotified: State) -> None:
    unnotified["risk"] = "UNLIKELY"
    assert not requires_notification(unnotified)
    assert not is_overdue(unnotified, DEADLINE + timedelta(days=365))


def test_high_risk_breaches_are_communicated_to_the_subjects(breach: State) -> None:
    assert not requires_subject_communication(breach)
    breach["risk"] = "HIGH_RISK"
    assert requires_subject_communication(breach)
    assert subjects_not_informed(breach)
    breach["subjectCommunication"] = {
        "notifiedAt": "2026-11-04T09:00:00.000000Z",
        "channel": "email",
    }
    assert not subjects_not_informed(breach)


def test_an_art_34_3_exemption_lifts_the_communication(breach: State) -> None:
    breach.update(risk="HIGH_RISK", subjectCommunicationExemption="ART34_3_A")
    assert not requires_subject_communication(breach)
    assert not subjects_not_informed(breach)


def test_phases_start_initial_then_follow_up_or_final(unnotified: State) -> None:
    assert next_phases(unnotified) == {NotificationPhase.INITIAL}
    unnotified["authorityNotifications"] = [notice("2026-11-03T09:00:00.000000Z")]
    assert next_phases(unnotified) == {NotificationPhase.FOLLOW_UP, NotificationPhase.FINAL}
    unnotified["authorityNotifications"].append(notice("2026-11-09T09:00:00.000000Z", "FINAL"))
    assert next_phases(unnotified) == frozenset()


def test_a_clean_breach_breaks_no_rule(breach: State) -> None:
    breach["authorityNotifications"] += [
        notice("2026-11-04T09:00:00.000000Z", "FOLLOW_UP"),
        notice("2026-11-09T09:00:00.000000Z", "FINAL"),
    ]
    assert rule_errors(breach) == []


def test_no_follow_up_before_an_initial_notification(unnotified: State) -> None:
    unnotified["authorityNotifications"] = [notice("2026-11-03T09:00:00.000000Z", "FOLLOW_UP")]
    assert [e.field for e in rule_errors(unnotified)] == ["authorityNotifications.0.phase"]


def test_one_initial_and_nothing_after_the_final(breach: State) -> None:
    breach["authorityNotifications"] += [
        notice("2026-11-04T09:00:00.000000Z", "INITIAL"),
        notice("2026-11-05T09:00:00.000000Z", "FINAL"),
        notice("2026-11-06T09:00:00.000000Z", "FOLLOW_UP"),
    ]
    assert [e.field for e in rule_errors(breach)] == [
        "authorityNotifications.1.phase",
        "authorityNotifications.3.phase",
    ]


def test_notifications_are_listed_in_time_order(breach: State) -> None:
    breach["authorityNotifications"].append(notice("2026-11-03T08:00:00.000000Z", "FOLLOW_UP"))
    assert [e.field for e in rule_errors(breach)] == ["authorityNotifications.1.notifiedAt"]


def test_subjects_are_not_told_before_awareness(breach: State) -> None:
    breach["subjectCommunication"] = {"notifiedAt": "2026-11-01T09:00:00.000000Z", "channel": "sms"}
    assert [e.field for e in rule_errors(breach)] == ["subjectCommunication.notifiedAt"]


@pytest.mark.parametrize("status", ["CONTAINED", "CLOSED"])
def test_no_containment_no_contained_or_closed_status(breach: State, status: str) -> None:
    breach.update(status=status, containedAt=None)
    [error] = rule_errors(breach)
    assert error.field == "containedAt"
    assert status in error.message


def test_an_open_breach_need_not_be_contained(breach: State) -> None:
    breach.update(status="OPEN", containedAt=None)
    assert rule_errors(breach) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [("OPEN", "CONTAINED"), ("OPEN", "CLOSED"), ("CONTAINED", "CLOSED"), ("OPEN", "OPEN")],
)
def test_status_moves_forward(breach: State, old: str, new: str) -> None:
    before = deepcopy(breach) | {"status": old}
    check_transition(before, breach | {"status": new})


@pytest.mark.parametrize(
    ("old", "new"), [("CONTAINED", "OPEN"), ("CLOSED", "OPEN"), ("CLOSED", "CONTAINED")]
)
def test_status_never_moves_back(breach: State, old: str, new: str) -> None:
    before = deepcopy(breach) | {"status": old}
    with pytest.raises(ValidationError) as caught:
        check_transition(before, breach | {"status": new})
    assert [e.field for e in caught.value.errors] == ["status"]


def test_notifications_made_are_never_rewritten(breach: State) -> None:
    before = deepcopy(breach)
    breach["authorityNotifications"][0]["reference"] = "changed"
    with pytest.raises(ValidationError) as caught:
        check_transition(before, breach)
    assert [e.field for e in caught.value.errors] == ["authorityNotifications.0"]
    breach["authorityNotifications"] = []
    with pytest.raises(ValidationError):
        check_transition(before, breach)


def test_notifications_may_be_added(breach: State) -> None:
    before = deepcopy(breach)
    breach["authorityNotifications"].append(notice("2026-11-04T09:00:00.000000Z", "FINAL"))
    check_transition(before, breach)


def test_a_communication_to_subjects_is_not_withdrawn(breach: State) -> None:
    breach["subjectCommunication"] = {"notifiedAt": "2026-11-04T09:00:00.000000Z", "channel": "sms"}
    before = deepcopy(breach)
    breach["subjectCommunication"] = None
    with pytest.raises(ValidationError) as caught:
        check_transition(before, breach)
    assert [e.field for e in caught.value.errors] == ["subjectCommunication"]


def test_a_new_report_has_no_history_to_rewrite(breach: State) -> None:
    check_transition(None, breach)
