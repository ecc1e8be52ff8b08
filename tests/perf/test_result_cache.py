"""Cached query results are reused only while the ledger head (and clock bucket) stand still.

Through the real ASGI app: a repeat is answered from the cache with the same ETag, and
If-None-Match gives 304; any write moves the head, so the next answer is fresh with a new
ETag; callers never share entries; what depends on the clock is bucketed; what lives
outside the ledger, mutations and errors are never cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ropa.api import cache
from ropa.services import processors
from ropa.services.runtime import Runtime
from tests.api.conftest import GraphQLClient
from tests.conftest import Org

QUERY = (
    'query Vendors { organization(slug: "acme") '
    "{ processors { totalCount edges { node { name } } } } }"
)
OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"


def _post(gql: GraphQLClient, token: str, query: str = QUERY, **headers: str) -> Any:
    return gql.http.post(
        "/graphql", json={"query": query},
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def _register(rt: Runtime, org: Org, name: str) -> None:
    processors.register_processor(rt, org.as_role("EDITOR"), {"name": name, "country": "DE"})


def test_a_repeat_is_served_with_the_same_etag_and_if_none_match_gives_304(
    gql: GraphQLClient, rt: Runtime, org: Org
) -> None:
    _register(rt, org, "Hetzner")
    token = org.tokens["VIEWER"]
    first, again = _post(gql, token), _post(gql, token)
    assert first.status_code == again.status_code == 200
    assert first.headers["etag"] == again.headers["etag"]
    assert first.content == again.content
    revalidated = _post(gql, token, **{"If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == first.headers["etag"]


def test_a_write_moves_the_ledger_head_so_the_next_answer_is_fresh(
    gql: GraphQLClient, rt: Runtime, org: Org
) -> None:
    _register(rt, org, "Hetzner")
    token = org.tokens["VIEWER"]
    before = _post(gql, token)
    _register(rt, org, "OVHcloud")
    after = _post(gql, token, **{"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["data"]["organization"]["processors"]["totalCount"] == 2


def test_callers_never_share_an_answer(gql: GraphQLClient, rt: Runtime, org: Org) -> None:
    viewer = _post(gql, org.tokens["VIEWER"])
    dpo = _post(gql, org.tokens["DPO"], **{"If-None-Match": viewer.headers["etag"]})
    assert dpo.status_code == 200
    assert dpo.headers["etag"] != viewer.headers["etag"]


def test_no_cache_requests_errors_and_mutations_are_not_cached(
    gql: GraphQLClient, rt: Runtime, org: Org
) -> None:
    token = org.tokens["VIEWER"]
    assert "etag" not in _post(gql, token, **{"Cache-Control": "no-cache"}).headers
    missing = 'query { organization(slug: "nobody") { name } }'
    assert "etag" not in _post(gql, token, missing).headers
    mutation = (
        'mutation { registerProcessor(input: {name: "X", country: "DE"}) { receipt { seq } } }'
    )
    assert "etag" not in _post(gql, org.tokens["EDITOR"], mutation).headers


def test_answers_judged_at_the_current_time_are_keyed_on_a_time_bucket(
    monkeypatch: pytest.MonkeyPatch, org: Org
) -> None:
    store = cache.ResultCache(runtime=None)  # type: ignore[arg-type]
    principal = org.as_role("DPO")
    dashboard = (OPERATIONS / "DashboardOverview.graphql").read_text()
    keys = []
    for now in (1_000_000.0, 1_000_000.0 + cache.TIME_BUCKET_SECONDS):
        monkeypatch.setattr(cache.time, "time", lambda now=now: now)
        keys.append((store.key("overview", dashboard, principal, 7, "application/json"),
                     store.key("vendors", QUERY, principal, 7, "application/json")))
    assert keys[0][0] != keys[1][0], "findings and `overdue` move with the clock"
    assert keys[0][1] == keys[1][1], "plain records only move with the ledger"


def test_token_use_kept_outside_the_ledger_is_never_cached(
    gql: GraphQLClient, org: Org
) -> None:
    query = "query { __typename } # lastUsedAt"
    assert "etag" not in _post(gql, org.tokens["DPO"], query).headers


def test_get_requests_with_other_variables_get_their_own_answers(
    gql: GraphQLClient, rt: Runtime, org: Org
) -> None:
    import json

    query = "query($slug: String!) { organization(slug: $slug) { slug } }"
    auth = {"Authorization": f"Bearer {org.tokens['VIEWER']}", "x-graphql-csrf": "1"}

    def get(slug: str) -> Any:
        params = {"query": query, "variables": json.dumps({"slug": slug})}
        return gql.http.get("/graphql", params=params, headers=auth)

    found, missing = get("acme"), get("nobody")
    assert found.json()["data"]["organization"]["slug"] == "acme"
    assert missing.json().get("errors")
