"""The demo organisations' privacy notices (Art. 13/14), published with their text.

Each `notices/<slug>.md` is a notice written for the demo that discloses what the
organisation's public notice discloses (vendors, countries, data, purposes, bases,
retention, contacts), in its own words. The demo loader publishes it with the version of
the organisation's notice it stands for (`NOTICE_VERSIONS`), at that version's instant, so
the notice findings compare it with the demo records, and `draftRecordsFromNotice` can draft
from it.
"""

from __future__ import annotations

from importlib import resources

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
    """The demo's text of that version of the organisation's notice, if it has one."""
    return notice_text(slug) if NOTICE_VERSIONS.get(slug) == version else None
