"""The domain's vocabularies as GraphQL enums (names and values are the GDPR's)."""

from __future__ import annotations

import strawberry

from ropa.domain import vocabulary as v

OrganizationRole = strawberry.enum(v.OrganizationRole)
ActivityRole = strawberry.enum(v.ActivityRole)
ActivityStatus = strawberry.enum(v.ActivityStatus)
LegalBasisArticle = strawberry.enum(v.LegalBasisArticle)
SpecialCategory = strawberry.enum(v.SpecialCategory)
Art9Condition = strawberry.enum(v.Art9Condition)
DataSource = strawberry.enum(v.Source, name="DataSource")
DpiaStatus = strawberry.enum(v.DpiaStatus)
ProcessorStatus = strawberry.enum(v.ProcessorStatus)
TransferMechanism = strawberry.enum(v.TransferMechanism)
Art49Derogation = strawberry.enum(v.Art49Derogation)
BreachRisk = strawberry.enum(v.BreachRisk)
BreachStatus = strawberry.enum(v.BreachStatus)
NotificationPhase = strawberry.enum(v.NotificationPhase)
Art34Exemption = strawberry.enum(v.Art34Exemption)
Role = strawberry.enum(v.Role)
