"""The GraphQL schema: queries, mutations and the limits that protect the service.

Mutations take one `input` and return a payload with the record and its `receipt`.
Resolvers call the services (in a worker thread) and never touch the database themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from ropa.api import inputs as i
from ropa.api.context import Context
from ropa.api.errors import ErrorCodes
from ropa.api.field_access import guard
from ropa.api.ids import from_global_id, record_id
from ropa.api.limits import Limits
from ropa.api.limits import extensions as limit_extensions
from ropa.api.off_loop import OffLoop
from ropa.api.scalars import SCALAR_OVERRIDES
from ropa.api.types import (
    NODE_TYPES,
    ApiToken,
    BreachIncident,
    LedgerEntry,
    Node,
    Organization,
    PrivacyPolicy,
    ProcessingActivity,
    Processor,
    ProcessorEngagement,
    Receipt,
    Transfer,
)
from ropa.errors import ConflictError
from ropa.services import (
    activities,
    breaches,
    idempotency,
    ledger_queries,
    notice_drafts,
    organizations,
    policies,
    processors,
    reads,
    tokens,
    transfers,
)
from ropa.services.changes import Change


def _receipt(change: Change) -> Receipt | None:
    return None if change.receipt is None else _receipt_of(change.receipt)


def _receipt_of(r: Any) -> Receipt:
    """The API's receipt of a stored ledger receipt."""
    return Receipt(
        seq=r.seq,
        leaf_hash=r.leaf_hash,
        signature=r.signature,
        key_id=r.key_id,
        checkpoint=r.checkpoint,
    )


def _as_of(value: datetime | None, field: str = "asOf") -> str | None:
    return None if value is None else i.instant(value, field)


_REBUILD = Change(None, None, "")  # a retry whose change already committed (see `_payload`)


async def _run(info: Info[Context, None], fn: Callable[..., Change], *args: Any) -> Change:
    ctx = info.context
    if idempotency.replay() is not None:
        return _REBUILD  # applied before: the answer is rebuilt, nothing is applied again
    return await ctx.in_thread(fn, ctx.runtime, ctx.principal, *args)  # type: ignore[no-any-return]


@strawberry.type
class Query:
    @strawberry.field(description="An organisation's records; with `asOf`, as they stood then.")
    async def organization(
        self, info: Info[Context, None], slug: str, as_of: datetime | None = None
    ) -> Organization | None:
        ctx = info.context
        view, state = await ctx.in_thread(
            reads.open_view, ctx.runtime, ctx.principal, slug, _as_of(as_of)
        )
        return Organization.of(state, view)

    @strawberry.field(description="Any record by its global ID (Relay).")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        ctx = info.context
        type_name, rid = from_global_id(id)
        make = NODE_TYPES.get(type_name)
        if make is None:
            return None
        view = await ctx.in_thread(reads.locate, ctx.runtime, ctx.principal, type_name, rid)
        state = await ctx.records_by_id(view, type_name).load(rid)
        return make.of(state, view) if state else None

    @strawberry.field(description="Every change to one record, oldest first.")
    async def history(self, info: Info[Context, None], id: strawberry.ID) -> list[LedgerEntry]:
        ctx = info.context
        type_name, rid = from_global_id(id)
        view = await ctx.in_thread(reads.locate, ctx.runtime, ctx.principal, type_name, rid)
        rows = await ctx.in_thread(
            ledger_queries.history, ctx.runtime, ctx.principal, view.org_id, rid
        )
        return [LedgerEntry.of(e) for e in rows]


# --- payloads ----------------------------------------------------------------------------


@strawberry.type
class ProcessorPayload:
    processor: Processor | None
    receipt: Receipt | None


@strawberry.type
class ProcessingActivityPayload:
    processing_activity: ProcessingActivity | None
    receipt: Receipt | None


@strawberry.type
class ProcessorEngagementPayload:
    engagement: ProcessorEngagement | None
    receipt: Receipt | None


@strawberry.type
class TransferPayload:
    transfer: Transfer | None
    receipt: Receipt | None


@strawberry.type
class BreachIncidentPayload:
    breach: BreachIncident | None
    receipt: Receipt | None


@strawberry.type
class PrivacyPolicyPayload:
    privacy_policy: PrivacyPolicy | None
    receipt: Receipt | None


@strawberry.type
class DraftRecordsFromNoticePayload:
    processors: list[Processor]
    processing_activities: list[ProcessingActivity]
    transfers: list[Transfer]
    receipts: list[Receipt] = strawberry.field(description="One per ledger entry written.")


@strawberry.type
class OrganizationPayload:
    organization: Organization | None
    receipt: Receipt | None


@strawberry.type
class CreateTokenPayload:
    token: ApiToken
    secret: str = strawberry.field(
        description="The bearer token: shown this once, stored only as its SHA-256."
    )
    receipt: Receipt | None


@strawberry.type
class RevokeTokenPayload:
    token: ApiToken | None
    receipt: Receipt | None


def _view(info: Info[Context, None], change: Change) -> reads.View:
    org = info.context.principal.org_id or ""
    size = change.receipt.seq + 1 if change.receipt else 1 << 62
    return reads.View(org, size)


P = TypeVar("P")


async def _rebuilt(info: Info[Context, None], entity_type: str) -> Change:
    ctx = info.context
    found = idempotency.replay()
    assert found is not None
    state, receipt = await ctx.in_thread(
        idempotency.rebuilt_change, ctx.runtime, ctx.principal, found, entity_type
    )
    return Change(state, receipt, entity_type)


async def _payload(
    info: Info[Context, None], change: Change, payload: type[P], field: str, node: Any
) -> P:
    """A mutation's payload: the record as the change left it, and its receipt; for a
    retry of an applied change, both as the ledger holds them."""
    if change is _REBUILD:
        change = await _rebuilt(info, node.__name__)
    record = node.of(change.record, _view(info, change))
    return payload(**{field: record, "receipt": _receipt(change)})


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def register_processor(
        self, info: Info[Context, None], input: i.RegisterProcessorInput
    ) -> ProcessorPayload:
        c = await _run(info, processors.register_processor, i.to_dict(input))
        return await _payload(info, c, ProcessorPayload, "processor", Processor)

    @strawberry.mutation
    async def update_processor(
        self, info: Info[Context, None], input: i.UpdateProcessorInput
    ) -> ProcessorPayload:
        rid = record_id(input.id, "Processor")
        c = await _run(info, processors.update_processor, rid, i.to_dict(input, skip=("id",)))
        return await _payload(info, c, ProcessorPayload, "processor", Processor)

    @strawberry.mutation
    async def retire_processor(
        self, info: Info[Context, None], input: i.RetireProcessorInput
    ) -> ProcessorPayload:
        c = await _run(info, processors.retire_processor, record_id(input.id, "Processor"))
        return await _payload(info, c, ProcessorPayload, "processor", Processor)

    @strawberry.mutation
    async def create_processing_activity(
        self, info: Info[Context, None], input: i.CreateProcessingActivityInput
    ) -> ProcessingActivityPayload:
        c = await _run(info, activities.create_processing_activity, i.to_dict(input))
        return await _payload(
            info, c, ProcessingActivityPayload, "processing_activity", ProcessingActivity
        )

    @strawberry.mutation
    async def update_processing_activity(
        self, info: Info[Context, None], input: i.UpdateProcessingActivityInput
    ) -> ProcessingActivityPayload:
        rid = record_id(input.id, "ProcessingActivity")
        c = await _run(
            info, activities.update_processing_activity, rid, i.to_dict(input, skip=("id",))
        )
        return await _payload(
            info, c, ProcessingActivityPayload, "processing_activity", ProcessingActivity
        )

    @strawberry.mutation
    async def retire_processing_activity(
        self, info: Info[Context, None], input: i.RetireProcessingActivityInput
    ) -> ProcessingActivityPayload:
        rid = record_id(input.id, "ProcessingActivity")
        c = await _run(info, activities.retire_processing_activity, rid)
        return await _payload(
            info, c, ProcessingActivityPayload, "processing_activity", ProcessingActivity
        )

    @strawberry.mutation
    async def engage_processor(
        self, info: Info[Context, None], input: i.EngageProcessorInput
    ) -> ProcessorEngagementPayload:
        c = await _run(info, activities.engage_processor, input.as_data())
        return await _payload(
            info, c, ProcessorEngagementPayload, "engagement", ProcessorEngagement
        )

    @strawberry.mutation
    async def disengage_processor(
        self, info: Info[Context, None], input: i.DisengageProcessorInput
    ) -> ProcessorEngagementPayload:
        rid = record_id(input.id, "ProcessorEngagement")
        c = await _run(info, activities.disengage_processor, rid)
        return await _payload(
            info, c, ProcessorEngagementPayload, "engagement", ProcessorEngagement
        )

    @strawberry.mutation
    async def record_transfer(
        self, info: Info[Context, None], input: i.RecordTransferInput
    ) -> TransferPayload:
        c = await _run(info, transfers.record_transfer, input.as_data())
        return await _payload(info, c, TransferPayload, "transfer", Transfer)

    @strawberry.mutation
    async def update_transfer(
        self, info: Info[Context, None], input: i.UpdateTransferInput
    ) -> TransferPayload:
        rid = record_id(input.id, "Transfer")
        c = await _run(info, transfers.update_transfer, rid, input.as_data())
        return await _payload(info, c, TransferPayload, "transfer", Transfer)

    @strawberry.mutation
    async def remove_transfer(
        self, info: Info[Context, None], input: i.RemoveTransferInput
    ) -> TransferPayload:
        c = await _run(info, transfers.remove_transfer, record_id(input.id, "Transfer"))
        return await _payload(info, c, TransferPayload, "transfer", Transfer)

    @strawberry.mutation
    async def report_breach(
        self, info: Info[Context, None], input: i.ReportBreachInput
    ) -> BreachIncidentPayload:
        c = await _run(info, breaches.report_breach, input.as_data())
        return await _payload(info, c, BreachIncidentPayload, "breach", BreachIncident)

    @strawberry.mutation
    async def update_breach(
        self, info: Info[Context, None], input: i.UpdateBreachInput
    ) -> BreachIncidentPayload:
        rid = record_id(input.id, "BreachIncident")
        c = await _run(info, breaches.update_breach, rid, input.as_data())
        return await _payload(info, c, BreachIncidentPayload, "breach", BreachIncident)

    @strawberry.mutation
    async def notify_authority(
        self, info: Info[Context, None], input: i.NotifyAuthorityInput
    ) -> BreachIncidentPayload:
        rid = record_id(input.id, "BreachIncident")
        c = await _run(info, breaches.notify_authority, rid, i.to_dict(input, skip=("id",)))
        return await _payload(info, c, BreachIncidentPayload, "breach", BreachIncident)

    @strawberry.mutation
    async def notify_data_subjects(
        self, info: Info[Context, None], input: i.NotifyDataSubjectsInput
    ) -> BreachIncidentPayload:
        rid = record_id(input.id, "BreachIncident")
        c = await _run(info, breaches.notify_data_subjects, rid, i.to_dict(input, skip=("id",)))
        return await _payload(info, c, BreachIncidentPayload, "breach", BreachIncident)

    @strawberry.mutation
    async def close_breach(
        self, info: Info[Context, None], input: i.CloseBreachInput
    ) -> BreachIncidentPayload:
        c = await _run(info, breaches.close_breach, record_id(input.id, "BreachIncident"))
        return await _payload(info, c, BreachIncidentPayload, "breach", BreachIncident)

    @strawberry.mutation
    async def publish_privacy_policy(
        self, info: Info[Context, None], input: i.PublishPrivacyPolicyInput
    ) -> PrivacyPolicyPayload:
        data = i.to_dict(input, skip=("text", "text_format"))
        fmt = input.text_format.value if input.text_format is not None else None
        c = await _run(info, policies.publish_privacy_policy, data, input.text, fmt)
        return await _payload(info, c, PrivacyPolicyPayload, "privacy_policy", PrivacyPolicy)

    @strawberry.mutation(
        description="Draft DRAFT processors, activities and transfers from a notice version's "
        "analysis, each citing its passages; running it again drafts nothing twice."
    )
    async def draft_records_from_notice(
        self, info: Info[Context, None], input: i.DraftRecordsFromNoticeInput
    ) -> DraftRecordsFromNoticePayload:
        ctx = info.context
        rid = record_id(input.policy_id, "PrivacyPolicy", "policyId")
        drafts = await ctx.in_thread(
            notice_drafts.draft_records_from_notice, ctx.runtime, ctx.principal, rid
        )
        size = drafts.receipts[-1].seq + 1 if drafts.receipts else 1 << 62
        view = reads.View(ctx.principal.org_id or "", size)
        return DraftRecordsFromNoticePayload(
            processors=[Processor.of(s, view) for s in drafts.processors],
            processing_activities=[ProcessingActivity.of(s, view) for s in drafts.activities],
            transfers=[Transfer.of(s, view) for s in drafts.transfers],
            receipts=[_receipt_of(r) for r in drafts.receipts],
        )

    @strawberry.mutation(description="Change the caller's organisation (DPO or ADMIN).")
    async def update_organization(
        self, info: Info[Context, None], input: i.UpdateOrganizationInput
    ) -> OrganizationPayload:
        ctx = info.context
        org_id = ctx.principal.org_id or ""
        c = await _run(info, organizations.update_organization, org_id, i.to_dict(input))
        return await _payload(info, c, OrganizationPayload, "organization", Organization)

    @strawberry.mutation(description="Issue a token (the DPO for its organisation, ADMIN for any).")
    async def create_token(
        self, info: Info[Context, None], input: i.CreateTokenInput
    ) -> CreateTokenPayload:
        ctx = info.context
        if idempotency.replay() is not None:
            raise ConflictError(
                "the token was created, but its secret is shown only once: revoke it "
                "(Organization.tokens lists it) and create another"
            )
        org_id = (
            record_id(input.organization_id, "Organization", "organizationId")
            if input.organization_id
            else ctx.principal.org_id or ""
        )
        issued = await ctx.in_thread(
            tokens.create_token,
            ctx.runtime,
            ctx.principal,
            org_id,
            input.role.value,
            input.name,
            _as_of(input.expires_at, "expiresAt"),
        )
        return CreateTokenPayload(
            token=ApiToken.of(issued.change.state),
            secret=issued.secret,
            receipt=_receipt(issued.change),
        )

    @strawberry.mutation(description="Revoke a token: it is refused from now on.")
    async def revoke_token(
        self, info: Info[Context, None], input: i.RevokeTokenInput
    ) -> RevokeTokenPayload:
        ctx = info.context
        rid = record_id(input.id, "ApiToken")
        if idempotency.replay() is not None:
            c = await _rebuilt(info, "ApiToken")
        else:
            org_id = await ctx.in_thread(tokens.token_org, ctx.runtime, ctx.principal, rid)
            c = await ctx.in_thread(tokens.revoke_token, ctx.runtime, ctx.principal, org_id, rid)
        return RevokeTokenPayload(
            token=ApiToken.of(c.state) if c.state else None, receipt=_receipt(c)
        )


class RopaSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Errors are described and internal ones logged by `ErrorCodes`; no double logging."""


def build_schema(*, introspection: bool = True, limits: Limits | None = None) -> strawberry.Schema:
    """The schema with its error masking and abuse limits (`ropa.api.limits`)."""
    extensions: list[Any] = [
        ErrorCodes,
        *limit_extensions(limits or Limits(), introspection=introspection),
        OffLoop,  # last: parses and validates with every option and rule the others add
    ]
    built = RopaSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        types=list(NODE_TYPES.values()),
        scalar_overrides=SCALAR_OVERRIDES,
    )
    guard(built._schema)  # the role table's field checks (ropa.services.access)
    return built


schema = build_schema()
