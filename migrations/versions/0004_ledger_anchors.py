"""RFC 3161 anchors of checkpoints (LEDGER-SPEC §9): one append-only row per token.

`ledger_anchor` is outside the ledger (it proves the ledger's age, so it cannot be in it)
but, like the ledger tables, the database refuses UPDATE, DELETE and TRUNCATE on it
(the triggers of 0002, with the same function on PostgreSQL).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "ledger_anchor"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("tsa", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("gen_time", sa.String(length=27), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "size", "tsa"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # ropa_refuse_ledger_change() is 0002's
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION ropa_refuse_ledger_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ropa_refuse_ledger_change()"
        )
        op.execute(f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {TABLE}_append_only")
        op.execute(f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {TABLE}_no_truncate")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, 'ropa: {TABLE} is append-only; "
                f"{action} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{action}")
    op.drop_table(TABLE)
