"""Processor name keys: registerProcessor's duplicate check in one indexed look-up.

Every processor version stores `name` and `legalName` as compared for duplicates
(`validation.name_key`: case, spacing and punctuation ignored) in `name_key` and
`legal_name_key`, which are not part of the record's state (nor of its ledger entries).
Partial indexes over the current versions answer "is a live processor of this
organisation already called this?" in one probe. The keys of existing versions are
computed here, in Python, with the same function as the write path.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ropa.domain.validation import name_key

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ("name_key", "legal_name_key")


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("processor", sa.Column(column, sa.String(), nullable=True))
    bind = op.get_bind()
    processor = sa.table(
        "processor",
        sa.column("id"), sa.column("valid_from"), sa.column("name"),
        sa.column("legal_name"), sa.column("name_key"), sa.column("legal_name_key"),
    )
    rows = bind.execute(
        sa.select(processor.c.id, processor.c.valid_from, processor.c.name,
                  processor.c.legal_name)
    ).all()
    if rows:
        bind.execute(
            processor.update()
            .where(processor.c.id == sa.bindparam("b_id"),
                   processor.c.valid_from == sa.bindparam("b_from"))
            .values(name_key=sa.bindparam("b_name"), legal_name_key=sa.bindparam("b_legal")),
            [
                {"b_id": r.id, "b_from": r.valid_from, "b_name": name_key(r.name) or None,
                 "b_legal": name_key(r.legal_name) or None}
                for r in rows
            ],
        )
    for column in COLUMNS:
        op.create_index(
            f"ix_processor_{column}", "processor", ["org_id", column],
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_processor_{column}", table_name="processor")
    for column in COLUMNS:
        op.drop_column("processor", column)
