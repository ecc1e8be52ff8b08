"""The domain's vocabularies as GraphQL enums (names and values are the GDPR's).

The classes are the domain's own, registered with strawberry, so the API and the domain
can never disagree on a value.
"""

from __future__ import annotations

import strawberry

from ropa.domain.vocabulary import (
    ActivityRole,
    ActivityStatus,
    Art9Condition,
    Art34Exemption,
    Art49Derogation,
    BreachRisk,
    BreachStatus,
    DpiaStatus,
    LegalBasisArticle,
    NotificationPhase,
    OrganizationRole,
    ProcessorStatus,
    Role,
    SpecialCategory,
    TextFormat,
    TransferMechanism,
)
from ropa.domain.vocabulary import Source as DataSource

for _enum in (
    OrganizationRole,
    ActivityRole,
    ActivityStatus,
    LegalBasisArticle,
    SpecialCategory,
    Art9Condition,
    DpiaStatus,
    ProcessorStatus,
    TransferMechanism,
    Art49Derogation,
    BreachRisk,
    BreachStatus,
    NotificationPhase,
    Art34Exemption,
    Role,
    TextFormat,
):
    strawberry.enum(_enum)
strawberry.enum(DataSource, name="DataSource")

__all__ = [
    "ActivityRole",
    "ActivityStatus",
    "Art9Condition",
    "Art34Exemption",
    "Art49Derogation",
    "BreachRisk",
    "BreachStatus",
    "DataSource",
    "DpiaStatus",
    "LegalBasisArticle",
    "NotificationPhase",
    "OrganizationRole",
    "ProcessorStatus",
    "Role",
    "SpecialCategory",
    "TextFormat",
    "TransferMechanism",
]
