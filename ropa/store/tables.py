"""The database tables (SQLModel).

Record tables are *versioned*: each row is one version of one record, valid from the
ledger entry that wrote it (`valid_from`, a seq of the organisation's ledger) up to the
entry that replaced or deleted it (`valid_to`, exclusive; NULL while current). The live
database is the set of rows with `valid_to IS NULL`; the records as they stood after the
first N entries are the rows with `valid_from < N` and `valid_to` NULL or `>= N`. That is
how `asOf` is answered from indexes, without replaying the ledger.

A row's columns are the record's state (docs/data-model.md) in snake_case; `to_state`
gives the exact object the ledger stores. Instants are kept as their RFC 3339 text
(`2026-11-22T10:04:05.123456Z`, fixed width, so it sorts) and dates as `YYYY-MM-DD`, so
what is stored is byte for byte what is signed.

Ledger tables (`ledger_entry`, `ledger_node`, `ledger_checkpoint`) are append-only: the
migration installs triggers that refuse UPDATE and DELETE on them. So is `ledger_anchor`
(RFC 3161 timestamps of checkpoints): outside the ledger, yet never changed once written.
"""

from __future__ import annotations

import functools
import re
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, String, Text, text
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from ropa.domain.validation import name_key

# Native uuid on PostgreSQL, 36-character text on SQLite; Python sees str either way.
UUIDText = String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
JSONValue = JSON().with_variant(postgresql.JSONB(), "postgresql")
INSTANT_LEN = 27

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@functools.cache
def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def _json(**kw: Any) -> Any:
    return Field(sa_column=Column(JSONValue, nullable=kw.pop("nullable", False)), **kw)


def _uuid(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UUIDText, nullable=nullable, index=index))


def _instant(*, nullable: bool = True) -> Any:
    return Field(sa_column=Column(String(INSTANT_LEN), nullable=nullable))


def _date() -> Any:
    return Field(sa_column=Column(String(10), nullable=True))


class VersionedRecord(SQLModel):
    """Columns shared by every record table; subclasses list their state fields."""

    # the GraphQL / ledger type name, and the state's members in their documented order
    entity_type: ClassVar[str]
    state_fields: ClassVar[tuple[str, ...]]

    id: str = Field(primary_key=True, sa_type=UUIDText)
    valid_from: int = Field(primary_key=True)
    valid_to: int | None = Field(default=None, nullable=True)
    org_id: str = Field(sa_type=UUIDText)

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"id": self.id}
        for name in self.state_fields:
            state[name] = getattr(self, snake(name))
        return state

    @classmethod
    def row_values(cls, state: dict[str, Any]) -> dict[str, Any]:
        return {snake(name): state[name] for name in cls.state_fields}


def _version_indexes(table: str) -> tuple[Index, ...]:
    return (
        Index(f"ix_{table}_current", "org_id", "valid_to"),
        Index(f"ix_{table}_from", "org_id", "valid_from"),
        Index(f"ix_{table}_id_to", "id", "valid_to"),
        # asOf: the versions whose [valid_from, valid_to) holds an entry (reads.visible),
        # of an organisation and of one record; PostgreSQL only (GiST with btree_gist for
        # the uuid, migration 0007)
        Index(
            f"ix_{table}_valid",
            "org_id",
            text("int8range(valid_from, valid_to)"),
            postgresql_using="gist",
        ).ddl_if(dialect="postgresql"),
        Index(
            f"ix_{table}_id_valid",
            "id",
            text("int8range(valid_from, valid_to)"),
            postgresql_using="gist",
        ).ddl_if(dialect="postgresql"),
    )


def _current_unique(name: str, *cols: str, extra: str = "") -> Index:
    where = "valid_to IS NULL" + (f" AND {extra}" if extra else "")
    return Index(name, *cols, unique=True, sqlite_where=text(where), postgresql_where=text(where))


class Organization(VersionedRecord, table=True):
    __tablename__ = "organization"
    __table_args__ = (
        *_version_indexes("organization"),
        _current_unique("ux_organization_slug", "slug"),
    )
    entity_type: ClassVar[str] = "Organization"
    state_fields: ClassVar[tuple[str, ...]] = (
        "slug",
        "name",
        "roles",
        "country",
        "address",
        "contactEmail",
        "dpo",
        "euRepresentative",
    )

    slug: str = Field(max_length=63)
    name: str
    roles: list[str] = _json()
    country: str = Field(max_length=2)
    address: str | None = None
    contact_email: str | None = None
    dpo: dict[str, Any] | None = _json(nullable=True)
    eu_representative: dict[str, Any] | None = _json(nullable=True)


class PrivacyPolicy(VersionedRecord, table=True):
    __tablename__ = "privacy_policy"
    __table_args__ = (
        *_version_indexes("privacy_policy"),
        _current_unique("ux_privacy_policy_version", "org_id", "version"),
    )
    entity_type: ClassVar[str] = "PrivacyPolicy"
    state_fields: ClassVar[tuple[str, ...]] = (
        "version",
        "effectiveDate",
        "url",
        "sha256",
        "summary",
        "text",
        "textFormat",
        "analysis",
    )

    version: str
    effective_date: str | None = _date()
    url: str | None = None
    sha256: str | None = Field(default=None, max_length=64)
    summary: str | None = None
    # the notice's text and its analysis (Art. 13/14 disclosures), signed with the version
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    text_format: str | None = None
    analysis: dict[str, Any] | None = _json(nullable=True)


class ProcessingActivity(VersionedRecord, table=True):
    __tablename__ = "processing_activity"
    __table_args__ = _version_indexes("processing_activity")
    entity_type: ClassVar[str] = "ProcessingActivity"
    state_fields: ClassVar[tuple[str, ...]] = (
        "name",
        "description",
        "role",
        "controller",
        "jointControllers",
        "purposes",
        "dataUses",
        "dataSubjectCategories",
        "dataCategories",
        "specialCategories",
        "criminalOffenceData",
        "legalBases",
        "recipientCategories",
        "retention",
        "securityMeasures",
        "sources",
        "automatedDecisionMaking",
        "dpia",
        "systematicMonitoring",
        "largeScale",
        "status",
        "owner",
        "lastReviewedAt",
        "evidence",
    )

    name: str
    description: str | None = None
    role: str
    controller: dict[str, Any] | None = _json(nullable=True)
    joint_controllers: list[dict[str, Any]] = _json()
    purposes: list[str] = _json()
    data_uses: list[str] = _json()
    data_subject_categories: list[str] = _json()
    data_categories: list[str] = _json()
    special_categories: list[dict[str, Any]] = _json()
    criminal_offence_data: bool = False
    legal_bases: list[dict[str, Any]] = _json()
    recipient_categories: list[str] = _json()
    retention: dict[str, Any] | None = _json(nullable=True)
    security_measures: list[str] = _json()
    sources: list[str] = _json()
    automated_decision_making: dict[str, Any] | None = _json(nullable=True)
    dpia: dict[str, Any] | None = _json(nullable=True)  # null: not assessed
    systematic_monitoring: bool = False
    large_scale: bool = False
    status: str
    owner: str | None = None
    last_reviewed_at: str | None = _instant()
    evidence: dict[str, Any] | None = _json(nullable=True)  # drafted from a privacy notice


class Processor(VersionedRecord, table=True):
    __tablename__ = "processor"
    __table_args__ = (
        *_version_indexes("processor"),
        _current_unique(
            "ux_processor_external_ref",
            "org_id",
            "external_ref",
            extra="external_ref IS NOT NULL",
        ),
        # registerProcessor's duplicate check: one probe, however many vendors
        *(
            Index(
                f"ix_processor_{column}",
                "org_id",
                column,
                sqlite_where=text("valid_to IS NULL"),
                postgresql_where=text("valid_to IS NULL"),
            )
            for column in ("name_key", "legal_name_key")
        ),
    )
    entity_type: ClassVar[str] = "Processor"
    state_fields: ClassVar[tuple[str, ...]] = (
        "name",
        "legalName",
        "services",
        "country",
        "processingLocations",
        "dpaSignedOn",
        "dpaReference",
        "dpaDataCategories",
        "subProcessors",
        "certifications",
        "dpf",
        "status",
        "externalRef",
        "evidence",
    )

    name: str
    legal_name: str | None = None
    services: list[str] = _json()
    country: str = Field(max_length=2)
    processing_locations: list[str] = _json()
    dpa_signed_on: str | None = _date()
    dpa_reference: str | None = None
    dpa_data_categories: list[str] = _json()
    sub_processors: list[dict[str, Any]] = _json()
    certifications: list[str] = _json()
    dpf: bool = False
    status: str
    external_ref: str | None = None
    evidence: dict[str, Any] | None = _json(nullable=True)  # drafted from a privacy notice
    # not state: `name` and `legalName` as compared for duplicates (validation.name_key)
    name_key: str | None = None
    legal_name_key: str | None = None

    @classmethod
    def row_values(cls, state: dict[str, Any]) -> dict[str, Any]:
        values = super().row_values(state)
        values["name_key"] = name_key(state.get("name")) or None
        values["legal_name_key"] = name_key(state.get("legalName")) or None
        return values


class ProcessorEngagement(VersionedRecord, table=True):
    __tablename__ = "processor_engagement"
    __table_args__ = (
        *_version_indexes("processor_engagement"),
        Index("ix_processor_engagement_activity", "activity_id"),
        Index("ix_processor_engagement_processor", "processor_id"),
    )
    entity_type: ClassVar[str] = "ProcessorEngagement"
    state_fields: ClassVar[tuple[str, ...]] = (
        "activityId",
        "processorId",
        "purpose",
        "dataCategories",
        "locations",
    )

    activity_id: str = Field(sa_type=UUIDText)
    processor_id: str = Field(sa_type=UUIDText)
    purpose: str | None = None
    data_categories: list[str] = _json()
    locations: list[str] = _json()


class Transfer(VersionedRecord, table=True):
    __tablename__ = "transfer"
    __table_args__ = (
        *_version_indexes("transfer"),
        Index("ix_transfer_activity", "activity_id"),
        Index("ix_transfer_processor", "recipient_processor_id"),
    )
    entity_type: ClassVar[str] = "Transfer"
    state_fields: ClassVar[tuple[str, ...]] = (
        "activityId",
        "recipientProcessorId",
        "recipientName",
        "fromCountry",
        "toCountry",
        "mechanism",
        "sccModule",
        "derogation",
        "tia",
        "supplementaryMeasures",
        "startedOn",
        "evidence",
    )

    activity_id: str = Field(sa_type=UUIDText)
    recipient_processor_id: str | None = Field(default=None, sa_type=UUIDText)
    recipient_name: str | None = None
    from_country: str = Field(max_length=2)
    to_country: str = Field(max_length=2)
    mechanism: str | None = None
    scc_module: int | None = None
    derogation: str | None = None
    tia: dict[str, Any] | None = _json(nullable=True)
    supplementary_measures: list[str] = _json()
    started_on: str | None = _date()
    evidence: dict[str, Any] | None = _json(nullable=True)  # drafted from a privacy notice


class BreachIncident(VersionedRecord, table=True):
    __tablename__ = "breach_incident"
    __table_args__ = _version_indexes("breach_incident")
    entity_type: ClassVar[str] = "BreachIncident"
    state_fields: ClassVar[tuple[str, ...]] = (
        "title",
        "nature",
        "occurredAt",
        "discoveredAt",
        "containedAt",
        "dataSubjectCategories",
        "approxDataSubjects",
        "dataCategories",
        "approxRecords",
        "consequences",
        "measures",
        "risk",
        "authorityNotifications",
        "subjectCommunication",
        "subjectCommunicationExemption",
        "affectedActivityIds",
        "affectedProcessorIds",
        "status",
    )

    title: str
    nature: str | None = None
    occurred_at: str | None = _instant()
    discovered_at: str = _instant(nullable=False)
    contained_at: str | None = _instant()
    data_subject_categories: list[str] = _json()
    approx_data_subjects: int | None = None
    data_categories: list[str] = _json()
    approx_records: int | None = None
    consequences: str | None = None
    measures: str | None = None
    risk: str
    authority_notifications: list[dict[str, Any]] = _json()
    subject_communication: dict[str, Any] | None = _json(nullable=True)
    subject_communication_exemption: str | None = None
    affected_activity_ids: list[str] = _json()
    affected_processor_ids: list[str] = _json()
    status: str


class ApiToken(VersionedRecord, table=True):
    __tablename__ = "api_token"
    __table_args__ = (
        *_version_indexes("api_token"),
        _current_unique("ux_api_token_hash", "token_hash"),
    )
    entity_type: ClassVar[str] = "ApiToken"
    state_fields: ClassVar[tuple[str, ...]] = (
        "name",
        "role",
        "tokenHash",
        "createdAt",
        "expiresAt",
        "revokedAt",
    )

    name: str
    role: str
    token_hash: str = Field(max_length=64)
    created_at: str = _instant(nullable=False)
    expires_at: str | None = _instant()
    revoked_at: str | None = _instant()


RECORD_TABLES: tuple[type[VersionedRecord], ...] = (
    Organization,
    PrivacyPolicy,
    ProcessingActivity,
    Processor,
    ProcessorEngagement,
    Transfer,
    BreachIncident,
    ApiToken,
)
TABLE_BY_TYPE: dict[str, type[VersionedRecord]] = {t.entity_type: t for t in RECORD_TABLES}


# --- ledger -----------------------------------------------------------------------------


class LedgerHead(SQLModel, table=True):
    """One row per organisation: the lock writers take, and the tree's right edge.

    Not part of the proof: everything here can be recomputed from `ledger_entry`.
    """

    __tablename__ = "ledger_head"

    org_id: str = Field(primary_key=True, sa_type=UUIDText)
    origin: str
    size: int = 0
    frontier: list[str] = _json()  # hex hashes of the complete subtrees on the right edge
    root_hash: str = Field(max_length=64)
    checkpoint: str
    key_id: str = Field(max_length=8)  # the key in force for the next entry
    last_ts: str | None = _instant()


class LedgerEntry(SQLModel, table=True):
    """One signed entry; `canonical` holds the exact bytes that were hashed."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_entity", "org_id", "entity_id", "seq"),
        Index("ix_ledger_entry_ts", "org_id", "ts"),
    )

    org_id: str = Field(primary_key=True, sa_type=UUIDText)
    seq: int = Field(primary_key=True)
    ts: str = Field(max_length=INSTANT_LEN)
    op: str
    entity_type: str
    entity_id: str = Field(sa_type=UUIDText)
    canonical: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_id: str = Field(max_length=8)


class LedgerNode(SQLModel, table=True):
    """A complete subtree hash: level L, index i covers leaves [i*2^L, (i+1)*2^L)."""

    __tablename__ = "ledger_node"

    org_id: str = Field(primary_key=True, sa_type=UUIDText)
    level: int = Field(primary_key=True)
    idx: int = Field(primary_key=True)
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LedgerCheckpoint(SQLModel, table=True):
    """The signed checkpoint of every tree size a commit produced."""

    __tablename__ = "ledger_checkpoint"

    org_id: str = Field(primary_key=True, sa_type=UUIDText)
    size: int = Field(primary_key=True)
    ts: str = Field(max_length=INSTANT_LEN)
    note: str


class LedgerAnchor(SQLModel, table=True):
    """An RFC 3161 timestamp of one checkpoint by one TSA (LEDGER-SPEC §9), as received.

    Not a record and not ledgered: the documented exception, written only by
    `anchor_store.add_anchor`. It proves when the ledger existed, so it cannot be part of
    it; the database refuses UPDATE and DELETE on it, as on the ledger tables. One row per
    (organisation, tree size, TSA): a second stamp of the same is dropped, not stored.
    """

    __tablename__ = "ledger_anchor"

    org_id: str = Field(primary_key=True, sa_type=UUIDText)
    size: int = Field(primary_key=True)
    tsa: str = Field(primary_key=True, max_length=64)
    gen_time: str = _instant(nullable=False)  # the token's genTime, RFC 3339 UTC
    token: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # DER TimeStampResp
    created_at: str = _instant(nullable=False)


class SigningKeyRecord(SQLModel, table=True):
    """Public halves of the deployment's signing keys, in order of use. Never the private key."""

    __tablename__ = "signing_key"

    id: str = Field(primary_key=True, sa_type=UUIDText)
    name: str
    key_id: str = Field(max_length=8, unique=True)
    verifier_key: str
    previous_key_id: str | None = Field(default=None, max_length=8)
    created_at: str = _instant(nullable=False)


class TokenUsage(SQLModel, table=True):
    """When a token was last used: operational, so outside the ledger."""

    __tablename__ = "token_usage"

    token_id: str = Field(primary_key=True, sa_type=UUIDText)
    last_used_at: str = Field(max_length=INSTANT_LEN)


class IdempotencyKey(SQLModel, table=True):
    """A mutation request's `Idempotency-Key`, committed in the transaction of its change.

    Operational, outside the ledger: the change is in the ledger; this row only lets a
    retried request get the first answer instead of making a second change. `fingerprint`
    is the SHA-256 of the request (document, variables, operation name, token);
    `response` is the first answer's JSON, stored once it has been rendered.
    """

    __tablename__ = "idempotency_key"

    org_id: str = Field(primary_key=True, sa_type=UUIDText)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    receipts: list[dict[str, Any]] = _json()
    response: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status_code: int | None = Field(default=None, nullable=True)
    created_at: str = _instant(nullable=False)


class CheckpointCosignature(SQLModel, table=True):
    """A witness's cosignature line on one of the organisation's checkpoints (LEDGER-SPEC §9).

    Outside the ledger (it signs a checkpoint, it is not a change), written only by the
    witnessing job (ropa.services.witnessing) and append-only like the ledger tables: the
    migration's triggers refuse UPDATE and DELETE. `line` is the signed-note signature
    line as the witness sent it, newline included.
    """

    __tablename__ = "checkpoint_cosignature"

    org_id: str = Field(primary_key=True, sa_type=UUIDText)
    size: int = Field(primary_key=True)
    witness: str = Field(primary_key=True, max_length=255)
    key_id: str = Field(primary_key=True, max_length=8)
    line: str
    created_at: str = _instant(nullable=False)


class WitnessLog(SQLModel, table=True):
    """What `ropa witness serve` holds per log it witnesses: the latest cosigned checkpoint.

    Operational state of a witness (C2SP tlog-witness), not a ledgered record: one row per
    log origin, advanced only by a compare-and-swap on (size, root) so two requests can
    never both move it, and never moved back. A deployment that only logs leaves it empty.
    """

    __tablename__ = "witness_log"

    origin: str = Field(primary_key=True, max_length=1024)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))  # other logs are large
    root_hash: str = Field(max_length=64)
    updated_at: str = _instant(nullable=False)


LEDGER_TABLES = ("ledger_entry", "ledger_node", "ledger_checkpoint")
APPEND_ONLY_TABLES = (*LEDGER_TABLES, "ledger_anchor")
