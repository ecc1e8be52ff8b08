"""GraphQL input types of the mutations, and their conversion to the services' camelCase dicts.

Fields left out of an input are UNSET: an update changes only the fields it names;
`null` clears a field.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry import UNSET

from ropa.api import enums
from ropa.api.ids import record_id
from ropa.errors import FieldError, ValidationError
from ropa.ledger.canonical import format_ts


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def instant(value: datetime, field: str) -> str:
    """A DateTime argument as a ledger instant (a naive one is taken as UTC); one with no
    UTC spelling (0001-01-01T00:00:00+05:00) is BAD_USER_INPUT on `field`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return format_ts(value)
    except ValueError:
        raise ValidationError(
            FieldError(field, "an instant between 0001-01-01 and 9999-12-31 in UTC")
        ) from None


def _plain(value: Any, field: str = "input") -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return instant(value, field)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v, field) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value, full=True)
    return value


def to_dict(obj: Any, *, full: bool = False, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The input's given fields as camelCase (with `full`, unset nested fields become null)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if f.name in skip:
            continue
        value = getattr(obj, f.name)
        if value is UNSET:
            if full:
                out[_camel(f.name)] = None
            continue
        out[_camel(f.name)] = _plain(value, _camel(f.name))
    return out


# --- nested values ------------------------------------------------------------------------


@strawberry.input
class DpoInput:
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@strawberry.input
class EuRepresentativeInput:
    name: str | None = None
    email: str | None = None
    address: str | None = None
    country: str | None = None


@strawberry.input
class PartyInput:
    name: str | None = None
    contact: str | None = None
    country: str | None = None


@strawberry.input
class LegalBasisInput:
    article: enums.LegalBasisArticle
    purpose: str | None = None
    lia: str | None = None
    consent_mechanism: str | None = None


@strawberry.input
class SpecialCategoryInput:
    category: enums.SpecialCategory
    condition: enums.Art9Condition | None = None


@strawberry.input
class RetentionInput:
    period: str | None = None
    trigger: str | None = None


@strawberry.input
class AutomatedDecisionMakingInput:
    description: str | None = None
    legal_effect: bool = False


@strawberry.input
class DpiaInput:
    status: enums.DpiaStatus
    date: str | None = None
    reference: str | None = None


@strawberry.input
class SubProcessorInput:
    name: str | None = None
    country: str | None = None
    service: str | None = None


@strawberry.input
class TiaInput:
    date: str | None = None
    reference: str | None = None


# --- processors ------------------------------------------------------------------------


@strawberry.input
class ProcessorFields:
    name: str | None = UNSET
    legal_name: str | None = UNSET
    services: list[str] | None = UNSET
    country: str | None = UNSET
    processing_locations: list[str] | None = UNSET
    dpa_signed_on: str | None = UNSET
    dpa_reference: str | None = UNSET
    dpa_data_categories: list[str] | None = UNSET
    sub_processors: list[SubProcessorInput] | None = UNSET
    certifications: list[str] | None = UNSET
    dpf: bool | None = UNSET
    external_ref: str | None = strawberry.field(
        default=UNSET,
        description="The calling tool's own id for this vendor: registering it again updates.",
    )


@strawberry.input
class RegisterProcessorInput(ProcessorFields):
    allow_duplicate: bool | None = strawberry.field(
        default=UNSET,
        description="Register even when a live processor has the same name or legal name "
        "(case, spacing and punctuation ignored); without it that is refused with CONFLICT "
        "naming the existing record.",
    )


@strawberry.input
class UpdateProcessorInput(ProcessorFields):
    id: strawberry.ID
    status: enums.ProcessorStatus | None = strawberry.field(
        default=UNSET, description="ACTIVE accepts a DRAFT (e.g. one drafted from the notice)."
    )


@strawberry.input
class RetireProcessorInput:
    id: strawberry.ID


# --- activities --------------------------------------------------------------------------


@strawberry.input
class ActivityFields:
    name: str | None = UNSET
    description: str | None = UNSET
    role: enums.ActivityRole | None = UNSET
    controller: PartyInput | None = UNSET
    joint_controllers: list[PartyInput] | None = UNSET
    purposes: list[str] | None = UNSET
    data_uses: list[str] | None = UNSET
    data_subject_categories: list[str] | None = UNSET
    data_categories: list[str] | None = UNSET
    special_categories: list[SpecialCategoryInput] | None = UNSET
    criminal_offence_data: bool | None = UNSET
    legal_bases: list[LegalBasisInput] | None = UNSET
    recipient_categories: list[str] | None = UNSET
    retention: RetentionInput | None = UNSET
    security_measures: list[str] | None = UNSET
    sources: list[enums.DataSource] | None = UNSET
    automated_decision_making: AutomatedDecisionMakingInput | None = UNSET
    dpia: DpiaInput | None = UNSET
    systematic_monitoring: bool | None = UNSET
    large_scale: bool | None = UNSET
    status: enums.ActivityStatus | None = UNSET
    owner: str | None = UNSET
    last_reviewed_at: datetime | None = UNSET


@strawberry.input
class CreateProcessingActivityInput(ActivityFields):
    pass


@strawberry.input
class UpdateProcessingActivityInput(ActivityFields):
    id: strawberry.ID


@strawberry.input
class RetireProcessingActivityInput:
    id: strawberry.ID


@strawberry.input
class EngageProcessorInput:
    activity_id: strawberry.ID
    processor_id: strawberry.ID
    purpose: str | None = None
    data_categories: list[str] | None = None
    locations: list[str] | None = None

    def as_data(self) -> dict[str, Any]:
        data = to_dict(self)
        data["activityId"] = record_id(self.activity_id, "ProcessingActivity", "activityId")
        data["processorId"] = record_id(self.processor_id, "Processor", "processorId")
        return data


@strawberry.input
class DisengageProcessorInput:
    id: strawberry.ID


# --- transfers --------------------------------------------------------------------------


@strawberry.input
class TransferFields:
    recipient_processor_id: strawberry.ID | None = UNSET
    recipient_name: str | None = UNSET
    from_country: str | None = UNSET
    to_country: str | None = UNSET
    mechanism: enums.TransferMechanism | None = UNSET
    scc_module: int | None = UNSET
    derogation: enums.Art49Derogation | None = UNSET
    tia: TiaInput | None = UNSET
    supplementary_measures: list[str] | None = UNSET
    started_on: str | None = UNSET

    def as_data(self) -> dict[str, Any]:
        data = to_dict(self, skip=("id",))
        if data.get("recipientProcessorId"):
            data["recipientProcessorId"] = record_id(
                data["recipientProcessorId"], "Processor", "recipientProcessorId"
            )
        if data.get("activityId"):
            data["activityId"] = record_id(data["activityId"], "ProcessingActivity", "activityId")
        return data


@strawberry.input
class RecordTransferInput(TransferFields):
    activity_id: strawberry.ID


@strawberry.input
class UpdateTransferInput(TransferFields):
    id: strawberry.ID


@strawberry.input
class RemoveTransferInput:
    id: strawberry.ID


# --- breaches ----------------------------------------------------------------------------


@strawberry.input
class BreachFields:
    title: str | None = UNSET
    nature: str | None = UNSET
    occurred_at: datetime | None = UNSET
    discovered_at: datetime | None = UNSET
    contained_at: datetime | None = UNSET
    data_subject_categories: list[str] | None = UNSET
    approx_data_subjects: int | None = UNSET
    data_categories: list[str] | None = UNSET
    approx_records: int | None = UNSET
    consequences: str | None = UNSET
    measures: str | None = UNSET
    risk: enums.BreachRisk | None = UNSET
    affected_activity_ids: list[strawberry.ID] | None = UNSET
    affected_processor_ids: list[strawberry.ID] | None = UNSET
    status: enums.BreachStatus | None = UNSET

    def as_data(self) -> dict[str, Any]:
        data = to_dict(self, skip=("id",))
        if data.get("affectedActivityIds"):
            data["affectedActivityIds"] = [
                record_id(g, "ProcessingActivity", f"affectedActivityIds.{i}")
                for i, g in enumerate(data["affectedActivityIds"])
            ]
        if data.get("affectedProcessorIds"):
            data["affectedProcessorIds"] = [
                record_id(g, "Processor", f"affectedProcessorIds.{i}")
                for i, g in enumerate(data["affectedProcessorIds"])
            ]
        return data


@strawberry.input
class ReportBreachInput(BreachFields):
    pass


@strawberry.input
class UpdateBreachInput(BreachFields):
    id: strawberry.ID


@strawberry.input
class NotifyAuthorityInput:
    id: strawberry.ID
    authority: str
    notified_at: datetime
    reference: str | None = None
    phase: enums.NotificationPhase = enums.NotificationPhase.INITIAL
    delay_reasons: str | None = strawberry.field(
        default=None, description="Required when notifying after the 72 hours (Art. 33(1))."
    )


@strawberry.input
class NotifyDataSubjectsInput:
    id: strawberry.ID
    notified_at: datetime | None = None
    channel: str | None = None
    exemption: enums.Art34Exemption | None = strawberry.field(
        default=None, description="Instead of a communication: the Art. 34(3) ground."
    )


@strawberry.input
class CloseBreachInput:
    id: strawberry.ID


# --- policies and organisation --------------------------------------------------------


@strawberry.input
class PublishPrivacyPolicyInput:
    version: str
    effective_date: str | None = None
    url: str | None = None
    sha256: str | None = None
    summary: str | None = None
    text: str | None = strawberry.field(
        default=None,
        description="The notice's text (at most 256 KiB of UTF-8): kept with the version, with "
        "its SHA-256 (a given `sha256` must match) and its analysis.",
    )
    text_format: enums.TextFormat | None = strawberry.field(
        default=None, description="How the text is written (default PLAIN)."
    )


@strawberry.input
class DraftRecordsFromNoticeInput:
    policy_id: strawberry.ID = strawberry.field(
        description="The privacy-notice version whose analysis is drafted into records."
    )


@strawberry.input
class UpdateOrganizationInput:
    name: str | None = UNSET
    roles: list[enums.OrganizationRole] | None = UNSET
    country: str | None = UNSET
    address: str | None = UNSET
    contact_email: str | None = UNSET
    dpo: DpoInput | None = UNSET
    eu_representative: EuRepresentativeInput | None = UNSET


# --- API tokens -------------------------------------------------------------------------


@strawberry.input
class CreateTokenInput:
    role: enums.Role
    name: str
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token stops working (null: never)."
    )
    organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="ADMIN only: the organisation (default: the caller's)."
    )


@strawberry.input
class RevokeTokenInput:
    id: strawberry.ID
