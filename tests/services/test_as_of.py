"""`asOf` answers from validity ranges agree with a replay of the ledger up to that instant."""

from __future__ import annotations

import json
import random
from typing import Any

from sqlalchemy import select

from ropa.services import activities, processors, transfers
from ropa.services.reads import all_records, open_view, view_of
from ropa.services.runtime import Runtime
from ropa.store.tables import LedgerEntry
from tests.conftest import Org

RECORD_TYPES = (
    "Organization",
    "ProcessingActivity",
    "Processor",
    "ProcessorEngagement",
    "Transfer",
    "ApiToken",
)


def _replay(rt: Runtime, org_id: str, upto_ts: str) -> dict[str, dict[str, Any]]:
    state: dict[str, dict[str, Any]] = {}
    with rt.db.read() as conn:
        rows = conn.execute(
            select(LedgerEntry.canonical)
            .where(LedgerEntry.org_id == org_id)
            .order_by(LedgerEntry.seq)
        ).scalars()
        for data in rows:
            entry = json.loads(data)
            if entry["ts"] > upto_ts:
                break
            records = state.setdefault(entry["entity"]["type"], {})
            if entry["after"] is None:
                records.pop(entry["entity"]["id"], None)
            else:
                records[entry["entity"]["id"]] = entry["after"]
    return {t: r for t, r in state.items() if r}


def _as_of(rt: Runtime, org: Org, ts: str) -> dict[str, dict[str, Any]]:
    view = view_of(rt, org.as_role("DPO"), org.id, ts)
    out = {}
    for entity_type in RECORD_TYPES:
        records = {s["id"]: s for s in all_records(rt, view, entity_type)}
        if records:
            out[entity_type] = records
    return out


def _random_history(rt: Runtime, org: Org, rng: random.Random, steps: int) -> list[str]:
    """Random creates, updates and deletes; returns the instant after each step."""
    editor = org.as_role("EDITOR")
    procs: list[str] = []
    acts: list[str] = []
    xfers: list[str] = []
    instants = []
    for step in range(steps):
        choice = rng.choice(["proc", "act", "update", "transfer", "remove", "retire"])
        if choice == "proc" or not procs:
            c = processors.register_processor(rt, editor, {"name": f"P{step}", "country": "US"})
            procs.append(c.state["id"])  # type: ignore[index]
        elif choice == "act" or not acts:
            c = activities.create_processing_activity(rt, editor, {"name": f"A{step}"})
            acts.append(c.state["id"])  # type: ignore[index]
        elif choice == "update":
            c = activities.update_processing_activity(
                rt, editor, rng.choice(acts), {"purposes": [f"purpose {step}"]}
            )
        elif choice == "transfer":
            c = transfers.record_transfer(
                rt,
                editor,
                {
                    "activityId": rng.choice(acts),
                    "recipientProcessorId": rng.choice(procs),
                    "fromCountry": "DE",
                    "toCountry": rng.choice(["US", "IN", "CH"]),
                },
            )
            xfers.append(c.state["id"])  # type: ignore[index]
        elif choice == "remove" and xfers:
            c = transfers.remove_transfer(rt, editor, xfers.pop(rng.randrange(len(xfers))))
        else:
            c = processors.retire_processor(rt, editor, rng.choice(procs))
        if c.receipt is not None:
            with rt.db.read() as conn:
                instants.append(
                    conn.execute(
                        select(LedgerEntry.ts).where(
                            LedgerEntry.org_id == org.id, LedgerEntry.seq == c.receipt.seq
                        )
                    ).scalar_one()
                )
    return instants


def test_as_of_every_instant_equals_the_replay_up_to_it(rt: Runtime, org: Org) -> None:
    instants = _random_history(rt, org, random.Random(7), 40)
    for ts in [*instants[::3], instants[-1]]:
        assert _as_of(rt, org, ts) == _replay(rt, org.id, ts), ts


def test_as_of_before_the_organisation_existed_finds_nothing(rt: Runtime, org: Org) -> None:
    import pytest

    from ropa.errors import NotFoundError

    with pytest.raises(NotFoundError):
        open_view(rt, org.as_role("DPO"), org.slug, "2000-01-01T00:00:00.000000Z")


def test_graphql_as_of_shows_the_past_after_a_change(rt: Runtime, org: Org) -> None:
    from starlette.testclient import TestClient

    from ropa.app import create_app

    editor = org.as_role("EDITOR")
    proc = processors.register_processor(rt, editor, {"name": "Dropbox", "country": "US"})
    assert proc.state is not None and proc.receipt is not None
    with rt.db.read() as conn:
        then = conn.execute(
            select(LedgerEntry.ts).where(
                LedgerEntry.org_id == org.id, LedgerEntry.seq == proc.receipt.seq
            )
        ).scalar_one()
    processors.update_processor(rt, editor, proc.state["id"], {"name": "Dropbox, Inc."})
    query = (
        'query($t: DateTime) { organization(slug: "acme", asOf: $t) { asOf '
        "processors { edges { node { name } } } } }"
    )
    with TestClient(create_app(rt)) as client:
        headers = {"Authorization": f"Bearer {org.tokens['VIEWER']}"}
        past = client.post(
            "/graphql", json={"query": query, "variables": {"t": then}}, headers=headers
        ).json()["data"]["organization"]
        now = client.post(
            "/graphql", json={"query": query, "variables": {"t": None}}, headers=headers
        ).json()["data"]["organization"]
    assert [e["node"]["name"] for e in past["processors"]["edges"]] == ["Dropbox"]
    assert [e["node"]["name"] for e in now["processors"]["edges"]] == ["Dropbox, Inc."]
    assert past["asOf"] is not None and now["asOf"] is None
