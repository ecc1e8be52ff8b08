"""GraphQL object types of the records, built from their states (docs/data-model.md).

Plain fields are plain attributes (no resolver per scalar); only relations resolve, through
the request's DataLoaders, in the view (organisation and ledger size) the parent was read
in, so every field under `organization(asOf:)` answers as of that instant.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar, cast

import strawberry
from strawberry import Private
from strawberry.scalars import JSON
from strawberry.types import Info

from ropa.api import enums
from ropa.api.context import Context
from ropa.api.ids import to_global_id
from ropa.api.inputs import instant
from ropa.api.notice_types import DisclosedThirdParty, NoticeEvidence, record_evidence, spans_of
from ropa.domain import breach as breach_rules
from ropa.domain import findings as finding_rules
from ropa.errors import FieldError, ValidationError
from ropa.services import anchors as anchor_service
from ropa.services import changes_report, ledger_queries, reads
from ropa.services import findings as findings_service
from ropa.services import tokens as token_service
from ropa.services.reads import View

T = TypeVar("T")


def _snake(name: str) -> str:
    out = []
    for ch in name:
        out.append("_" + ch.lower() if ch.isupper() else ch)
    return "".join(out)


def build(cls: type[T], state: dict[str, Any] | None, **extra: Any) -> T | None:
    """An instance of strawberry type `cls` from a camelCase dict (None stays None)."""
    if state is None:
        return None
    names = cls.__annotations__
    values = {}
    for key, value in state.items():
        attr = _snake(key)
        if attr in names:
            values[attr] = value
    values.update(extra)
    return cls(**values)


def _json(value: dict[str, Any] | None) -> JSON | None:
    return None if value is None else cast(JSON, value)


def _moment(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@strawberry.interface(description="An object with a global ID (Relay).")
class Node:
    id: strawberry.ID


# --- small value types -----------------------------------------------------------------


@strawberry.type(description="The data protection officer (Art. 37-39).")
class Dpo:
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@strawberry.type(description="The representative in the Union (Art. 27).")
class EuRepresentative:
    name: str | None = None
    email: str | None = None
    address: str | None = None
    country: str | None = None


@strawberry.type(description="A controller named in a record: a client, or a joint controller.")
class Party:
    name: str | None = None
    contact: str | None = None
    country: str | None = None


@strawberry.type(description="A lawful basis of Art. 6(1) and the purpose it covers.")
class LegalBasis:
    article: enums.LegalBasisArticle
    purpose: str | None = None
    lia: str | None = strawberry.field(
        default=None, description="Legitimate-interest assessment reference (Art. 6(1)(f))."
    )
    consent_mechanism: str | None = strawberry.field(
        default=None, description="How consent is collected and withdrawn (Art. 6(1)(a), 7)."
    )


@strawberry.type(description="Special-category data (Art. 9(1)) and its Art. 9(2) condition.")
class SpecialCategoryUse:
    category: enums.SpecialCategory
    condition: enums.Art9Condition | None = None


@strawberry.type(description="How long data is kept (Art. 30(1)(f)).")
class Retention:
    period: str | None = strawberry.field(default=None, description="ISO 8601 duration.")
    trigger: str | None = None


@strawberry.type(description="Automated decision-making, including profiling (Art. 22).")
class AutomatedDecisionMaking:
    description: str | None = None
    legal_effect: bool = False


@strawberry.type(description="Data protection impact assessment (Art. 35).")
class Dpia:
    status: enums.DpiaStatus
    date: str | None = None
    reference: str | None = None


@strawberry.type
class SubProcessor:
    name: str | None = None
    country: str | None = None
    service: str | None = None


@strawberry.type(description="Transfer impact assessment.")
class TransferImpactAssessment:
    date: str | None = None
    reference: str | None = None


@strawberry.type(description="A notification to the supervisory authority (Art. 33).")
class AuthorityNotification:
    authority: str | None = None
    notified_at: datetime | None = None
    reference: str | None = None
    phase: enums.NotificationPhase = enums.NotificationPhase.INITIAL
    delay_reasons: str | None = None


@strawberry.type(description="The communication to data subjects (Art. 34).")
class SubjectCommunication:
    notified_at: datetime | None = None
    channel: str | None = None


def _build_all(cls: type[T], items: list[dict[str, Any]] | None) -> list[T]:
    return [x for x in (build(cls, i) for i in items or []) if x is not None]


# --- records -----------------------------------------------------------------------------


@strawberry.type(description="A computed compliance finding; never stored.")
class Finding:
    code: str
    severity: str
    entity_type: str
    entity_id: strawberry.ID
    message: str
    evidence: NoticeEvidence | None = strawberry.field(
        description="The privacy-notice version and passages the finding cites, if any."
    )
    related_record_ids: list[strawberry.ID] = strawberry.field(
        description="Other records the finding concerns."
    )
    ledger_seqs: list[int] = strawberry.field(
        description="Ledger entries (seq) that show the changes the finding is about."
    )

    @classmethod
    def of(cls, f: finding_rules.Finding) -> Finding:
        return cls(
            code=f.code,
            severity=str(f.severity),
            entity_type=f.entity_type,
            entity_id=strawberry.ID(to_global_id(f.entity_type, f.entity_id)),
            message=f.message,
            evidence=NoticeEvidence.of_finding(f.evidence) if f.evidence else None,
            related_record_ids=[strawberry.ID(to_global_id(t, i)) for t, i in f.related],
            ledger_seqs=list(f.seqs),
        )


async def findings_in(info: Info[Context, None], view: View) -> list[finding_rules.Finding]:
    """The organisation's findings in `view`, computed once per request and view.

    Sibling resolvers run concurrently, so the memo holds the computation itself: the first
    record to ask starts it and every other one awaits the same result.
    """
    key = ("findings", view)
    task = info.context.memo.get(key)
    if task is None:
        task = asyncio.ensure_future(
            info.context.in_thread(
                findings_service.findings, info.context.runtime, info.context.principal, view
            )
        )
        info.context.memo[key] = task
    found: list[finding_rules.Finding] = await task
    return found


async def findings_about(
    info: Info[Context, None], view: View, entity_type: str, record_id: str
) -> list[Finding]:
    found = await findings_in(info, view)
    return [
        Finding.of(f) for f in found if f.entity_type == entity_type and f.entity_id == record_id
    ]


_RECORD_FINDINGS = "The organisation's findings about this record, as of the view's instant."
_SOURCE_EVIDENCE = "The privacy-notice passages this record was drafted from (null: not drafted)."


@strawberry.type(description="A version of the public privacy notice (Art. 13, 14).")
class PrivacyPolicy(Node):
    version: str
    effective_date: str | None
    url: str | None
    sha256: str | None = strawberry.field(description="SHA-256 of the text's UTF-8.")
    summary: str | None
    text: str | None = strawberry.field(description="The notice's text, as published.")
    text_format: enums.TextFormat | None
    analysis: JSON | None = strawberry.field(
        description="What the text discloses: third parties, countries, regions, data "
        "categories and uses, legal bases, transfer mechanisms, retention, contacts; each "
        "with its [start, end) code-point spans."
    )
    record_id: Private[str]
    view: Private[View]

    @classmethod
    def of(cls, state: dict[str, Any], view: View) -> PrivacyPolicy:
        return build(  # type: ignore[return-value]
            cls,
            {**state, "analysis": _json(state.get("analysis"))},
            id=to_global_id("PrivacyPolicy", state["id"]),
            record_id=state["id"],
            view=view,
        )

    @strawberry.field(description="The third parties the text names.")
    def third_parties(self) -> list[DisclosedThirdParty]:
        found = cast(dict[str, Any], self.analysis or {}).get("thirdParties") or []
        return [
            DisclosedThirdParty(
                name=p["name"], canonical=p.get("canonical"), spans=spans_of(self.text, p["spans"])
            )
            for p in found
        ]

    @strawberry.field(description="The countries the text names (ISO 3166-1 alpha-2).")
    def disclosed_countries(self) -> list[str]:
        found = cast(dict[str, Any], self.analysis or {}).get("countries") or []
        return [str(c["code"]) for c in found]

    @strawberry.field(description=_RECORD_FINDINGS)
    async def findings(self, info: Info[Context, None]) -> list[Finding]:
        return await findings_about(info, self.view, "PrivacyPolicy", self.record_id)


@strawberry.type(description="A vendor that processes personal data on the organisation's behalf.")
class Processor(Node):
    name: str
    legal_name: str | None
    services: list[str]
    country: str
    processing_locations: list[str]
    dpa_signed_on: str | None
    dpa_reference: str | None
    dpa_data_categories: list[str]
    sub_processors: list[SubProcessor]
    certifications: list[str]
    dpf: bool = strawberry.field(description="Certified under the EU-US Data Privacy Framework.")
    status: enums.ProcessorStatus
    external_ref: str | None
    evidence: Private[dict[str, Any] | None]
    record_id: Private[str]
    view: Private[View]

    @classmethod
    def of(cls, state: dict[str, Any], view: View) -> Processor:
        return build(  # type: ignore[return-value]
            cls,
            {**state, "subProcessors": _build_all(SubProcessor, state["subProcessors"])},
            id=to_global_id("Processor", state["id"]),
            record_id=state["id"],
            view=view,
        )

    @strawberry.field(description="Engagements of this processor in activities.")
    async def engagements(self, info: Info[Context, None]) -> list[ProcessorEngagement]:
        rows = await info.context.records_by_parent(
            self.view, "ProcessorEngagement", "processorId"
        ).load(self.record_id)
        return [ProcessorEngagement.of(s, self.view) for s in rows]

    @strawberry.field(description=_RECORD_FINDINGS)
    async def findings(self, info: Info[Context, None]) -> list[Finding]:
        return await findings_about(info, self.view, "Processor", self.record_id)

    @strawberry.field(description=_SOURCE_EVIDENCE)
    async def source_evidence(self, info: Info[Context, None]) -> NoticeEvidence | None:
        return await record_evidence(info, self.view, self.evidence)


@strawberry.type(description="An activity uses a processor, for a purpose, with these data.")
class ProcessorEngagement(Node):
    purpose: str | None
    data_categories: list[str]
    locations: list[str]
    activity_id: Private[str]
    processor_id: Private[str]
    view: Private[View]

    @classmethod
    def of(cls, state: dict[str, Any], view: View) -> ProcessorEngagement:
        return build(  # type: ignore[return-value]
            cls, state, id=to_global_id("ProcessorEngagement", state["id"]), view=view
        )

    @strawberry.field
    async def processor(self, info: Info[Context, None]) -> Processor | None:
        s = await info.context.records_by_id(self.view, "Processor").load(self.processor_id)
        return Processor.of(s, self.view) if s else None

    @strawberry.field
    async def activity(self, info: Info[Context, None]) -> ProcessingActivity | None:
        s = await info.context.records_by_id(self.view, "ProcessingActivity").load(self.activity_id)
        return ProcessingActivity.of(s, self.view) if s else None


@strawberry.type(description="A transfer of personal data to a third country (Chapter V).")
class Transfer(Node):
    recipient_name: str | None
    from_country: str
    to_country: str
    mechanism: enums.TransferMechanism | None
    scc_module: int | None
    derogation: enums.Art49Derogation | None
    tia: TransferImpactAssessment | None
    supplementary_measures: list[str]
    started_on: str | None
    evidence: Private[dict[str, Any] | None]
    activity_id: Private[str]
    recipient_processor_id: Private[str | None]
    record_id: Private[str]
    view: Private[View]

    @classmethod
    def of(cls, state: dict[str, Any], view: View) -> Transfer:
        return build(  # type: ignore[return-value]
            cls,
            {**state, "tia": build(TransferImpactAssessment, state["tia"])},
            id=to_global_id("Transfer", state["id"]),
            record_id=state["id"],
            view=view,
        )

    @strawberry.field(description=_RECORD_FINDINGS)
    async def findings(self, info: Info[Context, None]) -> list[Finding]:
        return await findings_about(info, self.view, "Transfer", self.record_id)

    @strawberry.field(description=_SOURCE_EVIDENCE)
    async def source_evidence(self, info: Info[Context, None]) -> NoticeEvidence | None:
        return await record_evidence(info, self.view, self.evidence)

    @strawberry.field
    async def recipient_processor(self, info: Info[Context, None]) -> Processor | None:
        if not self.recipient_processor_id:
            return None
        s = await info.context.records_by_id(self.view, "Processor").load(
            self.recipient_processor_id
        )
        return Processor.of(s, self.view) if s else None

    @strawberry.field
    async def activity(self, info: Info[Context, None]) -> ProcessingActivity | None:
        s = await info.context.records_by_id(self.view, "ProcessingActivity").load(self.activity_id)
        return ProcessingActivity.of(s, self.view) if s else None


@strawberry.type(description="A processing activity: one entry of the Art. 30 record.")
class ProcessingActivity(Node):
    name: str
    description: str | None
    role: enums.ActivityRole
    controller: Party | None
    joint_controllers: list[Party]
    purposes: list[str]
    data_uses: list[str]
    data_subject_categories: list[str]
    data_categories: list[str]
    special_categories: list[SpecialCategoryUse]
    criminal_offence_data: bool
    legal_bases: list[LegalBasis]
    recipient_categories: list[str]
    retention: Retention | None
    security_measures: list[str]
    sources: list[enums.DataSource]
    automated_decision_making: AutomatedDecisionMaking | None
    dpia: Dpia | None = strawberry.field(default=None, description="null: not assessed.")
    systematic_monitoring: bool
    large_scale: bool
    status: enums.ActivityStatus
    owner: str | None
    last_reviewed_at: datetime | None
    evidence: Private[dict[str, Any] | None]
    record_id: Private[str]
    view: Private[View]

    @classmethod
    def of(cls, state: dict[str, Any], view: View) -> ProcessingActivity:
        return build(  # type: ignore[return-value]
            cls,
            {
                **state,
                "controller": build(Party, state["controller"]),
                "jointControllers": _build_all(Party, state["jointControllers"]),
                "specialCategories": _build_all(SpecialCategoryUse, state["specialCategories"]),
                "legalBases": _build_all(LegalBasis, state["legalBases"]),
                "retention": build(Retention, state["retention"]),
                "automatedDecisionMaking": build(
                    AutomatedDecisionMaking, state["automatedDecisionMaking"]
                ),
                "dpia": build(Dpia, state["dpia"]),
                "lastReviewedAt": _instant(state["lastReviewedAt"]),
            },
            id=to_global_id("ProcessingActivity", state["id"]),
            record_id=state["id"],
            view=view,
        )

    @strawberry.field(description="Processors engaged in this activity (Art. 30(1)(d)).")
    async def engagements(self, info: Info[Context, None]) -> list[ProcessorEngagement]:
        rows = await info.context.records_by_parent(
            self.view, "ProcessorEngagement", "activityId"
        ).load(self.record_id)
        return [ProcessorEngagement.of(s, self.view) for s in rows]

    @strawberry.field(description="Transfers to third countries (Art. 30(1)(e)).")
    async def transfers(self, info: Info[Context, None]) -> list[Transfer]:
        rows = await info.context.records_by_parent(self.view, "Transfer", "activityId").load(
            self.record_id
        )
        return [Transfer.of(s, self.view) for s in rows]

    @strawberry.field(description=_RECORD_FINDINGS)
    async def findings(self, info: Info[Context, None]) -> list[Finding]:
        return await findings_about(info, self.view, "ProcessingActivity", self.record_id)

    @strawberry.field(description=_SOURCE_EVIDENCE)
    async def source_evidence(self, info: Info[Context, None]) -> NoticeEvidence | None:
        return await record_evidence(info, self.view, self.evidence)


@strawberry.type(description="A personal-data breach (Art. 33, 34).")
class BreachIncident(Node):
    title: str
    nature: str | None
    occurred_at: datetime | None
    discovered_at: datetime = strawberry.field(
        description="When the organisation became aware: starts the 72-hour clock."
    )
    contained_at: datetime | None
    data_subject_categories: list[str]
    approx_data_subjects: int | None
    data_categories: list[str]
    approx_records: int | None
    consequences: str | None
    measures: str | None
    risk: enums.BreachRisk
    authority_notifications: list[AuthorityNotification]
    subject_communication: SubjectCommunication | None
    subject_communication_exemption: enums.Art34Exemption | None
    status: enums.BreachStatus
    notification_deadline: datetime = strawberry.field(
        description="discoveredAt + 72 hours (Art. 33(1))."
    )
    overdue: bool = strawberry.field(
        description="Past the deadline with no notification and no reasons for delay."
    )
    affected_activity_ids: Private[list[str]]
    affected_processor_ids: Private[list[str]]
    record_id: Private[str]
    view: Private[View]

    @classmethod
    def of(cls, state: dict[str, Any], view: View) -> BreachIncident:
        discovered = _instant(state["discoveredAt"])
        assert discovered is not None
        at = _instant(view.as_of) if view.as_of else datetime.now(UTC)
        notifications = [
            build(AuthorityNotification, {**n, "notifiedAt": _instant(n.get("notifiedAt"))})
            for n in state["authorityNotifications"]
        ]
        communication = state["subjectCommunication"]
        return build(  # type: ignore[return-value]
            cls,
            {
                **state,
                "occurredAt": _instant(state["occurredAt"]),
                "discoveredAt": discovered,
                "containedAt": _instant(state["containedAt"]),
                "authorityNotifications": notifications,
                "subjectCommunication": build(
                    SubjectCommunication,
                    {**communication, "notifiedAt": _instant(communication.get("notifiedAt"))},
                )
                if communication
                else None,
            },
            id=to_global_id("BreachIncident", state["id"]),
            notification_deadline=breach_rules.notification_deadline(discovered),
            overdue=breach_rules.is_overdue(state, at or datetime.now(UTC)),
            record_id=state["id"],
            view=view,
        )

    @strawberry.field
    async def affected_activities(self, info: Info[Context, None]) -> list[ProcessingActivity]:
        loader = info.context.records_by_id(self.view, "ProcessingActivity")
        found = await loader.load_many(self.affected_activity_ids)
        return [ProcessingActivity.of(s, self.view) for s in found if s]

    @strawberry.field
    async def affected_processors(self, info: Info[Context, None]) -> list[Processor]:
        loader = info.context.records_by_id(self.view, "Processor")
        found = await loader.load_many(self.affected_processor_ids)
        return [Processor.of(s, self.view) for s in found if s]

    @strawberry.field(description=_RECORD_FINDINGS)
    async def findings(self, info: Info[Context, None]) -> list[Finding]:
        return await findings_about(info, self.view, "BreachIncident", self.record_id)


# --- connections -------------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @staticmethod
    def of(page: reads.Page, make: Any, view: View) -> Connection[Any]:
        edges = [
            Edge(cursor=c, node=make(s, view))
            for s, c in zip(page.states, page.cursors, strict=True)
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            total_count=page.total,
        )


@strawberry.input(description="Filters a DPO dashboard applies to activities.")
class ProcessingActivityFilter:
    status: enums.ActivityStatus | None = None
    role: enums.ActivityRole | None = None
    processor_id: strawberry.ID | None = None
    data_category: str | None = None
    search: str | None = strawberry.field(default=None, description="Part of the name.")


@strawberry.input
class ProcessorFilter:
    status: enums.ProcessorStatus | None = None
    country: str | None = None
    dpf: bool | None = None
    search: str | None = None


@strawberry.input
class TransferFilter:
    to_country: str | None = None
    mechanism: enums.TransferMechanism | None = None


@strawberry.input
class BreachFilter:
    status: enums.BreachStatus | None = None
    risk: enums.BreachRisk | None = None


def _filter_dict(flt: Any, id_fields: dict[str, str] | None = None) -> dict[str, Any]:
    from ropa.api.ids import record_id

    if flt is None:
        return {}
    out: dict[str, Any] = {}
    for attr, value in vars(flt).items():
        if value is None:
            continue
        camel = attr.split("_")[0] + "".join(p.title() for p in attr.split("_")[1:])
        if id_fields and camel in id_fields:
            value = record_id(value, id_fields[camel], f"filter.{camel}")
        out[camel] = value.value if hasattr(value, "value") else value
    return out


# --- what changed ---------------------------------------------------------------------------


@strawberry.type(description="One field that differs between two states of a record.")
class FieldChange:
    field: str = strawberry.field(description="Nested objects by dotted path: retention.period.")
    before: strawberry.scalars.JSON | None
    after: strawberry.scalars.JSON | None

    @classmethod
    def all(cls, changes: list[changes_report.FieldChange]) -> list[FieldChange]:
        return [cls(field=c.field, before=c.before, after=c.after) for c in changes]


@strawberry.type(
    description="One ledger entry of a record: prove it with ledger.inclusionProof(seq:)."
)
class RecordChangeEntry:
    seq: int
    ts: datetime
    op: str
    actor_id: str
    actor_role: str
    leaf_hash: str = strawberry.field(description="Hex RFC 9162 leaf hash of the entry.")
    fields: list[FieldChange] = strawberry.field(description="What this entry changed.")


@strawberry.type(description="Every change to one record between two instants.")
class RecordChange:
    entity_type: str
    entity_id: strawberry.ID
    name: str | None = strawberry.field(description="What a DPO knows the record by.")
    before: strawberry.scalars.JSON | None = strawberry.field(
        description="The record as it stood at `from` (null: it did not exist yet)."
    )
    after: strawberry.scalars.JSON | None = strawberry.field(
        description="The record as it stood at `to` (null: deleted)."
    )
    fields: list[FieldChange] = strawberry.field(description="From `before` to `after`.")
    entries: list[RecordChangeEntry] = strawberry.field(description="Oldest first.")

    @classmethod
    def of(cls, r: changes_report.RecordChange) -> RecordChange:
        return cls(
            entity_type=r.entity_type,
            entity_id=strawberry.ID(to_global_id(r.entity_type, r.entity_id)),
            name=r.name,
            before=_json(r.before),
            after=_json(r.after),
            fields=FieldChange.all(r.fields),
            entries=[
                RecordChangeEntry(
                    seq=e.seq,
                    ts=_moment(e.ts),
                    op=e.op,
                    actor_id=e.actor["id"],
                    actor_role=e.actor["role"],
                    leaf_hash=e.leaf_hash,
                    fields=FieldChange.all(e.fields),
                )
                for e in r.entries
            ],
        )


def _ts(value: datetime, field: str) -> str:
    return instant(value, field)


# --- the organisation --------------------------------------------------------------------


@strawberry.type(description="A tenant: a controller and/or processor, and its records.")
class Organization(Node):
    slug: str
    name: str
    roles: list[enums.OrganizationRole]
    country: str
    address: str | None
    contact_email: str | None
    dpo: Dpo | None
    eu_representative: EuRepresentative | None
    as_of: datetime | None = strawberry.field(
        description="The instant every nested field answers for (null: now)."
    )
    view: Private[View]

    @classmethod
    def of(cls, state: dict[str, Any], view: View) -> Organization:
        return build(  # type: ignore[return-value]
            cls,
            {
                **state,
                "dpo": build(Dpo, state["dpo"]),
                "euRepresentative": build(EuRepresentative, state["euRepresentative"]),
            },
            id=to_global_id("Organization", state["id"]),
            as_of=_instant(view.as_of),
            view=view,
        )

    async def _page(
        self,
        info: Info[Context, None],
        entity_type: str,
        filters: dict[str, Any],
        first: int | None,
        after: str | None,
        make: Any,
    ) -> Connection[Any]:
        page = await info.context.in_thread(
            reads.page,
            info.context.runtime,
            info.context.principal,
            self.view,
            entity_type,
            filters,
            first,
            after,
        )
        return Connection.of(page, make, self.view)

    @strawberry.field
    async def processing_activities(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        filter: ProcessingActivityFilter | None = None,
    ) -> Connection[ProcessingActivity]:
        filters = _filter_dict(filter, {"processorId": "Processor"})
        return await self._page(
            info, "ProcessingActivity", filters, first, after, ProcessingActivity.of
        )

    @strawberry.field
    async def processors(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        filter: ProcessorFilter | None = None,
    ) -> Connection[Processor]:
        return await self._page(info, "Processor", _filter_dict(filter), first, after, Processor.of)

    @strawberry.field
    async def transfers(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        filter: TransferFilter | None = None,
    ) -> Connection[Transfer]:
        return await self._page(info, "Transfer", _filter_dict(filter), first, after, Transfer.of)

    @strawberry.field
    async def breaches(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        filter: BreachFilter | None = None,
    ) -> Connection[BreachIncident]:
        return await self._page(
            info, "BreachIncident", _filter_dict(filter), first, after, BreachIncident.of
        )

    @strawberry.field
    async def privacy_policies(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[PrivacyPolicy]:
        return await self._page(info, "PrivacyPolicy", {}, first, after, PrivacyPolicy.of)

    @strawberry.field(description="Compliance findings, computed as of this view's instant.")
    async def findings(self, info: Info[Context, None]) -> list[Finding]:
        return [Finding.of(f) for f in await findings_in(info, self.view)]

    @strawberry.field(description="The organisation's API tokens (for its DPO, or ADMIN).")
    async def tokens(self, info: Info[Context, None]) -> list[ApiToken]:
        ctx = info.context
        states = await ctx.in_thread(
            token_service.tokens_in_view, ctx.runtime, ctx.principal, self.view
        )
        return [ApiToken.of(s) for s in states]

    @strawberry.field(
        description="Every change after `from`, up to and including `to`, grouped by record "
        "in the order of their first change: what a view asOf `to` has and one asOf `from` "
        "has not. API tokens and key rotations only for roles that read the ledger."
    )
    async def changes(
        self,
        info: Info[Context, None],
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        entity_type: str | None = None,
    ) -> list[RecordChange]:
        ctx = info.context
        report = await ctx.in_thread(
            changes_report.changes,
            ctx.runtime,
            ctx.principal,
            self.view.org_id,
            _ts(from_, "from"),
            _ts(to, "to"),
            entity_type,
        )
        return [RecordChange.of(r) for r in report.records]

    @strawberry.field(description="This organisation's signed ledger.")
    def ledger(self) -> Ledger:
        return Ledger(org_id=self.view.org_id, as_of=self.view.as_of)


# --- the ledger ----------------------------------------------------------------------------


@strawberry.type(description="The ledger entry a change became (LEDGER-SPEC §6).")
class Receipt:
    seq: int
    leaf_hash: str = strawberry.field(description="Hex.")
    signature: str = strawberry.field(description="Base64 Ed25519 signature.")
    key_id: str = strawberry.field(description="Hex key id of the signing key.")
    checkpoint: str = strawberry.field(
        description="The signed checkpoint of the tree that first included the entry."
    )


@strawberry.type(description="One signed change: who, what, when, and the states around it.")
class LedgerEntry:
    seq: int
    ts: datetime
    op: str
    entity_type: str
    entity_id: strawberry.ID
    actor_id: str | None = strawberry.field(
        description="Who made the change (AUDITOR, DPO, ADMIN; FORBIDDEN for other roles)."
    )
    actor_role: str | None = strawberry.field(description="The role of `actorId`.")
    before: strawberry.scalars.JSON | None
    after: strawberry.scalars.JSON | None
    canonical: str | None = strawberry.field(
        description="The exact JCS bytes that were hashed (they name the actor)."
    )
    leaf_hash: str
    signature: str | None
    key_id: str | None

    @classmethod
    def of(cls, e: ledger_queries.EntryView) -> LedgerEntry:
        return cls(
            seq=e.seq,
            ts=_moment(e.ts),
            op=e.op,
            entity_type=e.entity_type,
            entity_id=strawberry.ID(to_global_id(e.entity_type, e.entity_id)),
            actor_id=e.actor["id"],
            actor_role=e.actor["role"],
            before=_json(e.before),
            after=_json(e.after),
            canonical=e.canonical,
            leaf_hash=e.leaf_hash,
            signature=e.signature,
            key_id=e.key_id,
        )


@strawberry.type
class LedgerEntryEdge:
    cursor: str
    node: LedgerEntry


@strawberry.type
class LedgerEntryConnection:
    edges: list[LedgerEntryEdge]
    page_info: PageInfo


@strawberry.type(
    description="An RFC 9162 inclusion proof of entry `seq` in the tree of `treeSize`."
)
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    hashes: list[str] = strawberry.field(description="The audit path, hex, leaf to root.")


@strawberry.type(description="An RFC 9162 consistency proof between two tree sizes.")
class ConsistencyProof:
    from_size: int
    to_size: int
    from_root: str
    to_root: str
    hashes: list[str]


@strawberry.type(
    description="An RFC 3161 trusted timestamp of one checkpoint by one TSA (LEDGER-SPEC §9)."
)
class Anchor:
    size: int = strawberry.field(description="The tree size of the checkpoint stamped.")
    tsa: str = strawberry.field(description="The Time-Stamping Authority's configured name.")
    gen_time: datetime = strawberry.field(
        description="The TSA's genTime: the tree of `size` existed no later than this."
    )
    token: str = strawberry.field(
        description="The DER TimeStampResp as the TSA sent it, base64 (`openssl ts -verify`)."
    )

    @classmethod
    def of(cls, a: anchor_service.Anchor) -> Anchor:
        return cls(
            size=a.size,
            tsa=a.tsa,
            gen_time=_moment(a.gen_time),
            token=base64.b64encode(a.token).decode(),
        )


@strawberry.type(
    description="An organisation's signed, append-only ledger (LEDGER-SPEC). Under "
    "`organization(asOf: T)` it is the tree as it stood at T: the checkpoint in force then, "
    "its entries, and proofs between trees no larger than it."
)
class Ledger:
    org_id: Private[str]
    as_of: Private[str | None] = None

    @strawberry.field(
        description="Trusted timestamps of checkpoints, by size then TSA; `after` is a size. "
        "Under `asOf`, only those whose genTime is no later than it."
    )
    async def anchors(
        self, info: Info[Context, None], first: int = 100, after: str | None = None
    ) -> list[Anchor]:
        ctx = info.context
        found = await ctx.in_thread(
            anchor_service.list_anchors,
            ctx.runtime,
            ctx.principal,
            self.org_id,
            as_of=self.as_of,
            first=first,
            after_size=int(after) if after is not None and after.isdigit() else None,
        )
        return [Anchor.of(a) for a in found]

    @strawberry.field(description="The trusted timestamps of the checkpoint of `size` entries.")
    async def anchor(self, info: Info[Context, None], size: int) -> list[Anchor]:
        ctx = info.context
        found = await ctx.in_thread(
            anchor_service.list_anchors,
            ctx.runtime,
            ctx.principal,
            self.org_id,
            size=size,
            as_of=self.as_of,
        )
        return [Anchor.of(a) for a in found]

    async def _head(self, info: Info[Context, None]) -> ledger_queries.Head:
        key = ("head", self.org_id, self.as_of)
        if key not in info.context.memo:
            info.context.memo[key] = await info.context.in_thread(
                ledger_queries.head,
                info.context.runtime,
                info.context.principal,
                self.org_id,
                self.as_of,
            )
        return info.context.memo[key]  # type: ignore[no-any-return]

    async def _bound(self, info: Info[Context, None], field: str, size: int) -> None:
        """Under asOf, a tree larger than the one in force then did not exist yet."""
        if self.as_of is None:
            return
        limit = (await self._head(info)).size
        if size > limit:
            raise ValidationError(FieldError(field, f"at most the ledger's size at asOf ({limit})"))

    @strawberry.field
    async def size(self, info: Info[Context, None]) -> int:
        return (await self._head(info)).size

    @strawberry.field(description="Hex root hash of the whole tree.")
    async def root_hash(self, info: Info[Context, None]) -> str:
        return (await self._head(info)).root_hash

    @strawberry.field(
        description="The latest signed checkpoint (C2SP tlog-checkpoint), followed by the "
        "cosignatures witnesses have given it so far (C2SP tlog-cosignature); under asOf, "
        "the one in force then."
    )
    async def checkpoint(self, info: Info[Context, None]) -> str:
        if self.as_of is not None:
            return (await self._head(info)).checkpoint
        ctx = info.context
        return await ctx.in_thread(  # type: ignore[no-any-return]
            ledger_queries.latest_checkpoint, ctx.runtime, ctx.principal, self.org_id
        )

    @strawberry.field(
        description="The signed checkpoint of the tree of `size` entries with its witness "
        "cosignatures; null when no commit ended at that size."
    )
    async def checkpoint_at(self, info: Info[Context, None], size: int) -> str | None:
        ctx = info.context
        return await ctx.in_thread(  # type: ignore[no-any-return]
            ledger_queries.checkpoint_at, ctx.runtime, ctx.principal, self.org_id, size
        )

    @strawberry.field
    async def entries(
        self, info: Info[Context, None], first: int = 50, after: str | None = None
    ) -> LedgerEntryConnection:
        after_seq = ledger_queries.entry_cursor(after)
        below = (await self._head(info)).size if self.as_of is not None else None
        rows = await info.context.in_thread(
            ledger_queries.entries,
            info.context.runtime,
            info.context.principal,
            self.org_id,
            first + 1,
            after_seq,
            below,
        )
        has_next = len(rows) > first
        rows = rows[:first]
        edges = [LedgerEntryEdge(cursor=str(e.seq), node=LedgerEntry.of(e)) for e in rows]
        return LedgerEntryConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=after_seq is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field
    async def inclusion_proof(
        self, info: Info[Context, None], seq: int, tree_size: int
    ) -> InclusionProof:
        ctx = info.context
        await self._bound(info, "treeSize", tree_size)

        def prove() -> InclusionProof:
            hashes = ledger_queries.inclusion_proof(
                ctx.runtime, ctx.principal, self.org_id, seq, tree_size
            )
            root = ledger_queries.root_at(ctx.runtime, ctx.principal, self.org_id, tree_size)
            leaf = ledger_queries.leaf_hash(ctx.runtime, ctx.principal, self.org_id, seq)
            return InclusionProof(
                seq=seq,
                tree_size=tree_size,
                leaf_hash=leaf,
                root_hash=root,
                hashes=hashes,
            )

        return await ctx.in_thread(prove)  # type: ignore[no-any-return]

    @strawberry.field
    async def consistency_proof(
        self, info: Info[Context, None], from_size: int, to_size: int
    ) -> ConsistencyProof:
        ctx = info.context
        await self._bound(info, "toSize", to_size)

        def prove() -> ConsistencyProof:
            hashes = ledger_queries.consistency_proof(
                ctx.runtime, ctx.principal, self.org_id, from_size, to_size
            )
            return ConsistencyProof(
                from_size=from_size,
                to_size=to_size,
                from_root=ledger_queries.root_at(
                    ctx.runtime, ctx.principal, self.org_id, from_size
                ),
                to_root=ledger_queries.root_at(ctx.runtime, ctx.principal, self.org_id, to_size),
                hashes=hashes,
            )

        return await ctx.in_thread(prove)  # type: ignore[no-any-return]


# --- API tokens ------------------------------------------------------------------------------


@strawberry.type(description="An API token: a name and a role, never its secret (stored hashed).")
class ApiToken(Node):
    name: str
    role: enums.Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    record_id: Private[str]

    @classmethod
    def of(cls, state: dict[str, Any], view: View | None = None) -> ApiToken:
        return cls(
            id=strawberry.ID(to_global_id("ApiToken", state["id"])),
            name=state["name"],
            role=state["role"],
            created_at=_instant(state["createdAt"]),  # type: ignore[arg-type]
            expires_at=_instant(state["expiresAt"]),
            revoked_at=_instant(state["revokedAt"]),
            record_id=state["id"],
        )

    @strawberry.field(description="Whether the token is accepted now (not revoked, not expired).")
    def active(self) -> bool:
        now = datetime.now(UTC)
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @strawberry.field(description="When the token was last used, to the minute (null: never).")
    async def last_used_at(self, info: Info[Context, None]) -> datetime | None:
        rt = info.context.runtime

        def batch(ids: list[str]) -> list[str | None]:
            found = token_service.last_used(rt, ids)
            return [found.get(i) for i in ids]

        return _instant(await info.context.loader(("tokenUse",), batch).load(self.record_id))


NODE_TYPES: dict[str, Any] = {
    "Organization": Organization,
    "ProcessingActivity": ProcessingActivity,
    "Processor": Processor,
    "ProcessorEngagement": ProcessorEngagement,
    "Transfer": Transfer,
    "BreachIncident": BreachIncident,
    "PrivacyPolicy": PrivacyPolicy,
    "ApiToken": ApiToken,
}

__all__ = ["NODE_TYPES", "Annotated"]
