"""Idempotency keys of mutation requests: a retried request gets the first answer.

Outside the ledger (the change itself is in the ledger); written in the same transaction
as the change it belongs to, so neither can exist without the other.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "receipts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_key")
