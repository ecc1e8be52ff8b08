"""asOf by interval: GiST indexes over each version's [valid_from, valid_to).

`reads.visible` answers a past view with `int8range(valid_from, valid_to) @> N - 1`:
`ix_<table>_valid` (org_id, range) finds an organisation's records at N, and
`ix_<table>_id_valid` (id, range) one record at N (a reference), each in one probe however
long the history. PostgreSQL only (btree_gist puts the uuid in the same GiST index);
SQLite keeps the (org_id, valid_to) and (org_id, valid_from) indexes.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

VERSIONED = (
    "organization",
    "privacy_policy",
    "processing_activity",
    "processor",
    "processor_engagement",
    "transfer",
    "breach_incident",
    "api_token",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table in VERSIONED:
        for name, column in (("valid", "org_id"), ("id_valid", "id")):
            op.execute(
                f"CREATE INDEX IF NOT EXISTS ix_{table}_{name} ON {table}"
                f" USING gist ({column}, int8range(valid_from, valid_to))"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in VERSIONED:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_valid")
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_id_valid")
