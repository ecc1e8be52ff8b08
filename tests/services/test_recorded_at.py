"""Writes at an instant of the system's choosing (`recorded_at`): a history written in order.

The demo loader and imports may give the write path the instant of their entries; `ts`
never goes backwards (LEDGER-SPEC §2), and no principal but the system may choose it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from ropa.errors import ConflictError, ForbiddenError, ValidationError
from ropa.services import activities, breaches, organizations, processors
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.changes import recorded_at
from ropa.services.imports import Step, import_changes
from ropa.services.reads import all_records, open_view
from ropa.services.runtime import Runtime
from ropa.store.tables import LedgerCheckpoint, LedgerEntry
from tests.conftest import Org


def _entries(rt: Runtime, org_id: str) -> list[dict[str, Any]]:
    with rt.db.read() as conn:
        rows = conn.execute(
            select(LedgerEntry.canonical)
            .where(LedgerEntry.org_id == org_id)
            .order_by(LedgerEntry.seq)
        ).scalars()
        return [json.loads(r) for r in rows]


def _system_org(rt: Runtime, at: str) -> Principal:
    with recorded_at(at):
        change = organizations.create_organization(
            rt,
            SYSTEM_PRINCIPAL,
            {"slug": "hist", "name": "Hist", "roles": ["CONTROLLER"], "country": "DE"},
        )
    return Principal(SYSTEM_PRINCIPAL.actor, change.record["id"])


def _vendor(name: str) -> dict[str, Any]:
    return {"name": name, "country": "US", "dpf": False, "services": ["hosting"]}


def test_system_writes_entries_and_checkpoints_at_the_instants_it_gives(rt: Runtime) -> None:
    system = _system_org(rt, "2019-03-04T09:00:00.000000Z")
    with recorded_at("2020-07-16T10:00:00.000000Z"):
        processors.register_processor(rt, system, _vendor("Old host"))
    with recorded_at("2023-07-10T12:00:00.000000Z"):
        import_changes(rt, system, [Step("registerProcessor", _vendor("New host"))])
    assert [e["ts"] for e in _entries(rt, system.org_id or "")] == [
        "2019-03-04T09:00:00.000000Z",
        "2020-07-16T10:00:00.000000Z",
        "2023-07-10T12:00:00.000000Z",
    ]
    with rt.db.read() as conn:
        sealed = (
            conn.execute(
                select(LedgerCheckpoint.ts).where(LedgerCheckpoint.org_id == system.org_id)
            )
            .scalars()
            .all()
        )
    assert sorted(sealed) == [
        "2019-03-04T09:00:00.000000Z",
        "2020-07-16T10:00:00.000000Z",
        "2023-07-10T12:00:00.000000Z",
    ]
    # asOf finds the history where it was written
    view, _ = open_view(rt, SYSTEM_PRINCIPAL, "hist", "2021-01-01T00:00:00.000000Z")
    names = [s["name"] for s in all_records(rt, view, "Processor")]
    assert names == ["Old host"]


def test_an_instant_before_the_ledgers_last_entry_is_refused_and_nothing_is_written(
    rt: Runtime,
) -> None:
    system = _system_org(rt, "2020-01-01T00:00:00.000000Z")
    with (
        pytest.raises(ConflictError, match="never goes backwards"),
        recorded_at("2019-12-31T23:59:59.999999Z"),
    ):
        processors.register_processor(rt, system, _vendor("Too early"))
    assert len(_entries(rt, system.org_id or "")) == 1
    # the same instant as the last entry is not backwards
    with recorded_at("2020-01-01T00:00:00.000000Z"):
        processors.register_processor(rt, system, _vendor("Same instant"))
    assert len(_entries(rt, system.org_id or "")) == 2


def test_an_instant_in_the_future_or_malformed_is_refused(rt: Runtime) -> None:
    system = _system_org(rt, "2020-01-01T00:00:00.000000Z")
    for bad in ("2999-01-01T00:00:00.000000Z", "2021-01-01"):
        with pytest.raises(ValidationError, match="ts"), recorded_at(bad):
            processors.register_processor(rt, system, _vendor("Never"))
    assert len(_entries(rt, system.org_id or "")) == 1


def test_only_the_system_may_choose_the_instant(rt: Runtime, org: Org) -> None:
    before = len(_entries(rt, org.id))
    for role in ("EDITOR", "DPO", "ADMIN"):
        with pytest.raises(ForbiddenError), recorded_at("2020-01-01T00:00:00.000000Z"):
            processors.register_processor(rt, org.as_role(role), _vendor("Backdated"))
    assert len(_entries(rt, org.id)) == before


def test_instants_after_the_stated_time_of_recording_are_in_the_future(rt: Runtime) -> None:
    system = _system_org(rt, "2020-01-01T00:00:00.000000Z")
    with (
        pytest.raises(ValidationError, match="discoveredAt"),
        recorded_at("2020-06-01T00:00:00.000000Z"),
    ):
        breaches.report_breach(
            rt, system, {"title": "Later", "discoveredAt": "2021-01-01T00:00:00.000000Z"}
        )
    with (
        pytest.raises(ValidationError, match="lastReviewedAt"),
        recorded_at("2020-06-01T00:00:00.000000Z"),
    ):
        activities.create_processing_activity(
            rt, system, {"name": "Payroll", "lastReviewedAt": "2020-07-01T00:00:00.000000Z"}
        )
    with recorded_at("2020-06-01T00:00:00.000000Z"):
        breaches.report_breach(
            rt, system, {"title": "Then", "discoveredAt": "2020-05-30T00:00:00.000000Z"}
        )
    assert len(_entries(rt, system.org_id or "")) == 2
