"""Running the Alembic migrations in `migrations/` (the only way a schema is made), and
saying, in one line, why a database cannot be used yet."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from ropa.store.database import Database


def migrations_dir() -> Path:
    configured = os.environ.get("ROPA_MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> list[str]:
    """Apply the missing migrations; returns the revisions applied, oldest first."""
    cfg = alembic_config(db)
    script = ScriptDirectory.from_config(cfg)
    with db.engine.connect() as conn:
        before = tuple(MigrationContext.configure(conn).get_current_heads())
    pending = [r.revision for r in script.iterate_revisions(revision, before or "base")]
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return list(reversed(pending))


def is_current(db: Database) -> bool:
    """True when the database is at the newest migration."""
    script = ScriptDirectory.from_config(alembic_config(db))
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == set(script.get_heads())


def schema_problem(db: Database) -> str | None:
    """Why `db` cannot be used yet, as one line that says what to do; None when it can.

    Never creates anything: a missing SQLite file is reported, not made.
    """
    if not db.exists():
        return f"no ropa database at {db.where}: run `ropa migrate` or set ROPA_DATABASE_URL"
    script = ScriptDirectory.from_config(alembic_config(db))
    try:
        with db.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc) else ""
        return (
            f"cannot open the database at {db.where} ({reason}): check ROPA_DATABASE_URL "
            "and that the database is running"
        )
    if not current:
        return f"the database at {db.where} has no ropa schema: run `ropa migrate`"
    if current != set(script.get_heads()):
        return (
            f"the database at {db.where} is at migration {', '.join(sorted(current))}, "
            f"not {', '.join(script.get_heads())}: run `ropa migrate`"
        )
    return None
