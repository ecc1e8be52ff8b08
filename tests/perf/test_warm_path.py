"""A warm answer costs one statement: a cache hit and a 304 read only the ledger head
(the token verified a moment ago is remembered), and nothing is parsed on the way out."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from ropa.services import ledger_queries, processors
from ropa.services.runtime import Runtime
from ropa.store.database import LOOP_CONNECTIONS
from tests.api.conftest import GraphQLClient
from tests.conftest import Org

QUERY = 'query Vendors { organization(slug: "acme") { processors { edges { node { name } } } } }'


def _post(gql: GraphQLClient, token: str, **headers: str) -> Any:
    return gql.http.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}", **headers}
    )


def _statements(rt: Runtime, call: Any) -> tuple[Any, list[str]]:
    sent: list[str] = []

    def note(*args: Any) -> None:
        if str(args[2]).strip().upper() != "BEGIN":  # SQLite's transaction start
            sent.append(str(args[2]))

    for engine in rt.db.engines:
        event.listen(engine, "before_cursor_execute", note)
    rt.db.loop_statement_listeners.append(sent.append)  # sent from the event loop
    try:
        return call(), sent
    finally:
        rt.db.loop_statement_listeners.remove(sent.append)
        for engine in rt.db.engines:
            event.remove(engine, "before_cursor_execute", note)


def test_a_cache_hit_and_a_304_each_read_only_the_ledger_head(
    gql: GraphQLClient, rt: Runtime, org: Org
) -> None:
    processors.register_processor(rt, org.as_role("EDITOR"), {"name": "Hetzner", "country": "DE"})
    token = org.tokens["VIEWER"]
    first = _post(gql, token)
    assert first.status_code == 200
    hit, sent = _statements(rt, lambda: _post(gql, token))
    assert hit.status_code == 200 and hit.content == first.content
    assert len(sent) == 1 and "ledger_head" in sent[0], sent
    etag = first.headers["etag"]
    revalidated, sent = _statements(rt, lambda: _post(gql, token, **{"If-None-Match": etag}))
    assert revalidated.status_code == 304
    assert len(sent) == 1 and "ledger_head" in sent[0], sent


def test_the_head_read_survives_a_terminated_connection(rt: Runtime, org: Org) -> None:
    """One round trip, no ping: a connection the server dropped is replaced, once, by the
    read in a worker thread and by the one from the event loop alike."""
    if rt.db.is_sqlite:
        pytest.skip("PostgreSQL: its backends can be terminated")
    viewer = org.as_role("VIEWER")
    url = rt.settings.database_url.replace("postgresql+psycopg://", "postgresql://")

    def terminate() -> None:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

    async def from_the_loop() -> list[ledger_queries.HeadMark]:
        marks = [await ledger_queries.head_mark_now(rt, viewer, org.id)]
        terminate()
        marks.append(await ledger_queries.head_mark_now(rt, viewer, org.id))
        return marks

    before = ledger_queries.head_mark(rt, viewer, org.id)
    terminate()
    assert ledger_queries.head_mark(rt, viewer, org.id) == before
    assert asyncio.run(from_the_loop()) == [before, before]


def test_many_head_reads_at_once_share_a_few_connections(rt: Runtime, org: Org) -> None:
    """A burst waits its turn for the loop's connections instead of opening one each."""
    if rt.db.is_sqlite:
        pytest.skip("PostgreSQL: the loop's own connections")
    viewer = org.as_role("VIEWER")
    url = rt.settings.database_url.replace("postgresql+psycopg://", "postgresql://")

    async def burst() -> tuple[set[ledger_queries.HeadMark], int]:
        marks = await asyncio.gather(
            *(ledger_queries.head_mark_now(rt, viewer, org.id) for _ in range(60))
        )
        with psycopg.connect(url, autocommit=True) as admin:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchone()
        return set(marks), int(row[0]) if row else 0

    marks, connections = asyncio.run(burst())
    assert marks == {ledger_queries.head_mark(rt, viewer, org.id)}
    assert connections <= LOOP_CONNECTIONS + 3, connections  # + the engines' few
