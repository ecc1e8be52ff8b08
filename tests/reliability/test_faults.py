"""A database that cannot take a write (read-only, or a full disk) gives the client a
clear SERVICE_UNAVAILABLE error, writes nothing, and leaves a ledger that verifies; once
the database takes writes again, so does the service, without a restart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import event, make_url
from starlette.testclient import TestClient

from bench.harness import Deployment
from ropa.api.limits import Limits
from ropa.app import create_app
from ropa.ledger.keys import SigningKey
from ropa.services.runtime import Runtime
from tests.conftest import PG_URL, Org

REGISTER = """mutation($name: String!) { registerProcessor(input: {name: $name, country: "DE"}) {
  processor { id } receipt { seq leafHash } } }"""


@contextmanager
def each_new_connection(rt: Runtime, pragma: str) -> Iterator[None]:
    """Run `pragma` on every SQLite connection the service opens from now on."""

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(pragma)

    rt.db.engine.dispose()
    event.listen(rt.db.engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(rt.db.engine, "connect", on_connect)
        rt.db.engine.dispose()


@contextmanager
def read_only(rt: Runtime) -> Iterator[None]:
    if rt.db.is_sqlite:
        with each_new_connection(rt, "PRAGMA query_only = ON"):
            yield
        return
    name = make_url(rt.db.url).database
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on")
                      .format(sql.Identifier(name)))
        rt.db.engine.dispose()  # the setting applies to new sessions
        try:
            yield
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} RESET default_transaction_read_only")
                          .format(sql.Identifier(name)))
            rt.db.engine.dispose()


def full_disk(rt: Runtime) -> Any:
    """SQLite with no room for one more page: what a full disk looks like to it."""
    with rt.db.read() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    return each_new_connection(rt, f"PRAGMA max_page_count = {pages}")


def check_refusal(
    rt: Runtime, org: Org, tmp_path: Path, signing_key: SigningKey, fault: Callable[[], Any],
    reason: str,
) -> None:
    deployment = Deployment(tmp_path, rt.settings.database_url, signing_key,
                            rt.settings.key_file, rt, {org.slug: org.id})
    headers = {"Authorization": f"Bearer {org.tokens['EDITOR']}"}
    with TestClient(create_app(rt, limits=Limits(rate_per_second=0))) as http:
        def register(name: str) -> dict[str, Any]:
            return http.post("/graphql", json={"query": REGISTER, "variables": {"name": name}},
                             headers=headers).json()

        before = register("Before")
        acknowledged = [(org.slug, before["data"]["registerProcessor"]["receipt"]["seq"],
                         before["data"]["registerProcessor"]["receipt"]["leafHash"])]
        size = deployment.verify(acknowledged)[org.slug]["size"]
        with fault():
            refused = register("Refused " + "x" * 100_000)  # more than the pages left
        assert refused["data"] is None
        [error] = refused["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert reason in error["message"]
        assert "not written" in error["message"]
        assert deployment.verify(acknowledged)[org.slug]["size"] == size  # nothing half-written

        after = register("After")["data"]["registerProcessor"]["receipt"]
        acknowledged.append((org.slug, after["seq"], after["leafHash"]))
        assert deployment.verify(acknowledged)[org.slug]["size"] == size + 1


def test_a_read_only_database_refuses_writes_clearly_and_recovers(
    rt: Runtime, org: Org, tmp_path: Path, signing_key: SigningKey
) -> None:
    check_refusal(rt, org, tmp_path, signing_key, lambda: read_only(rt), "read-only")


def test_a_full_disk_refuses_writes_clearly_and_recovers(
    rt: Runtime, org: Org, tmp_path: Path, signing_key: SigningKey
) -> None:
    if not rt.db.is_sqlite:
        return  # PostgreSQL's disk is the server's: simulated on SQLite, the embedded one
    check_refusal(rt, org, tmp_path, signing_key, lambda: full_disk(rt), "full")
