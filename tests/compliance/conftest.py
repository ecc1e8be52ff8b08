"""Fixtures for the DPO outputs: the GraphQL client, the demo organisations, a clean activity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from ropa.app import create_app
from ropa.demo.loader import DEMO_SLUGS, load_demo
from ropa.services import tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.runtime import Runtime
from tests.api.conftest import GraphQLClient


@pytest.fixture
def http(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt)) as client:
        yield client


@pytest.fixture
def gql(http: TestClient) -> GraphQLClient:
    return GraphQLClient(http)


@dataclass
class Demo:
    """The five demo organisations, loaded through the write path, with a DPO token each."""

    ids: dict[str, str]
    tokens: dict[str, str]


@pytest.fixture
def demo(rt: Runtime) -> Demo:
    ids = load_demo(rt)
    secrets = {
        slug: tokens.create_token(rt, SYSTEM_PRINCIPAL, ids[slug], "DPO", "test").secret
        for slug in DEMO_SLUGS
    }
    return Demo(ids, secrets)


def clean_activity(**overrides: Any) -> dict[str, Any]:
    """A controller's activity input that raises no finding (reviewed, retained, secured)."""
    from datetime import UTC, datetime

    return {
        "name": "Payroll",
        "role": "CONTROLLER",
        "purposes": ["paying staff"],
        "dataSubjectCategories": ["employee"],
        "dataCategories": ["user.contact.email"],
        "legalBases": [{"article": "ART6_1_B", "purpose": "employment contract"}],
        "retention": {"period": "P6Y", "trigger": "after employment ends"},
        "securityMeasures": ["encryption at rest"],
        "dpia": {"status": "NOT_REQUIRED"},
        "lastReviewedAt": datetime.now(UTC).isoformat(),
        **overrides,
    }
