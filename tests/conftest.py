"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

As in pypi/warehouse, each backend's schema is migrated once per xdist worker into a
template; each test then gets a fresh copy (a file copy on SQLite, `CREATE DATABASE ...
TEMPLATE` on PostgreSQL) and it is dropped afterwards, so tests commit for real and still
leave nothing behind. PostgreSQL is `ROPA_TEST_POSTGRES_URL` (default: the local server);
when it cannot be reached its tests are skipped, except under `CI=true`, where that fails.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ropa.config import Settings
from ropa.ledger.keys import SigningKey
from ropa.services import organizations, tokens
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.runtime import Runtime
from ropa.store.database import Database
from ropa.store.migrate import upgrade

# the project's shared folder beside the repository: test data only tests read (the seed
# privacy notices); the software never needs it
SHARED = Path(os.environ.get("ROPA_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
PG_URL = os.environ.get("ROPA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count()


def _pg_admin() -> psycopg.Connection[Any]:
    return psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)


def _pg_url(name: str) -> str:
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{name}"


def shared_path(*parts: str) -> Path:
    """`SHARED`/parts, for a test that reads it: skipped when missing, failed under CI=true.

    Every test that reads the shared folder goes through here, so that CI, which always
    has it, can never pass by skipping what it was meant to check.
    """
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing under CI=true (set ROPA_SHARED_DIR)")
        pytest.skip(f"{path} is missing (the shared folder beside the repository)")
    return path


@pytest.fixture(scope="session")
def pg_available() -> bool:
    try:
        with _pg_admin():
            return True
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable under CI=true: {exc}")
        return False


@pytest.fixture(scope="session")
def worker_tag(worker_id: str) -> str:
    return f"{worker_id}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_available: bool, worker_tag: str) -> Iterator[str | None]:
    if not pg_available:
        yield None
        return
    name = f"ropa_tpl_{worker_tag}"
    with _pg_admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = Database(_pg_url(name))
    upgrade(db)
    db.dispose()
    yield name
    with _pg_admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_template: str | None,
    worker_tag: str,
) -> Iterator[str]:
    """A freshly migrated, empty database of each backend, dropped after the test."""
    if request.param == "sqlite":
        path = tmp_path / "ropa.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if pg_template is None:
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable")
    name = f"ropa_t_{worker_tag}_{next(_counter)}"
    with _pg_admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(pg_template)
            )
        )
    yield _pg_url(name)
    with _pg_admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate("ropa.test-20261123")


@pytest.fixture
def rt(database_url: str, tmp_path: Path, signing_key: SigningKey) -> Iterator[Runtime]:
    key_file = tmp_path / "keys" / "signing.key"
    key_file.parent.mkdir()
    signing_key.write_to_file(key_file)
    settings = Settings(database_url=database_url, key_file=key_file)
    runtime = Runtime(settings)
    yield runtime
    runtime.db.dispose()


@dataclass
class Org:
    """An organisation made for a test, with a token of each role."""

    id: str
    slug: str
    tokens: dict[str, str]
    principals: dict[str, Principal]

    def as_role(self, role: str) -> Principal:
        return self.principals[role]


def make_org(rt: Runtime, slug: str | None = None, **fields: Any) -> Org:
    slug = slug or f"org-{uuid.uuid4().hex[:8]}"
    data = {"slug": slug, "name": slug.title(), "roles": ["CONTROLLER"], "country": "DE", **fields}
    change = organizations.create_organization(rt, SYSTEM_PRINCIPAL, data)
    assert change.state is not None
    org_id = change.state["id"]
    secrets: dict[str, str] = {}
    principals: dict[str, Principal] = {}
    for role in ("VIEWER", "AUDITOR", "EDITOR", "DPO", "ADMIN"):
        issued = tokens.create_token(rt, SYSTEM_PRINCIPAL, org_id, role, f"test {role}")
        secrets[role] = issued.secret
        principals[role] = tokens.authenticate(rt, f"Bearer {issued.secret}")
    return Org(org_id, slug, secrets, principals)


@pytest.fixture
def org(rt: Runtime) -> Org:
    return make_org(rt, "acme")


@pytest.fixture
def other_org(rt: Runtime) -> Org:
    return make_org(rt, "globex")
