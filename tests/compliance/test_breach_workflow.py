"""A breach from report to closure through GraphQL (Art. 33, 34): the 72-hour clock from
awareness, phased notifications, the communication to data subjects or its exemption, and
status changes that refuse what cannot have happened, each naming the offending field.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import GraphQLClient, error_codes
from tests.conftest import Org

FIELDS = """id status risk discoveredAt notificationDeadline overdue containedAt
  authorityNotifications { authority notifiedAt phase delayReasons }
  subjectCommunication { notifiedAt channel } subjectCommunicationExemption
  findings { code }"""

REPORT = (f"mutation($i: ReportBreachInput!) {{ reportBreach(input: $i) "
          f"{{ breach {{ {FIELDS} }} }} }}")
UPDATE = (f"mutation($i: UpdateBreachInput!) {{ updateBreach(input: $i) "
          f"{{ breach {{ {FIELDS} }} }} }}")
NOTIFY = (f"mutation($i: NotifyAuthorityInput!) {{ notifyAuthority(input: $i) "
          f"{{ breach {{ {FIELDS} }} }} }}")
TELL = (f"mutation($i: NotifyDataSubjectsInput!) {{ notifyDataSubjects(input: $i) "
        f"{{ breach {{ {FIELDS} }} }} }}")
CLOSE = f"mutation($i: CloseBreachInput!) {{ closeBreach(input: $i) {{ breach {{ {FIELDS} }} }} }}"
AS_OF = f"""query($slug: String!, $asOf: DateTime) {{ organization(slug: $slug, asOf: $asOf) {{
  breaches {{ edges {{ node {{ {FIELDS} }} }} }} }} }}"""


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ago(**delta: float) -> str:
    return _at(datetime.now(UTC) - timedelta(**delta))


def _codes(breach: dict[str, Any]) -> set[str]:
    return {f["code"] for f in breach["findings"]}


class Breaches:
    def __init__(self, gql: GraphQLClient, org: Org) -> None:
        self.gql, self.org, self.token = gql, org, org.tokens["DPO"]

    def __call__(self, query: str, data: dict[str, Any]) -> dict[str, Any]:
        body = self.gql(query, {"i": data}, self.token)["data"]
        return next(iter(body.values()))["breach"]  # type: ignore[no-any-return]

    def refused(self, query: str, data: dict[str, Any]) -> list[str]:
        body = self.gql(query, {"i": data}, self.token, expect_errors=True)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        return [f["field"] for f in body["errors"][0]["extensions"]["fields"]]

    def as_of(self, instant: str | None) -> dict[str, Any]:
        body = self.gql(AS_OF, {"slug": self.org.slug, "asOf": instant}, self.token)
        (edge,) = body["data"]["organization"]["breaches"]["edges"]
        return edge["node"]  # type: ignore[no-any-return]


def test_the_72_hour_clock_runs_from_awareness_and_is_judged_at_the_view(
    gql: GraphQLClient, org: Org
) -> None:
    b = Breaches(gql, org)
    discovered = datetime.now(UTC) - timedelta(hours=100)
    breach = b(REPORT, {"title": "Misdirected e-mail", "discoveredAt": _at(discovered),
                        "risk": "RISK"})
    deadline = datetime.fromisoformat(breach["notificationDeadline"])
    assert deadline == discovered + timedelta(hours=72)
    assert breach["overdue"] is True
    assert _codes(breach) == {"BREACH_NOTIFICATION_OVERDUE"}
    time.sleep(0.002)
    before_notice = _at(datetime.now(UTC))
    time.sleep(0.002)

    # documented afterwards: a notification made within the 72 hours stops the clock
    notified = b(NOTIFY, {"id": breach["id"], "authority": "BfDI",
                          "notifiedAt": _at(discovered + timedelta(hours=48))})
    assert notified["overdue"] is False
    assert _codes(notified) == set()
    assert b.as_of(None)["overdue"] is False
    then = b.as_of(before_notice)
    assert then["overdue"] is True
    assert _codes(then) == {"BREACH_NOTIFICATION_OVERDUE"}


def test_the_clock_has_not_run_out_within_72_hours(gql: GraphQLClient, org: Org) -> None:
    b = Breaches(gql, org)
    body = gql(REPORT, {"i": {"title": "x", "discoveredAt": _ago(hours=1)}},
               org.tokens["EDITOR"], expect_errors=True)
    assert error_codes(body) == ["FORBIDDEN"]  # breaches are the DPO's
    breach = b(REPORT, {"title": "Stolen badge", "discoveredAt": _ago(hours=70),
                        "risk": "RISK"})
    assert breach["overdue"] is False
    assert _codes(breach) == set()
    # an unlikely risk needs no notification at all (Art. 33(1))
    unlikely = b(REPORT, {"title": "Encrypted disk lost", "discoveredAt": _ago(hours=200),
                          "risk": "UNLIKELY"})
    assert unlikely["overdue"] is False
    assert _codes(unlikely) == set()


def test_a_late_notification_states_its_reasons_for_the_delay(
    gql: GraphQLClient, org: Org
) -> None:
    b = Breaches(gql, org)
    breach = b(REPORT, {"title": "Database dump", "discoveredAt": _ago(hours=90)})
    late = {"id": breach["id"], "authority": "CNIL", "notifiedAt": _ago(hours=1)}
    assert b.refused(NOTIFY, late) == ["delayReasons"]
    notified = b(NOTIFY, {**late, "delayReasons": "forensics took four days"})
    assert notified["overdue"] is False
    assert _codes(notified) == set()
    # a follow-up after the 72 hours is part of a notification already made
    b(NOTIFY, {"id": breach["id"], "authority": "CNIL", "notifiedAt": _ago(minutes=1),
               "phase": "FOLLOW_UP"})


def test_notifications_come_in_phases_after_awareness(gql: GraphQLClient, org: Org) -> None:
    b = Breaches(gql, org)
    discovered = datetime.now(UTC) - timedelta(hours=10)
    breach = b(REPORT, {"title": "Ransomware", "discoveredAt": _at(discovered)})
    bid = breach["id"]

    def note(hours: float, **extra: Any) -> dict[str, Any]:
        notified_at = _at(discovered + timedelta(hours=hours))
        return {"id": bid, "authority": "AP", "notifiedAt": notified_at, **extra}

    assert b.refused(NOTIFY, note(-1)) == ["notifiedAt"]  # before awareness
    assert b.refused(NOTIFY, note(1, phase="FOLLOW_UP")) == ["phase"]  # nothing to follow up
    assert b.refused(NOTIFY, note(20)) == ["notifiedAt"]  # not made yet
    b(NOTIFY, note(2))
    assert b.refused(NOTIFY, note(3)) == ["phase"]  # one INITIAL only
    assert b.refused(NOTIFY, note(1, phase="FOLLOW_UP")) == ["notifiedAt"]  # out of order
    b(NOTIFY, note(4, phase="FOLLOW_UP"))
    done = b(NOTIFY, note(5, phase="FINAL"))
    assert [n["phase"] for n in done["authorityNotifications"]] == [
        "INITIAL", "FOLLOW_UP", "FINAL"]
    assert b.refused(NOTIFY, note(6, phase="FOLLOW_UP")) == ["phase"]  # nothing after FINAL


def test_high_risk_breaches_are_told_to_the_subjects_or_exempted(
    gql: GraphQLClient, org: Org
) -> None:
    b = Breaches(gql, org)
    discovered = _ago(hours=5)
    told = b(REPORT, {"title": "Leaked passwords", "discoveredAt": discovered,
                      "risk": "HIGH_RISK"})
    assert _codes(told) == {"BREACH_SUBJECTS_NOT_INFORMED"}
    assert b.refused(TELL, {"id": told["id"]}) == ["notifiedAt", "channel"]
    assert b.refused(TELL, {"id": told["id"], "notifiedAt": _ago(hours=6),
                            "channel": "e-mail"}) == ["notifiedAt"]  # before awareness
    assert b.refused(TELL, {"id": told["id"], "notifiedAt": _ago(hours=1), "channel": "e-mail",
                            "exemption": "ART34_3_A"}) == ["exemption"]  # one or the other
    told = b(TELL, {"id": told["id"], "notifiedAt": _ago(hours=1), "channel": "e-mail"})
    assert told["subjectCommunication"]["channel"] == "e-mail"
    assert _codes(told) == set()
    # a communication made is documentation (Art. 33(5)): it is not rewritten
    assert b.refused(TELL, {"id": told["id"], "notifiedAt": _ago(minutes=30),
                            "channel": "letter"}) == ["subjectCommunication"]

    exempt = b(REPORT, {"title": "Encrypted backup stolen", "discoveredAt": discovered,
                        "risk": "HIGH_RISK"})
    exempt = b(TELL, {"id": exempt["id"], "exemption": "ART34_3_A"})
    assert exempt["subjectCommunicationExemption"] == "ART34_3_A"
    assert _codes(exempt) == set()


def test_a_breach_is_contained_before_it_is_closed_and_never_reopened(
    gql: GraphQLClient, org: Org
) -> None:
    b = Breaches(gql, org)
    breach = b(REPORT, {"title": "Open S3 bucket", "occurredAt": _ago(hours=30),
                        "discoveredAt": _ago(hours=20), "risk": "UNLIKELY"})
    bid = breach["id"]
    assert breach["status"] == "OPEN"
    assert b.refused(CLOSE, {"id": bid}) == ["containedAt"]
    assert b.refused(UPDATE, {"id": bid, "status": "CONTAINED"}) == ["containedAt"]
    assert b.refused(UPDATE, {"id": bid, "containedAt": _ago(hours=40)}) == ["containedAt"]
    assert b.refused(UPDATE, {"id": bid, "containedAt": _ago(hours=-2)}) == ["containedAt"]
    assert b.refused(REPORT, {"title": "Clairvoyance", "discoveredAt": _ago(hours=-3)}) == [
        "discoveredAt"]
    contained = b(UPDATE, {"id": bid, "containedAt": _ago(hours=10), "status": "CONTAINED"})
    assert contained["status"] == "CONTAINED"
    closed = b(CLOSE, {"id": bid})
    assert closed["status"] == "CLOSED"
    assert b.refused(UPDATE, {"id": bid, "status": "OPEN"}) == ["status"]
    assert b.refused(UPDATE, {"id": bid, "status": "CONTAINED"}) == ["status"]
