"""Privacy notices keep their text and its analysis; records drafted from one, their evidence.

`privacy_policy` gains `text`, `text_format` and `analysis` (Art. 13/14 disclosures);
`processing_activity`, `processor` and `transfer` gain `evidence` (the notice and spans a
draft was made from). All nullable: versions and records written before keep their state.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("privacy_policy") as batch:
        batch.add_column(sa.Column("text", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("text_format", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch.add_column(sa.Column("analysis", _json(), nullable=True))
    for table in ("processing_activity", "processor", "transfer"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("evidence", _json(), nullable=True))


def downgrade() -> None:
    for table in ("transfer", "processor", "processing_activity"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("evidence")
    with op.batch_alter_table("privacy_policy") as batch:
        batch.drop_column("analysis")
        batch.drop_column("text_format")
        batch.drop_column("text")
