"""The demo organisations' privacy notices (Art. 13/14), published with their text.

Each `notices/<slug>.md` is a notice written for the demo that discloses what the
organisation's public notice discloses (vendors, countries, data, purposes, bases,
retention, contacts), in its own words. `publish_notices` publishes it as a new version of
the organisation's notice, effective on the date of the version in `data/<slug>.json`, so
the notice findings compare it with the demo records, and `draftRecordsFromNotice` can draft
from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

from ropa.errors import ConflictError, NotFoundError
from ropa.services import policies
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.reads import open_view
from ropa.services.runtime import Runtime

VERSION_SUFFIX = " (full text)"
# the version of each organisation's notice (data/<slug>.json) the demo's text stands for
NOTICE_VERSIONS = {
    "qualer": "2020-01-23",
    "qwiqi": "2024-11-11",
    "webengage": "2018-05-23",
    "qiscus": "undated",
    "qwasi": "undated",
}


def notice_text(slug: str) -> str:
    return resources.files("ropa.demo").joinpath("notices", f"{slug}.md").read_text("utf-8")


def text_for(slug: str, version: str) -> str | None:
    """The demo's text of that version of the organisation's notice, if it has one.

    A loader that publishes the policy versions itself passes it with the version (format
    MARKDOWN) instead of calling `publish_notices`.
    """
    return notice_text(slug) if NOTICE_VERSIONS.get(slug) == version else None


def _latest_version(slug: str) -> dict[str, Any]:
    text = resources.files("ropa.demo").joinpath("data", f"{slug}.json").read_text("utf-8")
    versions: list[dict[str, Any]] = json.loads(text).get("privacyPolicies", [])
    return max(versions, key=lambda v: v["effectiveDate"])


def publish_notices(rt: Runtime, slugs: Iterable[str]) -> list[str]:
    """Publish each organisation's notice text once; returns the slugs published now."""
    published = []
    for slug in slugs:
        try:
            view, _ = open_view(rt, SYSTEM_PRINCIPAL, slug)
        except NotFoundError:
            continue
        latest = _latest_version(slug)
        data = {
            "version": latest["version"] + VERSION_SUFFIX,
            "effectiveDate": latest["effectiveDate"],
            "url": latest["url"],
            "summary": "The notice's text, as the demo publishes it.",
        }
        system = Principal(SYSTEM_PRINCIPAL.actor, view.org_id)
        try:
            policies.publish_privacy_policy(rt, system, data, notice_text(slug), "MARKDOWN")
        except ConflictError:
            continue  # published before
        published.append(slug)
    return published
