"""What the warm path must never do, fast as it is: answer 304 or a stored answer after the
ledger moved (whoever wrote), serve a revoked token beyond the verified-token window, or
hand one organisation's (or role's) answer to another caller."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ropa.api import cache
from ropa.services import processors, tokens
from ropa.services.access import Principal
from ropa.services.runtime import Runtime
from ropa.store.ledger_store import Actor
from ropa.store.write_path import now_ts
from tests.api.conftest import GraphQLClient
from tests.conftest import Org

QUERY = (
    'query Vendors { organization(slug: "acme") '
    "{ processors { totalCount edges { node { name } } } } }"
)


def _post(gql: GraphQLClient, token: str, **headers: str) -> Any:
    return gql.http.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}", **headers}
    )


def _register(rt: Runtime, org: Org, name: str) -> None:
    processors.register_processor(rt, org.as_role("EDITOR"), {"name": name, "country": "DE"})


def test_a_write_by_another_process_ends_the_304s_and_the_hits_at_once(
    gql: GraphQLClient, rt: Runtime, org: Org
) -> None:
    _register(rt, org, "Hetzner")
    token = org.tokens["VIEWER"]
    first = _post(gql, token)
    etag = first.headers["etag"]
    assert _post(gql, token, **{"If-None-Match": etag}).status_code == 304
    elsewhere = Runtime(rt.settings)  # its own engine, as another worker or the CLI has
    try:
        _register(elsewhere, org, "OVHcloud")
    finally:
        elsewhere.db.dispose()
    revalidated = _post(gql, token, **{"If-None-Match": etag})
    assert revalidated.status_code == 200
    assert revalidated.headers["etag"] != etag
    assert revalidated.json()["data"]["organization"]["processors"]["totalCount"] == 2
    again = _post(gql, token)
    assert again.content == revalidated.content
    assert again.headers["etag"] == revalidated.headers["etag"]


def test_a_token_revoked_here_gets_neither_a_hit_nor_a_304(
    gql: GraphQLClient, rt: Runtime, org: Org
) -> None:
    issued = tokens.create_token(rt, org.as_role("DPO"), org.id, "VIEWER", "revoked soon")
    assert issued.change.state is not None
    first = _post(gql, issued.secret)
    assert first.status_code == 200
    tokens.revoke_token(rt, org.as_role("DPO"), org.id, issued.change.state["id"])
    assert _post(gql, issued.secret).status_code == 401
    assert _post(gql, issued.secret, **{"If-None-Match": first.headers["etag"]}).status_code == 401


def test_a_token_revoked_elsewhere_stops_getting_hits_within_the_verified_window(
    gql: GraphQLClient, rt: Runtime, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = tokens.create_token(rt, org.as_role("DPO"), org.id, "VIEWER", "revoked elsewhere")
    assert issued.change.state is not None
    first = _post(gql, issued.secret)
    assert first.status_code == 200
    remembered = dict(tokens._verified)
    tokens.revoke_token(rt, org.as_role("DPO"), org.id, issued.change.state["id"])
    # as another process revoking it: this one still remembers the verified token...
    tokens._verified.update(remembered)
    assert _post(gql, issued.secret).status_code == 200
    # ...for VERIFIED_SECONDS at most: then the token is looked up, and refused
    later = time.monotonic() + tokens.VERIFIED_SECONDS + 0.1
    monkeypatch.setattr(tokens.time, "monotonic", lambda: later)
    assert _post(gql, issued.secret).status_code == 401
    assert _post(gql, issued.secret, **{"If-None-Match": first.headers["etag"]}).status_code == 401


def test_another_organisations_token_never_gets_the_answer(
    gql: GraphQLClient, rt: Runtime, org: Org, other_org: Org
) -> None:
    _register(rt, org, "Hetzner")
    ours = _post(gql, org.tokens["DPO"])
    assert ours.json()["data"]["organization"]["processors"]["totalCount"] == 1
    theirs = _post(gql, other_org.tokens["DPO"], **{"If-None-Match": ours.headers["etag"]})
    assert theirs.status_code == 200
    assert theirs.content != ours.content
    assert "Hetzner" not in theirs.text
    assert theirs.headers.get("etag") != ours.headers["etag"]


def test_the_key_names_the_organisation_and_the_role(org: Org, other_org: Org) -> None:
    store = cache.ResultCache(runtime=None)  # type: ignore[arg-type]
    same_id = "00000000-0000-0000-0000-000000000001"
    callers = [
        Principal(Actor(same_id, "VIEWER"), org.id),
        Principal(Actor(same_id, "DPO"), org.id),
        Principal(Actor(same_id, "VIEWER"), other_org.id),
    ]
    keys = {store.key("request", QUERY, p, 3, "application/json") for p in callers}
    assert len(keys) == len(callers)


def test_a_write_while_an_answer_is_made_files_nothing_under_the_older_head(
    gql: GraphQLClient, rt: Runtime, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(rt, org, "Hetzner")
    token = org.tokens["VIEWER"]
    real = processors.register_processor
    written: list[str] = []

    def keep_and_write(*args: Any, **kwargs: Any) -> Any:
        if not written:  # once, between the head read before and the one after
            written.append(now_ts())
            real(rt, org.as_role("EDITOR"), {"name": "OVHcloud", "country": "DE"})
        return original_keep(*args, **kwargs)

    original_keep = cache.ResultCache.keep
    monkeypatch.setattr(cache.ResultCache, "keep", keep_and_write)
    first = _post(gql, token)
    assert first.status_code == 200 and written
    assert "etag" not in first.headers, "made at the older head: neither kept nor tagged"
    monkeypatch.undo()
    fresh = _post(gql, token)
    assert fresh.json()["data"]["organization"]["processors"]["totalCount"] == 2
