"""The comparison's own rules, without a database: names, regions, categories, the notice in
force, and what a recipient category covers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ropa.domain.findings import Snapshot
from ropa.notices import compare


@pytest.mark.parametrize(
    ("written", "recorded"),
    [
        ("FreshDesk", "Freshdesk"),
        ("HubSpot, Inc.", "HubSpot Inc"),
        ("AWS", "Amazon Web Services (AWS)"),
        ("Google LLC", "Google LLC"),
    ],
)
def test_a_vendor_matches_by_name_legal_name_or_bracketed_name(written: str, recorded: str) -> None:
    processor = {"name": recorded, "legalName": None}
    assert compare.party_names({"name": written, "canonical": None}) & compare.processor_names(
        processor
    )


def test_different_vendors_do_not_match() -> None:
    processor = {"name": "Google Drive", "legalName": "Google LLC"}
    assert not compare.party_names({"name": "Dropbox", "canonical": "Dropbox, Inc."}) & (
        compare.processor_names(processor)
    )


@pytest.mark.parametrize(
    ("key", "level"),
    [("user.contact.email", "user.contact"), ("user.name", "user.name"), ("user", "user")],
)
def test_categories_are_compared_at_the_second_level(key: str, level: str) -> None:
    assert compare.level2(key) == level


def _policy(pid: str, effective: str) -> dict[str, Any]:
    return {"id": pid, "version": pid, "effectiveDate": effective, "text": "x", "analysis": {}}


def test_the_notice_in_force_is_the_latest_effective_one_and_the_last_published_that_day() -> None:
    snapshot = Snapshot(
        organization={},
        policies=[
            _policy("a", "2020-01-01"),
            _policy("b", "2021-01-01"),
            _policy("c", "2021-01-01"),
            _policy("future", "2999-01-01"),
        ],
        policy_published={"a": 1, "b": 5, "c": 3, "future": 9},
    )
    now = datetime(2022, 1, 1, tzinfo=UTC)
    assert compare.notice_in_force(snapshot, now)["id"] == "b"  # type: ignore[index]
    early = datetime(2019, 1, 1, tzinfo=UTC)
    assert compare.notice_in_force(snapshot, early) is None


def _notice(text: str) -> dict[str, Any]:
    return {"id": "p", "text": text}


@pytest.mark.parametrize(
    ("text", "services", "covered"),
    [
        ("We use hosting providers in the EU.", ["cloud hosting"], True),
        ("Payment processors handle your card.", ["payment processing"], True),
        ("Payment processors handle your card.", ["helpdesk"], False),
        ("We use analytics providers.", ["email delivery"], False),
        ("Our e-mail service providers send newsletters.", ["email delivery"], True),
    ],
)
def test_a_recipient_category_covers_a_processor_by_its_services(
    text: str, services: list[str], covered: bool
) -> None:
    found = compare._covering_categories(_notice(text), {"services": services})
    assert bool(found) is covered
    for _, span in found:
        assert text[span.start : span.end] == span.text


@pytest.mark.parametrize(
    ("region", "country", "covers"),
    [
        ("outside the EEA", "US", True),
        ("outside the EEA", "DE", False),
        ("worldwide", "IN", True),
        ("EEA", "FR", True),
        ("EEA", "US", False),
        ("Asia", "SG", False),
    ],
)
def test_a_region_covers_the_countries_it_names(region: str, country: str, covers: bool) -> None:
    assert compare._region_covers(region, country) is covers
