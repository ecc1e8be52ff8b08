"""Alembic environment: migrations are the only way ropa's schema is made.

As in pypi/warehouse: one transaction per migration, lock and statement timeouts on
PostgreSQL, and an advisory lock so two instances starting together migrate once.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import ropa.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from ropa.store.database import Database

MIGRATION_LOCK = 0x726F7061  # "ropa"

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    """`-x url=...`, else ROPA_DATABASE_URL, else alembic.ini's."""
    given = context.get_x_argument(as_dictionary=True).get("url")
    return (
        given
        or os.environ.get("ROPA_DATABASE_URL")
        or config.get_main_option("sqlalchemy.url")
        or "sqlite:///ropa.db"
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        db = Database(_url())
        with db.engine.connect() as conn:
            _run(conn)
        db.dispose()
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    is_pg = connection.dialect.name == "postgresql"
    if is_pg:
        connection.execute(text("SET lock_timeout = '10s'"))
        connection.execute(text("SET statement_timeout = '300s'"))
        connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transaction_per_migration=True,
            render_as_batch=not is_pg,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if is_pg:
            connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
