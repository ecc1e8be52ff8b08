"""Loading the demo organisations through the write path, so their ledgers are real.

Each `data/<slug>.json` holds an organisation with its privacy-policy versions, processors
and activities (with their engagements and transfers), as its policy discloses them. What
a policy leaves unsaid stays missing, so the findings show it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from ropa.demo.notice_texts import publish_notices
from ropa.errors import NotFoundError
from ropa.services import activities, organizations, policies, processors, transfers
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.reads import open_view
from ropa.services.runtime import Runtime

DEMO_SLUGS = ("qualer", "qwiqi", "webengage", "qiscus", "qwasi")
_ACTIVITY_EXTRAS = ("ref", "source", "engagements", "transfers")


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
    publish_notices(rt, tuple(loaded))
    return loaded


def load_organization(rt: Runtime, data: dict[str, Any]) -> str:
    org = organizations.create_organization(rt, SYSTEM_PRINCIPAL, data["organization"])
    assert org.state is not None
    org_id: str = org.state["id"]
    system = Principal(SYSTEM_PRINCIPAL.actor, org_id)
    for policy in data.get("privacyPolicies", []):
        fields = {k: v for k, v in policy.items() if k != "seedFile"}
        policies.publish_privacy_policy(rt, system, fields)
    processor_ids: dict[str, str] = {}
    for proc in data.get("processors", []):
        fields = {k: v for k, v in proc.items() if k != "ref"}
        change = processors.register_processor(rt, system, fields)
        assert change.state is not None
        processor_ids[proc["ref"]] = change.state["id"]
    for act in data.get("activities", []):
        fields = {k: v for k, v in act.items() if k not in _ACTIVITY_EXTRAS}
        change = activities.create_processing_activity(rt, system, fields)
        assert change.state is not None
        activity_id = change.state["id"]
        for eng in act.get("engagements", []):
            activities.engage_processor(
                rt,
                system,
                {
                    "activityId": activity_id,
                    "processorId": processor_ids[eng["processor"]],
                    **{k: v for k, v in eng.items() if k != "processor"},
                },
            )
        for tr in act.get("transfers", []):
            ref = tr.get("recipientProcessor")
            transfers.record_transfer(
                rt,
                system,
                {
                    "activityId": activity_id,
                    "recipientProcessorId": processor_ids[ref] if ref else None,
                    **{k: v for k, v in tr.items() if k != "recipientProcessor"},
                },
            )
    return org_id
