"""Witnesses (LEDGER-SPEC §9, C2SP tlog-witness): cosignatures a log received, and the
state a witness keeps.

- `checkpoint_cosignature`: a witness's cosignature line on one of an organisation's
  checkpoints. Append-only: UPDATE and DELETE are refused by triggers, as on the ledger
  tables (0002).
- `witness_log`: what `ropa witness serve` last cosigned per log origin. Operational,
  outside the ledger; advanced by compare-and-swap.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UUID = sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql")


def upgrade() -> None:
    op.create_table(
        "checkpoint_cosignature",
        sa.Column("org_id", _UUID, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("witness", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("line", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "size", "witness", "key_id"),
    )
    op.create_table(
        "witness_log",
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("origin"),
    )
    table = "checkpoint_cosignature"
    if op.get_bind().dialect.name == "postgresql":
        # ropa_refuse_ledger_change() is 0002's
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ropa_refuse_ledger_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ropa_refuse_ledger_change()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ropa: {table} is append-only; "
                f"{action} refused'); END"
            )


def downgrade() -> None:
    op.drop_table("witness_log")
    op.drop_table("checkpoint_cosignature")
