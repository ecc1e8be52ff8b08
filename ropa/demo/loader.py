"""Loading the demo organisations through the write path, at the instants of their history.

Each `data/<slug>.json` holds an organisation with its privacy-policy versions, processors
and activities (with their engagements and transfers) and breaches, as its notice
discloses them, each record dated: `since` is the instant it was recorded, `publishedAt`
a policy's, and a record's `history` lists its later changes (`at`, `op`, `set`, `why`).
What a notice leaves unsaid stays missing, so the findings show it.

The loader turns a file into dated events and replays them in chronological order, each
inside `recorded_at(instant)`: the ledger's entries carry the instants the history claims
(LEDGER-SPEC §2: `ts` never goes backwards, which the write path enforces), so
`organization(asOf:)` and `changes(from:, to:)` find the history where it happened. Those
entries are written now with past instants: no trusted timestamp covers them at the time
they claim.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from importlib import resources
from typing import Any

from ropa.demo.notice_texts import text_for
from ropa.errors import NotFoundError
from ropa.ledger.canonical import format_ts
from ropa.services import activities, breaches, organizations, policies, processors, transfers
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.changes import recorded_at
from ropa.services.reads import open_view
from ropa.services.runtime import Runtime

DEMO_SLUGS = ("qualer", "qwiqi", "webengage", "qiscus", "qwasi")
# members of the data files that describe a record's place in the history, not its state
_DATING = ("ref", "since", "history", "publishedAt", "seedFile", "noticeParaphrase")
_ACTIVITY_EXTRAS = (*_DATING, "engagements", "transfers")
# at one instant: the organisation, then policies, processors, activities, what hangs on
# them, and only then later changes
_ORDER = ("organization", "policy", "processor", "activity", "engagement", "transfer",
          "breach", "change")  # fmt: skip


def demo_data(slug: str) -> dict[str, Any]:
    text = resources.files("ropa.demo").joinpath("data", f"{slug}.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def is_loaded(rt: Runtime, slug: str) -> bool:
    try:
        open_view(rt, SYSTEM_PRINCIPAL, slug)
    except NotFoundError:
        return False
    return True


def load_demo(
    rt: Runtime,
    slugs: tuple[str, ...] = DEMO_SLUGS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Load every demo organisation not loaded yet; returns slug -> organisation id."""
    loaded: dict[str, str] = {}
    for slug in slugs:
        if is_loaded(rt, slug):
            continue
        loaded[slug] = load_organization(rt, demo_data(slug))
        if progress:
            progress(slug)
    return loaded


def instant(text: str) -> str:
    """A data file's instant (`2020-07-16T09:00:00Z`) in the ledger's form."""
    return format_ts(datetime.fromisoformat(text.replace("Z", "+00:00")))


@dataclass(order=True)
class Event:
    """One dated change of the demo history."""

    at: str
    rank: int
    position: int
    what: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)


def history(data: dict[str, Any], org: OrganizationLoader) -> list[Event]:
    """Every change the file describes, in the order it happened."""
    events: list[Event] = []

    def add(at: str, kind: str, what: str, run: Callable[[], None]) -> None:
        events.append(Event(instant(at), _ORDER.index(kind), len(events), what, run))

    add(
        data["organization"]["since"],
        "organization",
        "createOrganization",
        partial(org.create, data["organization"]),
    )
    for policy in data.get("privacyPolicies", []):
        add(
            policy["publishedAt"],
            "policy",
            "publishPrivacyPolicy",
            partial(org.publish_policy, policy),
        )
    for proc in data.get("processors", []):
        add(proc["since"], "processor", "registerProcessor", partial(org.register, proc))
        for change in proc.get("history", []):
            add(
                change["at"],
                "change",
                change["op"],
                partial(org.change_processor, proc["ref"], change),
            )
    for act in data.get("activities", []):
        since = act["since"]
        add(since, "activity", "createProcessingActivity", partial(org.create_activity, act))
        for eng in act.get("engagements", []):
            add(
                eng.get("since", since),
                "engagement",
                "engageProcessor",
                partial(org.engage, act["ref"], eng),
            )
        for tr in act.get("transfers", []):
            key = f"{act['ref']}/{len(events)}"
            add(
                tr.get("since", since),
                "transfer",
                "recordTransfer",
                partial(org.record_transfer, act["ref"], tr, key),
            )
            for change in tr.get("history", []):
                add(change["at"], "change", change["op"], partial(org.change_transfer, key, change))
    for number, breach in enumerate(data.get("breaches", [])):
        add(breach["since"], "breach", "reportBreach", partial(org.report, number, breach))
        for change in breach.get("history", []):
            add(change["at"], "change", change["op"], partial(org.change_breach, number, change))
    return sorted(events)


class OrganizationLoader:
    """The use cases one demo organisation's history calls, with the ids they made."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.system = SYSTEM_PRINCIPAL
        self.org_id = ""
        self.slug = ""
        self.processors: dict[str, str] = {}
        self.activities: dict[str, str] = {}
        self.transfers: dict[str, str] = {}
        self.breaches: dict[int, str] = {}

    def create(self, data: dict[str, Any]) -> None:
        change = organizations.create_organization(self.rt, SYSTEM_PRINCIPAL, _state(data))
        self.org_id = change.record["id"]
        self.slug = data["slug"]
        self.system = Principal(SYSTEM_PRINCIPAL.actor, self.org_id)

    def publish_policy(self, policy: dict[str, Any]) -> None:
        # the notice's text, where the demo has one (ropa/demo/notices/<slug>.md), goes
        # with its version, at the instant the version was published
        text = text_for(self.slug, policy["version"])
        policies.publish_privacy_policy(
            self.rt, self.system, _state(policy), text, "MARKDOWN" if text else None
        )

    def register(self, proc: dict[str, Any]) -> None:
        change = processors.register_processor(self.rt, self.system, _state(proc))
        self.processors[proc["ref"]] = change.record["id"]

    def change_processor(self, ref: str, change: dict[str, Any]) -> None:
        record_id = self.processors[ref]
        if change["op"] == "retireProcessor":
            processors.retire_processor(self.rt, self.system, record_id)
        else:
            processors.update_processor(self.rt, self.system, record_id, change["set"])

    def create_activity(self, act: dict[str, Any]) -> None:
        fields = {k: v for k, v in act.items() if k not in _ACTIVITY_EXTRAS}
        change = activities.create_processing_activity(self.rt, self.system, fields)
        self.activities[act["ref"]] = change.record["id"]

    def engage(self, activity_ref: str, eng: dict[str, Any]) -> None:
        activities.engage_processor(
            self.rt,
            self.system,
            {
                "activityId": self.activities[activity_ref],
                "processorId": self.processors[eng["processor"]],
                **{k: v for k, v in _state(eng).items() if k != "processor"},
            },
        )

    def record_transfer(self, activity_ref: str, tr: dict[str, Any], key: str) -> None:
        ref = tr.get("recipientProcessor")
        change = transfers.record_transfer(
            self.rt,
            self.system,
            {
                "activityId": self.activities[activity_ref],
                "recipientProcessorId": self.processors[ref] if ref else None,
                **{k: v for k, v in _state(tr).items() if k != "recipientProcessor"},
            },
        )
        self.transfers[key] = change.record["id"]

    def change_transfer(self, key: str, change: dict[str, Any]) -> None:
        transfers.update_transfer(self.rt, self.system, self.transfers[key], change["set"])

    def report(self, number: int, breach: dict[str, Any]) -> None:
        fields = {
            k: v
            for k, v in _state(breach).items()
            if k not in ("affectedActivities", "affectedProcessors")
        }
        fields["affectedActivityIds"] = [self.activities[r] for r in breach["affectedActivities"]]
        fields["affectedProcessorIds"] = [self.processors[r] for r in breach["affectedProcessors"]]
        self.breaches[number] = breaches.report_breach(self.rt, self.system, fields).record["id"]

    def change_breach(self, number: int, change: dict[str, Any]) -> None:
        record_id = self.breaches[number]
        op = change["op"]
        if op == "notifyAuthority":
            breaches.notify_authority(self.rt, self.system, record_id, change["set"])
        elif op == "notifyDataSubjects":
            breaches.notify_data_subjects(self.rt, self.system, record_id, change["set"])
        elif op == "closeBreach":
            breaches.close_breach(self.rt, self.system, record_id)
        else:
            breaches.update_breach(self.rt, self.system, record_id, change["set"])


def _state(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _DATING}


def load_organization(rt: Runtime, data: dict[str, Any]) -> str:
    """Replay one organisation's history through the write path, oldest change first."""
    org = OrganizationLoader(rt)
    for event in history(data, org):
        with recorded_at(event.at):
            event.run()
    return org.org_id
