"""Fixtures for the security tests: the app behind its limits, and a victim organisation
holding one record of every kind, for another organisation's tokens to reach for."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ropa.api.limits import Limits
from ropa.app import create_app
from ropa.config import Settings
from ropa.ledger.keys import SigningKey
from ropa.services import activities, breaches, policies, processors, transfers
from ropa.services.runtime import Runtime
from tests.api.conftest import GraphQLClient
from tests.conftest import Org, make_org


@pytest.fixture
def http(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt)) as client:
        yield client


@pytest.fixture
def gql(http: TestClient) -> GraphQLClient:
    return GraphQLClient(http)


@dataclass
class Victim:
    """`org` and the raw id of one record of each Node type in it."""

    org: Org
    ids: dict[str, str]
    names: list[str]  # strings that must never appear in another organisation's answers


@pytest.fixture
def victim(rt: Runtime, other_org: Org) -> Victim:
    dpo = other_org.as_role("DPO")
    processor = processors.register_processor(rt, dpo, {
        "name": "Globex Vendor", "country": "US", "dpf": True, "services": ["hosting"],
    }).state
    activity = activities.create_processing_activity(rt, dpo, {
        "name": "Globex Payroll", "purposes": ["payroll"],
    }).state
    assert processor is not None
    assert activity is not None
    engagement = activities.engage_processor(rt, dpo, {
        "activityId": activity["id"], "processorId": processor["id"], "purpose": "hosting",
    }).state
    transfer = transfers.record_transfer(rt, dpo, {
        "activityId": activity["id"], "recipientProcessorId": processor["id"],
        "recipientName": "Globex Vendor", "fromCountry": "DE", "toCountry": "US",
        "mechanism": "DPF",
    }).state
    breach = breaches.report_breach(rt, dpo, {
        "title": "Globex Leak", "discoveredAt": "2026-11-01T10:00:00.000000Z",
        "affectedActivityIds": [activity["id"]],
    }).state
    policy = policies.publish_privacy_policy(rt, dpo, {
        "version": "globex-1", "effectiveDate": "2026-01-01",
        "url": "https://globex.example/privacy",
    }).state
    assert engagement
    assert transfer
    assert breach
    assert policy
    ids = {
        "Organization": other_org.id, "Processor": processor["id"],
        "ProcessingActivity": activity["id"], "ProcessorEngagement": engagement["id"],
        "Transfer": transfer["id"], "BreachIncident": breach["id"],
        "PrivacyPolicy": policy["id"], "ApiToken": other_org.as_role("VIEWER").actor.id,
    }
    return Victim(other_org, ids, ["Globex Vendor", "Globex Payroll", "Globex Leak", "globex-1"])


@pytest.fixture
def sqlite_rt(
    tmp_path: Path, sqlite_template: Path, signing_key: SigningKey
) -> Iterator[Runtime]:
    """A runtime on SQLite only, for checks of the HTTP layer that no database changes."""
    path = tmp_path / "ropa.db"
    shutil.copy(sqlite_template, path)
    key_file = tmp_path / "signing.key"
    signing_key.write_to_file(key_file)
    runtime = Runtime(Settings(database_url=f"sqlite:///{path}", key_file=key_file))
    yield runtime
    runtime.db.dispose()


@pytest.fixture
def acme(sqlite_rt: Runtime) -> Org:
    return make_org(sqlite_rt, "acme")


def client(rt: Runtime, limits: Limits | None = None, **settings: Any) -> TestClient:
    """A client of the app with these limits and settings (e.g. `introspection=False`)."""
    app = create_app(rt, replace(rt.settings, **settings), limits or Limits())
    return TestClient(app)
