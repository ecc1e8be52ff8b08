"""What /graphql refuses before any GraphQL runs: no token (401), a request a cross-site page
could send (400), an oversized body (413), too many requests for one token (429), batches;
and what production turns off: GraphiQL and introspection."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from ropa.api.limits import Limits
from ropa.ledger.canonical import format_ts
from ropa.services import tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.reads import MAX_PAGE
from ropa.services.runtime import Runtime
from tests.conftest import Org
from tests.security.conftest import client

QUERY = '{ organization(slug: "acme") { name } }'


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def codes(response: object) -> list[str]:
    body = response.json()  # type: ignore[attr-defined]
    return [e["extensions"]["code"] for e in body["errors"]]


def test_no_token_a_wrong_one_a_revoked_one_and_an_expired_one_get_401(
    sqlite_rt: Runtime, acme: Org
) -> None:
    revoked = tokens.create_token(sqlite_rt, SYSTEM_PRINCIPAL, acme.id, "VIEWER", "old")
    assert revoked.change.state is not None
    tokens.revoke_token(sqlite_rt, SYSTEM_PRINCIPAL, acme.id, revoked.change.state["id"])
    soon = format_ts(datetime.now(UTC) + timedelta(seconds=1))
    expiring = tokens.create_token(sqlite_rt, SYSTEM_PRINCIPAL, acme.id, "VIEWER", "t", soon)
    with client(sqlite_rt) as http:
        assert http.post("/graphql", json={"query": QUERY},
                         headers=bearer(expiring.secret)).status_code == 200
        time.sleep(1.1)
        for headers in ({}, bearer("ropa_not-a-token"), {"Authorization": "Basic eDp5"},
                        bearer(revoked.secret), bearer(expiring.secret)):
            response = http.post("/graphql", json={"query": QUERY}, headers=headers)
            assert response.status_code == 401, headers
            assert codes(response) == ["UNAUTHENTICATED"]
            assert response.headers["www-authenticate"].startswith("Bearer")
        # the IDE page is static and runs nothing: it needs no token
        assert http.get("/graphql", headers={"Accept": "text/html"}).status_code == 200


def test_a_get_query_without_a_preflight_header_is_refused_as_possible_csrf(
    sqlite_rt: Runtime, acme: Org
) -> None:
    with client(sqlite_rt) as http:
        plain = http.get("/graphql", params={"query": QUERY}, headers=bearer(acme.tokens["VIEWER"]))
        assert plain.status_code == 400
        assert codes(plain) == ["BAD_REQUEST"]
        assert "x-graphql-csrf" in plain.json()["errors"][0]["message"]
        for header in ("x-graphql-csrf", "apollo-require-preflight"):
            ok = http.get("/graphql", params={"query": QUERY},
                          headers={**bearer(acme.tokens["VIEWER"]), header: "1"})
            assert ok.status_code == 200, ok.text
            assert ok.json()["data"]["organization"]["name"] == "Acme"
        for simple in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
            form = http.post("/graphql", content=json.dumps({"query": QUERY}),
                             headers={**bearer(acme.tokens["VIEWER"]), "Content-Type": simple})
            assert form.status_code == 400, simple
            assert codes(form) == ["BAD_REQUEST"]


def test_a_body_over_the_limit_is_refused_with_413_declared_or_streamed(
    sqlite_rt: Runtime, acme: Org
) -> None:
    limits = Limits(max_body_bytes=2048)
    padding = "x" * 4096
    with client(sqlite_rt, limits) as http:
        declared = http.post("/graphql", json={"query": QUERY, "variables": {"p": padding}},
                             headers=bearer(acme.tokens["VIEWER"]))
        assert declared.status_code == 413
        assert declared.json()["errors"][0]["extensions"]["limit"]["max"] == 2048

        def chunks() -> object:
            yield b'{"query": "{ __typename }", "variables": {"p": "'
            for _ in range(8):
                yield b"x" * 512
            yield b'"}}'

        streamed = http.post("/graphql", content=chunks(),  # type: ignore[arg-type]
                             headers={**bearer(acme.tokens["VIEWER"]),
                                      "Content-Type": "application/json"})
        assert streamed.status_code == 413
        small = http.post("/graphql", json={"query": QUERY}, headers=bearer(acme.tokens["VIEWER"]))
        assert small.status_code == 200


def test_a_token_over_its_rate_gets_429_with_retry_after_and_others_go_on(
    sqlite_rt: Runtime, acme: Org
) -> None:
    with client(sqlite_rt, Limits(rate_per_second=0.5, rate_burst=3)) as http:
        def ask(token: str) -> object:
            return http.post("/graphql", json={"query": QUERY}, headers=bearer(token))

        assert [ask(acme.tokens["VIEWER"]).status_code for _ in range(3)] == [200] * 3  # type: ignore[attr-defined]
        refused = ask(acme.tokens["VIEWER"])
        assert refused.status_code == 429  # type: ignore[attr-defined]
        assert codes(refused) == ["RATE_LIMITED"]
        assert int(refused.headers["retry-after"]) >= 1  # type: ignore[attr-defined]
        assert ask(acme.tokens["AUDITOR"]).status_code == 200  # type: ignore[attr-defined]


def test_batched_requests_are_refused(sqlite_rt: Runtime, acme: Org) -> None:
    with client(sqlite_rt) as http:
        response = http.post("/graphql", json=[{"query": QUERY}, {"query": QUERY}],
                             headers=bearer(acme.tokens["VIEWER"]))
        assert response.status_code == 400
        assert "Internal" not in response.text


def test_production_turns_off_graphiql_and_introspection(sqlite_rt: Runtime, acme: Org) -> None:
    asset = "/static/graphiql/graphiql@3.8.3/graphiql.min.js"
    with client(sqlite_rt) as http:
        assert http.get(asset).status_code == 200
    with client(sqlite_rt, graphiql=False, introspection=False) as http:
        assert http.get("/graphql", headers={"Accept": "text/html"}).status_code == 404
        assert http.get(asset).status_code == 404
        body = http.post("/graphql", json={"query": "{ __schema { queryType { name } } }"},
                         headers=bearer(acme.tokens["VIEWER"])).json()
        assert "introspection" in body["errors"][0]["message"].lower()
        typo = http.post("/graphql", json={"query": '{ organizaton(slug: "acme") { id } }'},
                         headers=bearer(acme.tokens["VIEWER"])).json()
        assert "Did you mean" not in json.dumps(typo)
        fine = http.post("/graphql", json={"query": QUERY}, headers=bearer(acme.tokens["VIEWER"]))
        assert fine.json()["data"]["organization"]["name"] == "Acme"


def test_limit_errors_say_what_was_exceeded_and_leak_nothing(
    sqlite_rt: Runtime, acme: Org
) -> None:
    deep = ('{ organization(slug: "acme") { processingActivities { edges { node { engagements '
            "{ activity { engagements { processor { name } } } } } } } } }")
    with client(sqlite_rt) as http:
        body = http.post("/graphql", json={"query": deep},
                         headers=bearer(acme.tokens["VIEWER"])).json()
    error = body["errors"][0]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT", "limit": {"name": "depth", "max": 7, "found": 9},
    }
    assert error["message"] == "The operation is 9 fields deep; the limit is 7."


def test_cost_and_page_limits_hold_through_the_app_as_clients_reach_it(
    sqlite_rt: Runtime, acme: Org
) -> None:
    too_many = MAX_PAGE + 1
    page = f'{{ organization(slug: "acme") {{ processors(first: {too_many}) {{ totalCount }} }} }}'
    one = ("processingActivities(first: 100) { edges { node { "
           "engagements { processor { name } } transfers { toCountry } } } }")
    costly = '{ organization(slug: "acme") { ' + " ".join(
        f"a{i}: {one}" for i in range(5)) + " } }"
    with client(sqlite_rt) as http:
        for query, limit in ((page, "pageSize"), (costly, "cost")):
            body = http.post("/graphql", json={"query": query},
                             headers=bearer(acme.tokens["VIEWER"])).json()
            assert body.get("data") is None, body
            assert body["errors"][0]["extensions"]["limit"]["name"] == limit


def test_a_request_past_the_time_limit_is_answered_service_unavailable(
    sqlite_rt: Runtime, acme: Org
) -> None:
    import sqlite3

    from sqlalchemy import make_url

    # another writer holds the database: the mutation waits for it (up to SQLite's 5 s)
    holder = sqlite3.connect(make_url(sqlite_rt.db.url).database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with client(sqlite_rt, Limits(request_timeout=1.0)) as http:
            started = time.perf_counter()
            response = http.post("/graphql", headers=bearer(acme.tokens["EDITOR"]), json={
                "query": 'mutation { registerProcessor(input: {name: "Slow", country: "DE"}) '
                         "{ processor { id } } }"})
            took = time.perf_counter() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert codes(response) == ["SERVICE_UNAVAILABLE"]
    assert "within 1 s" in response.json()["errors"][0]["message"]
    assert took < 4.0
