"""Initial schema: versioned record tables, the ledger tables and the key registry.
Revision ID: 0001
Revises:
Create Date: 2026-11-23 17:41:31.179918
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "api_token",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=27), nullable=False),
        sa.Column("expires_at", sa.String(length=27), nullable=True),
        sa.Column("revoked_at", sa.String(length=27), nullable=True),
        sa.PrimaryKeyConstraint("id", "valid_from"),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index("ix_api_token_current", ["org_id", "valid_to"], unique=False)
        batch_op.create_index("ix_api_token_from", ["org_id", "valid_from"], unique=False)
        batch_op.create_index("ix_api_token_id_to", ["id", "valid_to"], unique=False)
        batch_op.create_index(
            "ux_api_token_hash",
            ["token_hash"],
            unique=True,
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )

    op.create_table(
        "breach_incident",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("nature", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("occurred_at", sa.String(length=27), nullable=True),
        sa.Column("discovered_at", sa.String(length=27), nullable=False),
        sa.Column("contained_at", sa.String(length=27), nullable=True),
        sa.Column(
            "data_subject_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("approx_data_subjects", sa.Integer(), nullable=True),
        sa.Column(
            "data_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("approx_records", sa.Integer(), nullable=True),
        sa.Column("consequences", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("measures", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("risk", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "authority_notifications",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "subject_communication",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "subject_communication_exemption", sqlmodel.sql.sqltypes.AutoString(), nullable=True
        ),
        sa.Column(
            "affected_activity_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "affected_processor_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id", "valid_from"),
    )
    with op.batch_alter_table("breach_incident", schema=None) as batch_op:
        batch_op.create_index("ix_breach_incident_current", ["org_id", "valid_to"], unique=False)
        batch_op.create_index("ix_breach_incident_from", ["org_id", "valid_from"], unique=False)
        batch_op.create_index("ix_breach_incident_id_to", ["id", "valid_to"], unique=False)

    op.create_table(
        "ledger_checkpoint",
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=27), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "size"),
    )
    op.create_table(
        "ledger_entry",
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=27), nullable=False),
        sa.Column("op", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "entity_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "seq"),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entry_entity", ["org_id", "entity_id", "seq"], unique=False
        )
        batch_op.create_index("ix_ledger_entry_ts", ["org_id", "ts"], unique=False)

    op.create_table(
        "ledger_head",
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "frontier",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("root_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("checkpoint", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("last_ts", sa.String(length=27), nullable=True),
        sa.PrimaryKeyConstraint("org_id"),
    )
    op.create_table(
        "ledger_node",
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "level", "idx"),
    )
    op.create_table(
        "organization",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "roles",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "dpo",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "eu_representative",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", "valid_from"),
    )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.create_index("ix_organization_current", ["org_id", "valid_to"], unique=False)
        batch_op.create_index("ix_organization_from", ["org_id", "valid_from"], unique=False)
        batch_op.create_index("ix_organization_id_to", ["id", "valid_to"], unique=False)
        batch_op.create_index(
            "ux_organization_slug",
            ["slug"],
            unique=True,
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )

    op.create_table(
        "privacy_policy",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("effective_date", sa.String(length=10), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id", "valid_from"),
    )
    with op.batch_alter_table("privacy_policy", schema=None) as batch_op:
        batch_op.create_index("ix_privacy_policy_current", ["org_id", "valid_to"], unique=False)
        batch_op.create_index("ix_privacy_policy_from", ["org_id", "valid_from"], unique=False)
        batch_op.create_index("ix_privacy_policy_id_to", ["id", "valid_to"], unique=False)
        batch_op.create_index(
            "ux_privacy_policy_version",
            ["org_id", "version"],
            unique=True,
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )

    op.create_table(
        "processing_activity",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "controller",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "joint_controllers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "purposes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "data_uses",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "data_subject_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "data_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "special_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("criminal_offence_data", sa.Boolean(), nullable=False),
        sa.Column(
            "legal_bases",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "recipient_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "retention",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "security_measures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "sources",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "automated_decision_making",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "dpia",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("systematic_monitoring", sa.Boolean(), nullable=False),
        sa.Column("large_scale", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_reviewed_at", sa.String(length=27), nullable=True),
        sa.PrimaryKeyConstraint("id", "valid_from"),
    )
    with op.batch_alter_table("processing_activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_processing_activity_current", ["org_id", "valid_to"], unique=False
        )
        batch_op.create_index("ix_processing_activity_from", ["org_id", "valid_from"], unique=False)
        batch_op.create_index("ix_processing_activity_id_to", ["id", "valid_to"], unique=False)

    op.create_table(
        "processor",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("legal_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "services",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column(
            "processing_locations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("dpa_signed_on", sa.String(length=10), nullable=True),
        sa.Column("dpa_reference", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "dpa_data_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "sub_processors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "certifications",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("dpf", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("external_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id", "valid_from"),
    )
    with op.batch_alter_table("processor", schema=None) as batch_op:
        batch_op.create_index("ix_processor_current", ["org_id", "valid_to"], unique=False)
        batch_op.create_index("ix_processor_from", ["org_id", "valid_from"], unique=False)
        batch_op.create_index("ix_processor_id_to", ["id", "valid_to"], unique=False)
        batch_op.create_index(
            "ux_processor_external_ref",
            ["org_id", "external_ref"],
            unique=True,
            sqlite_where=sa.text("valid_to IS NULL AND external_ref IS NOT NULL"),
            postgresql_where=sa.text("valid_to IS NULL AND external_ref IS NOT NULL"),
        )

    op.create_table(
        "processor_engagement",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "activity_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "processor_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "data_categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "locations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", "valid_from"),
    )
    with op.batch_alter_table("processor_engagement", schema=None) as batch_op:
        batch_op.create_index("ix_processor_engagement_activity", ["activity_id"], unique=False)
        batch_op.create_index(
            "ix_processor_engagement_current", ["org_id", "valid_to"], unique=False
        )
        batch_op.create_index(
            "ix_processor_engagement_from", ["org_id", "valid_from"], unique=False
        )
        batch_op.create_index("ix_processor_engagement_id_to", ["id", "valid_to"], unique=False)
        batch_op.create_index("ix_processor_engagement_processor", ["processor_id"], unique=False)

    op.create_table(
        "signing_key",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("verifier_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("previous_key_id", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("created_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_id"),
    )
    op.create_table(
        "token_usage",
        sa.Column(
            "token_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.AutoString(length=27), nullable=False),
        sa.PrimaryKeyConstraint("token_id"),
    )
    op.create_table(
        "transfer",
        sa.Column(
            "id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column(
            "org_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "activity_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "recipient_processor_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=True,
        ),
        sa.Column("recipient_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("from_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("to_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("mechanism", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("scc_module", sa.Integer(), nullable=True),
        sa.Column("derogation", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "tia",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "supplementary_measures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("started_on", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id", "valid_from"),
    )
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.create_index("ix_transfer_activity", ["activity_id"], unique=False)
        batch_op.create_index("ix_transfer_current", ["org_id", "valid_to"], unique=False)
        batch_op.create_index("ix_transfer_from", ["org_id", "valid_from"], unique=False)
        batch_op.create_index("ix_transfer_id_to", ["id", "valid_to"], unique=False)
        batch_op.create_index("ix_transfer_processor", ["recipient_processor_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.drop_index("ix_transfer_processor")
        batch_op.drop_index("ix_transfer_id_to")
        batch_op.drop_index("ix_transfer_from")
        batch_op.drop_index("ix_transfer_current")
        batch_op.drop_index("ix_transfer_activity")

    op.drop_table("transfer")
    op.drop_table("token_usage")
    op.drop_table("signing_key")
    with op.batch_alter_table("processor_engagement", schema=None) as batch_op:
        batch_op.drop_index("ix_processor_engagement_processor")
        batch_op.drop_index("ix_processor_engagement_id_to")
        batch_op.drop_index("ix_processor_engagement_from")
        batch_op.drop_index("ix_processor_engagement_current")
        batch_op.drop_index("ix_processor_engagement_activity")

    op.drop_table("processor_engagement")
    with op.batch_alter_table("processor", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_processor_external_ref",
            sqlite_where=sa.text("valid_to IS NULL AND external_ref IS NOT NULL"),
            postgresql_where=sa.text("valid_to IS NULL AND external_ref IS NOT NULL"),
        )
        batch_op.drop_index("ix_processor_id_to")
        batch_op.drop_index("ix_processor_from")
        batch_op.drop_index("ix_processor_current")

    op.drop_table("processor")
    with op.batch_alter_table("processing_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_processing_activity_id_to")
        batch_op.drop_index("ix_processing_activity_from")
        batch_op.drop_index("ix_processing_activity_current")

    op.drop_table("processing_activity")
    with op.batch_alter_table("privacy_policy", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_privacy_policy_version",
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )
        batch_op.drop_index("ix_privacy_policy_id_to")
        batch_op.drop_index("ix_privacy_policy_from")
        batch_op.drop_index("ix_privacy_policy_current")

    op.drop_table("privacy_policy")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_organization_slug",
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )
        batch_op.drop_index("ix_organization_id_to")
        batch_op.drop_index("ix_organization_from")
        batch_op.drop_index("ix_organization_current")

    op.drop_table("organization")
    op.drop_table("ledger_node")
    op.drop_table("ledger_head")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entry_ts")
        batch_op.drop_index("ix_ledger_entry_entity")

    op.drop_table("ledger_entry")
    op.drop_table("ledger_checkpoint")
    with op.batch_alter_table("breach_incident", schema=None) as batch_op:
        batch_op.drop_index("ix_breach_incident_id_to")
        batch_op.drop_index("ix_breach_incident_from")
        batch_op.drop_index("ix_breach_incident_current")

    op.drop_table("breach_incident")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_api_token_hash",
            sqlite_where=sa.text("valid_to IS NULL"),
            postgresql_where=sa.text("valid_to IS NULL"),
        )
        batch_op.drop_index("ix_api_token_id_to")
        batch_op.drop_index("ix_api_token_from")
        batch_op.drop_index("ix_api_token_current")

    op.drop_table("api_token")
