"""An attacker with database access (superuser on PostgreSQL, the file on SQLite) tampers
with the ledger or the records; an export of what is left is verified, and every attack is
caught and named. The append-only triggers are dropped first, as such an attacker would."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ropa.errors import VerificationError
from ropa.ledger.keys import SigningKey
from ropa.ledger.verify import verify_bundle
from ropa.services import activities, processors
from ropa.services.ledger_export import database_state, write_bundle
from ropa.services.reads import view_of
from ropa.services.runtime import Runtime
from tests.conftest import Org


@pytest.fixture
def history(rt: Runtime, org: Org) -> Org:
    editor = org.as_role("EDITOR")
    proc = processors.register_processor(rt, editor, {"name": "HubSpot", "country": "US"}).state
    assert proc is not None
    act = activities.create_processing_activity(rt, editor, {"name": "CRM"}).state
    assert act is not None
    processors.update_processor(rt, editor, proc["id"], {"dpaSignedOn": "2026-02-01"})
    activities.update_processing_activity(rt, editor, act["id"], {"purposes": ["sales"]})
    return org


def _export(rt: Runtime, org: Org, out: Path) -> Path:
    return write_bundle(rt.db, view_of(rt, org.as_role("DPO"), org.id), out)


def _as_attacker(rt: Runtime, attack: Callable[[Connection], None]) -> None:
    with rt.db.engine.begin() as conn:
        if rt.db.is_sqlite:
            for table in ("ledger_entry", "ledger_node", "ledger_checkpoint"):
                for action in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}"))
        else:
            for table in ("ledger_entry", "ledger_node", "ledger_checkpoint"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        attack(conn)


def _verify(rt: Runtime, bundle: Path, **kw: object) -> None:
    key = (bundle / "keys.txt").read_text().splitlines()[0]
    verify_bundle(bundle, key, workers=1, **kw)  # type: ignore[arg-type]


def _fails(rt: Runtime, bundle: Path, check: str, seq: int | None = None, **kw: object) -> None:
    with pytest.raises(VerificationError) as caught:
        _verify(rt, bundle, **kw)
    assert caught.value.check == check, caught.value
    if seq is not None:
        assert caught.value.seq == seq, caught.value


def test_an_untouched_ledger_verifies_against_the_database(
    rt: Runtime, history: Org, tmp_path: Path
) -> None:
    bundle = _export(rt, history, tmp_path / "b")
    text_ = (bundle / "checkpoint").read_text()
    origin, size = text_.splitlines()[0], int(text_.splitlines()[1])
    _verify(rt, bundle, live_state=database_state(rt.db.url, origin, size))


def test_an_edited_entry_is_caught(rt: Runtime, history: Org, tmp_path: Path) -> None:
    _as_attacker(
        rt,
        lambda c: c.execute(
            text("UPDATE ledger_entry SET canonical = :b WHERE org_id = :o AND seq = 6"),
            {"b": b'{"forged":true}', "o": history.id},
        ),
    )
    _fails(rt, _export(rt, history, tmp_path / "b"), "entry format", 6)


def test_an_edited_entry_with_a_recomputed_hash_is_caught_by_its_signature(
    rt: Runtime, history: Org, tmp_path: Path
) -> None:
    def attack(conn: Connection) -> None:
        row = conn.execute(
            text("SELECT canonical FROM ledger_entry WHERE org_id = :o AND seq = 6"),
            {"o": history.id},
        ).one()
        forged = bytes(row[0]).replace(b'"HubSpot"', b'"HubSpot Evil"')
        assert forged != bytes(row[0])
        conn.execute(
            text(
                "UPDATE ledger_entry SET canonical = :b, leaf_hash = :h "
                "WHERE org_id = :o AND seq = 6"
            ),
            {"b": forged, "h": hashlib.sha256(b"\x00" + forged).digest(), "o": history.id},
        )

    _as_attacker(rt, attack)
    _fails(rt, _export(rt, history, tmp_path / "b"), "signature", 6)


def test_an_entry_re_signed_with_another_key_is_caught(
    rt: Runtime, history: Org, tmp_path: Path
) -> None:
    forger = SigningKey.generate("forger-20261123")

    def attack(conn: Connection) -> None:
        leaf = conn.execute(
            text("SELECT leaf_hash FROM ledger_entry WHERE org_id = :o AND seq = 7"),
            {"o": history.id},
        ).scalar_one()
        conn.execute(
            text("UPDATE ledger_entry SET signature = :s WHERE org_id = :o AND seq = 7"),
            {"s": forger.sign_entry(bytes(leaf)), "o": history.id},
        )

    _as_attacker(rt, attack)
    _fails(rt, _export(rt, history, tmp_path / "b"), "signature", 7)


def test_a_deleted_entry_is_caught(rt: Runtime, history: Org, tmp_path: Path) -> None:
    def attack(conn: Connection) -> None:
        conn.execute(
            text("DELETE FROM ledger_entry WHERE org_id = :o AND seq = 5"), {"o": history.id}
        )
        # and close the gap, so the numbering looks whole
        conn.execute(
            text("UPDATE ledger_entry SET seq = seq - 1 WHERE org_id = :o AND seq > 5"),
            {"o": history.id},
        )

    _as_attacker(rt, attack)
    with pytest.raises(VerificationError) as caught:
        _verify(rt, _export(rt, history, tmp_path / "b"))
    assert caught.value.seq == 5


def test_a_truncated_tail_verifies_alone_but_not_against_a_kept_checkpoint(
    rt: Runtime, history: Org, tmp_path: Path
) -> None:
    kept = (_export(rt, history, tmp_path / "before") / "checkpoint").read_text()

    def attack(conn: Connection) -> None:
        o = {"o": history.id}
        conn.execute(text("DELETE FROM ledger_entry WHERE org_id = :o AND seq >= 7"), o)
        conn.execute(text("DELETE FROM ledger_checkpoint WHERE org_id = :o AND size > 7"), o)
        conn.execute(text("UPDATE ledger_head SET size = 7 WHERE org_id = :o"), o)

    _as_attacker(rt, attack)
    bundle = _export(rt, history, tmp_path / "after")
    with pytest.raises(VerificationError):
        # the records still show the removed changes
        _verify(rt, bundle, live_state=database_state(rt.db.url, f"ropa.local/{history.id}", 99))
    _fails(rt, bundle, "consistency proof", kept_checkpoint=kept)


def test_a_record_edited_behind_the_applications_back_is_caught_with_the_database(
    rt: Runtime, history: Org, tmp_path: Path
) -> None:
    bundle = _export(rt, history, tmp_path / "b")
    with rt.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE processor SET dpa_signed_on = '2020-01-01' WHERE valid_to IS NULL")
        )
    lines = (bundle / "checkpoint").read_text().splitlines()
    live = database_state(rt.db.url, lines[0], int(lines[1]))
    _verify(rt, bundle)  # the bundle alone is intact
    _fails(rt, bundle, "live database", live_state=live)
