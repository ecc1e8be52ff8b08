"""Complete, valid, linked record states (docs/data-model.md) that each test bends one way.

The activity engages the processor (the engagement) and transfers to it in the US (the
transfer); every record is clean: no validation error and no finding, as of NOW.
"""

from datetime import UTC, datetime
from typing import Any

import pytest

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

ORGANIZATION_ID = "00000000-0000-4000-8000-000000000001"
ACTIVITY_ID = "00000000-0000-4000-8000-00000000000a"
PROCESSOR_ID = "00000000-0000-4000-8000-00000000000b"
ENGAGEMENT_ID = "00000000-0000-4000-8000-00000000000c"
TRANSFER_ID = "00000000-0000-4000-8000-00000000000d"
BREACH_ID = "00000000-0000-4000-8000-00000000000e"
POLICY_ID = "00000000-0000-4000-8000-00000000000f"
TOKEN_ID = "00000000-0000-4000-8000-000000000010"

State = dict[str, Any]


@pytest.fixture
def organization() -> State:
    return {
        "id": ORGANIZATION_ID,
        "slug": "acme-eu",
        "name": "Acme Europe GmbH",
        "roles": ["CONTROLLER"],
        "country": "DE",
        "address": "Friedrichstraße 1, 10117 Berlin",
        "contactEmail": "privacy@acme.example",
        "dpo": {"name": "Dana Ortiz", "email": "dpo@acme.example", "phone": "+49 30 1234567"},
        "euRepresentative": None,
    }


@pytest.fixture
def policy() -> State:
    return {
        "id": POLICY_ID,
        "version": "2026-01",
        "effectiveDate": "2026-01-15",
        "url": "https://acme.example/privacy",
        "sha256": "a" * 64,
        "summary": "Adds the newsletter.",
        "text": None,
        "textFormat": None,
        "analysis": None,
    }


@pytest.fixture
def activity() -> State:
    return {
        "id": ACTIVITY_ID,
        "name": "Customer support",
        "description": "Answering customers' questions through the helpdesk.",
        "role": "CONTROLLER",
        "controller": None,
        "jointControllers": [],
        "purposes": ["Answer support requests"],
        "dataUses": ["essential.service.operations.support"],
        "dataSubjectCategories": ["customer"],
        "dataCategories": ["user.contact.email", "user.name", "user.content.private"],
        "specialCategories": [],
        "criminalOffenceData": False,
        "legalBases": [
            {
                "article": "ART6_1_B",
                "purpose": "Answer support requests",
                "lia": None,
                "consentMechanism": None,
            }
        ],
        "recipientCategories": ["Helpdesk provider"],
        "retention": {"period": "P2Y", "trigger": "after the ticket is closed"},
        "securityMeasures": ["Encryption at rest", "Single sign-on with MFA"],
        "sources": ["DATA_SUBJECT"],
        "automatedDecisionMaking": None,
        "dpia": {"status": "NOT_REQUIRED", "date": None, "reference": None},
        "systematicMonitoring": False,
        "largeScale": False,
        "status": "ACTIVE",
        "owner": "Head of Support",
        "lastReviewedAt": "2026-06-01T09:00:00.000000Z",
        "evidence": None,
    }


@pytest.fixture
def processor() -> State:
    return {
        "id": PROCESSOR_ID,
        "name": "Freshdesk",
        "legalName": "Freshworks Inc.",
        "services": ["helpdesk"],
        "country": "US",
        "processingLocations": ["US", "DE"],
        "dpaSignedOn": "2025-03-01",
        "dpaReference": "DPA-FRESH-2025",
        "dpaDataCategories": ["user.contact", "user.name", "user.content"],
        "subProcessors": [{"name": "AWS", "country": "US", "service": "hosting"}],
        "certifications": ["ISO 27001", "SOC 2"],
        "dpf": True,
        "status": "ACTIVE",
        "externalRef": "vendor-42",
        "evidence": None,
    }


@pytest.fixture
def engagement() -> State:
    return {
        "id": ENGAGEMENT_ID,
        "activityId": ACTIVITY_ID,
        "processorId": PROCESSOR_ID,
        "purpose": "Ticketing",
        "dataCategories": ["user.contact.email", "user.name"],
        "locations": ["US"],
    }


@pytest.fixture
def transfer() -> State:
    return {
        "id": TRANSFER_ID,
        "activityId": ACTIVITY_ID,
        "recipientProcessorId": PROCESSOR_ID,
        "recipientName": None,
        "fromCountry": "DE",
        "toCountry": "US",
        "mechanism": "SCC",
        "sccModule": 2,
        "derogation": None,
        "tia": {"date": "2025-02-20", "reference": "TIA-2025-07"},
        "supplementaryMeasures": ["Encryption in transit"],
        "startedOn": "2025-03-01",
        "evidence": None,
    }


@pytest.fixture
def breach() -> State:
    return {
        "id": BREACH_ID,
        "title": "Support mailbox exposed",
        "nature": "Confidentiality: a shared mailbox was readable by a contractor",
        "occurredAt": "2026-11-01T08:00:00.000000Z",
        "discoveredAt": "2026-11-02T10:00:00.000000Z",
        "containedAt": "2026-11-02T12:00:00.000000Z",
        "dataSubjectCategories": ["customer"],
        "approxDataSubjects": 120,
        "dataCategories": ["user.contact.email"],
        "approxRecords": 300,
        "consequences": "Possible phishing",
        "measures": "Access revoked, password rotated",
        "risk": "RISK",
        "authorityNotifications": [
            {
                "authority": "BlnBDI",
                "notifiedAt": "2026-11-03T09:00:00.000000Z",
                "reference": "BLN-2026-1",
                "phase": "INITIAL",
                "delayReasons": None,
            }
        ],
        "subjectCommunication": None,
        "subjectCommunicationExemption": None,
        "affectedActivityIds": [ACTIVITY_ID],
        "affectedProcessorIds": [],
        "status": "CONTAINED",
    }


@pytest.fixture
def token() -> State:
    return {
        "id": TOKEN_ID,
        "name": "dashboard",
        "role": "VIEWER",
        "tokenHash": "0" * 64,
        "createdAt": "2026-11-01T00:00:00.000000Z",
        "expiresAt": "2027-11-01T00:00:00.000000Z",
        "revokedAt": None,
    }


@pytest.fixture
def now() -> datetime:
    return NOW
