"""The demo's privacy notices: one per organisation, in their own words, disclosing what the
organisation's public notice discloses (read by the same analyser)."""

from __future__ import annotations

import re

import pytest

from ropa.demo.loader import DEMO_SLUGS
from ropa.demo.notice_texts import notice_text
from ropa.notices import analyze
from tests.conftest import shared_path

SHARED_RUN = 7  # words in a row that a demo notice may share with the seed only a few times


def _seed(slug: str) -> str:
    return shared_path("seeds", f"{slug}-privacy-policy.txt").read_text(encoding="utf-8")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


@pytest.mark.parametrize("slug", DEMO_SLUGS)
def test_a_demo_notice_is_written_in_its_own_words(slug: str) -> None:
    seed = _words(_seed(slug))
    runs = {tuple(seed[i : i + SHARED_RUN]) for i in range(len(seed) - SHARED_RUN + 1)}
    mine = _words(notice_text(slug))
    shared = [
        i for i in range(len(mine) - SHARED_RUN + 1) if tuple(mine[i : i + SHARED_RUN]) in runs
    ]
    # only names can be the same: a postal address, a list of product names
    assert len(shared) <= 6, [" ".join(mine[i : i + SHARED_RUN]) for i in shared]


@pytest.mark.parametrize("slug", DEMO_SLUGS)
def test_a_demo_notice_discloses_the_vendors_and_countries_of_the_real_one(slug: str) -> None:
    real = analyze(_seed(slug))
    ours = analyze(notice_text(slug), "text/markdown")

    def vendors(a: dict[str, list[dict[str, object]]]) -> set[object]:
        return {p["canonical"] or p["name"] for p in a["thirdParties"]}

    assert vendors(real) <= vendors(ours)
    assert {c["code"] for c in real["countries"]} <= {c["code"] for c in ours["countries"]}
    assert bool(real["contacts"]) == bool(ours["contacts"])


@pytest.mark.parametrize("slug", DEMO_SLUGS)
def test_each_demo_notice_stands_for_a_version_of_the_demo_data(slug: str) -> None:
    from ropa.demo.loader import demo_data
    from ropa.demo.notice_texts import NOTICE_VERSIONS, text_for

    versions = [p["version"] for p in demo_data(slug)["privacyPolicies"]]
    assert NOTICE_VERSIONS[slug] in versions
    assert text_for(slug, NOTICE_VERSIONS[slug]) == notice_text(slug)
    assert text_for(slug, "no such version") is None
