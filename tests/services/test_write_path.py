"""The one write path: every change and its signed entry commit together, or neither does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from ropa.errors import ConflictError, LedgerGuardError, NotFoundError, ValidationError
from ropa.ledger import merkle
from ropa.ledger.checkpoint import parse_checkpoint
from ropa.ledger.keys import Verifier
from ropa.ledger.note import verify_note
from ropa.services import activities, processors, transfers
from ropa.services.runtime import Runtime
from ropa.store.tables import LedgerEntry, Processor
from tests.conftest import Org


def _entries(rt: Runtime, org_id: str) -> list[dict[str, Any]]:
    with rt.db.read() as conn:
        rows = conn.execute(
            select(LedgerEntry.canonical)
            .where(LedgerEntry.org_id == org_id)
            .order_by(LedgerEntry.seq)
        ).scalars()
        return [json.loads(r) for r in rows]


def _register(rt: Runtime, org: Org, **fields: Any) -> dict[str, Any]:
    data = {"name": "AWS", "country": "US", "dpf": True, "services": ["hosting"], **fields}
    change = processors.register_processor(rt, org.as_role("EDITOR"), data)
    assert change.state is not None
    return change.state


def test_each_change_appends_one_entry_whose_before_chains_to_the_previous_after(
    rt: Runtime, org: Org
) -> None:
    proc = _register(rt, org)
    processors.update_processor(
        rt, org.as_role("EDITOR"), proc["id"], {"dpaSignedOn": "2026-01-02"}
    )
    processors.retire_processor(rt, org.as_role("DPO"), proc["id"])
    mine = [e for e in _entries(rt, org.id) if e["entity"]["id"] == proc["id"]]
    assert [e["op"] for e in mine] == ["registerProcessor", "updateProcessor", "retireProcessor"]
    assert mine[0]["before"] is None
    assert mine[1]["before"] == mine[0]["after"]
    assert mine[2]["before"] == mine[1]["after"]
    assert mine[2]["after"]["status"] == "RETIRED"
    assert mine[1]["actor"] == {"id": org.as_role("EDITOR").actor.id, "role": "EDITOR"}


def test_entries_are_gapless_and_timestamps_never_go_backwards(rt: Runtime, org: Org) -> None:
    for n in range(5):
        _register(rt, org, name=f"Vendor {n}")
    entries = _entries(rt, org.id)
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    assert [e["ts"] for e in entries] == sorted(e["ts"] for e in entries)
    assert {e["origin"] for e in entries} == {f"ropa.local/{org.id}"}


def test_receipt_checkpoint_is_signed_and_its_root_covers_the_entry(rt: Runtime, org: Org) -> None:
    change = processors.register_processor(
        rt, org.as_role("EDITOR"), {"name": "HubSpot", "country": "US"}
    )
    receipt = change.receipt
    assert receipt is not None
    verifier = Verifier.parse(rt.signing_key().verifier_key)
    checkpoint = parse_checkpoint(verify_note(receipt.checkpoint, [verifier]))
    assert checkpoint.size == receipt.seq + 1
    leaves = [merkle.leaf_hash(json_bytes) for json_bytes in _canonical(rt, org.id)]
    assert leaves[receipt.seq].hex() == receipt.leaf_hash
    assert merkle.root(leaves[: checkpoint.size]) == checkpoint.root


def _canonical(rt: Runtime, org_id: str) -> list[bytes]:
    with rt.db.read() as conn:
        return [
            bytes(b)
            for b in conn.execute(
                select(LedgerEntry.canonical)
                .where(LedgerEntry.org_id == org_id)
                .order_by(LedgerEntry.seq)
            ).scalars()
        ]


def test_invalid_input_writes_neither_record_nor_entry(rt: Runtime, org: Org) -> None:
    before = len(_entries(rt, org.id))
    with pytest.raises(ValidationError) as caught:
        processors.register_processor(
            rt, org.as_role("EDITOR"), {"name": "", "country": "XX", "dpaDataCategories": ["nope"]}
        )
    fields = {e.field for e in caught.value.errors}
    assert {"name", "country", "dpaDataCategories.0"} <= fields
    assert len(_entries(rt, org.id)) == before


def test_a_failure_after_the_entry_is_appended_rolls_both_back(rt: Runtime, org: Org) -> None:
    activity = activities.create_processing_activity(
        rt, org.as_role("EDITOR"), {"name": "CRM", "purposes": ["support"]}
    ).state
    assert activity is not None
    before = len(_entries(rt, org.id))
    # the reference check runs after the state is built: a missing processor aborts all
    with pytest.raises(ValidationError):
        transfers.record_transfer(
            rt,
            org.as_role("EDITOR"),
            {
                "activityId": activity["id"],
                "recipientProcessorId": "00000000-0000-4000-8000-000000000000",
                "fromCountry": "DE",
                "toCountry": "US",
                "mechanism": "SCC",
                "sccModule": 2,
            },
        )
    assert len(_entries(rt, org.id)) == before


def test_a_record_of_another_organisation_cannot_be_referenced(
    rt: Runtime, org: Org, other_org: Org
) -> None:
    theirs = _register(rt, other_org)
    activity = activities.create_processing_activity(
        rt, org.as_role("EDITOR"), {"name": "CRM"}
    ).state
    assert activity is not None
    with pytest.raises(ValidationError) as caught:
        activities.engage_processor(
            rt,
            org.as_role("EDITOR"),
            {
                "activityId": activity["id"],
                "processorId": theirs["id"],
            },
        )
    assert caught.value.errors[0].field == "processorId"
    with pytest.raises(NotFoundError):
        processors.update_processor(rt, org.as_role("EDITOR"), theirs["id"], {"name": "Mine"})


def test_registering_the_same_external_ref_twice_updates_instead_of_duplicating(
    rt: Runtime, org: Org
) -> None:
    first = _register(rt, org, externalRef="vendor-42")
    again = processors.register_processor(
        rt,
        org.as_role("EDITOR"),
        {
            "name": "AWS",
            "country": "US",
            "dpf": True,
            "services": ["hosting"],
            "externalRef": "vendor-42",
        },
    )
    assert again.receipt is None and again.state is not None
    assert again.state["id"] == first["id"]
    changed = processors.register_processor(
        rt, org.as_role("EDITOR"), {"name": "AWS EMEA", "country": "IE", "externalRef": "vendor-42"}
    )
    assert changed.state is not None and changed.state["id"] == first["id"]
    with rt.db.read() as conn:
        current = conn.execute(
            select(Processor).where(Processor.org_id == org.id, Processor.valid_to.is_(None))  # type: ignore[union-attr]
        ).all()
    assert len(current) == 1


def test_flushing_a_record_outside_the_write_path_is_refused(rt: Runtime, org: Org) -> None:
    proc = _register(rt, org)
    with Session(rt.db.engine) as session:
        row = session.execute(select(Processor).where(Processor.id == proc["id"])).scalar_one()
        row.name = "Quietly renamed"
        with pytest.raises(LedgerGuardError):
            session.commit()
    with Session(rt.db.engine) as session:
        session.add(
            Processor(
                id=proc["id"],
                valid_from=999,
                org_id=org.id,
                name="x",
                country="US",
                status="ACTIVE",
                services=[],
                processing_locations=[],
                dpa_data_categories=[],
                sub_processors=[],
                certifications=[],
            )
        )
        with pytest.raises(LedgerGuardError):
            session.flush()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET op = 'forged'",
        "DELETE FROM ledger_entry",
        "UPDATE ledger_node SET level = level",
        "DELETE FROM ledger_checkpoint",
    ],
)
def test_the_database_refuses_to_change_ledger_rows(rt: Runtime, org: Org, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), rt.db.engine.begin() as conn:
        conn.execute(text(statement))
    assert len(_entries(rt, org.id)) > 0


def test_the_database_refuses_to_truncate_the_ledger_on_postgresql(rt: Runtime, org: Org) -> None:
    if rt.db.is_sqlite:
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"), rt.db.engine.begin() as conn:
        conn.execute(text("TRUNCATE ledger_entry"))


def test_a_duplicate_slug_is_a_conflict_and_leaves_no_ledger(rt: Runtime, org: Org) -> None:
    from ropa.services import organizations
    from ropa.services.access import SYSTEM_PRINCIPAL

    with pytest.raises(ConflictError):
        organizations.create_organization(
            rt,
            SYSTEM_PRINCIPAL,
            {
                "slug": org.slug,
                "name": "Copy",
                "roles": ["CONTROLLER"],
                "country": "FR",
            },
        )
    with rt.db.read() as conn:
        heads = conn.execute(text("SELECT count(*) FROM ledger_head")).scalar_one()
    assert heads == 1


def test_writes_are_refused_with_a_key_that_is_not_the_ledgers(rt: Runtime, org: Org) -> None:
    from ropa.errors import ConfigurationError
    from ropa.ledger.keys import SigningKey

    rt.set_signing_key(SigningKey.generate("intruder-20261123"))
    with pytest.raises(ConfigurationError, match="ropa keys"):
        _register(rt, org)


def test_the_rotation_checkpoint_is_signed_by_the_old_key_then_the_new(
    rt: Runtime, org: Org
) -> None:
    from ropa.ledger.note import parse_note
    from ropa.services import signing_keys
    from ropa.services.access import SYSTEM_PRINCIPAL

    old = rt.signing_key()
    (receipt,) = signing_keys.rotate(rt, SYSTEM_PRINCIPAL)
    new = rt.signing_key()
    _, signatures = parse_note(receipt.checkpoint)
    assert [(s.name, s.key_id) for s in signatures] == [
        (old.name, old.key_id),
        (new.name, new.key_id),
    ]
    for verifier in (old.verifier, new.verifier):  # either key alone bridges the rotation
        assert parse_checkpoint(verify_note(receipt.checkpoint, [verifier])).size == receipt.seq + 1
    # the next checkpoint is the new key's alone
    data = {"name": "Next", "country": "DE"}
    change = processors.register_processor(rt, org.as_role("EDITOR"), data)
    assert change.receipt is not None
    assert [s.key_id for s in parse_note(change.receipt.checkpoint)[1]] == [new.key_id]
