"""Exporting an organisation's ledger as an offline bundle (LEDGER-SPEC §7, with the
anchors of §9), and reading the live records an auditor's `ropa ledger verify --database`
compares a replay with.

The export is one consistent snapshot: entries, checkpoint and `state.json` all at the
same ledger size, read in batches so memory stays flat however long the ledger is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from ropa.errors import ConfigurationError, NotFoundError
from ropa.ledger.bundle import BundleWriter
from ropa.ledger.entry import SignedEntry
from ropa.ledger.note import parse_note
from ropa.services.access import Action, Principal, authorize
from ropa.services.reads import View, open_view, visible
from ropa.services.runtime import Runtime
from ropa.store import anchor_store, cosignature_store, ledger_store
from ropa.store.database import Database
from ropa.store.migrate import schema_problem
from ropa.store.tables import (
    RECORD_TABLES,
    LedgerCheckpoint,
    LedgerEntry,
    SigningKeyRecord,
)


def export_ledger(
    rt: Runtime,
    principal: Principal,
    slug: str,
    out_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    view, _org = open_view(rt, principal, slug)
    authorize(principal, Action.EXPORT, view.org_id)
    return write_bundle(rt.db, view, out_dir, progress)


def write_bundle(
    db: Database,
    view: View,
    out_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    with db.read() as conn:
        note = conn.execute(
            select(col(LedgerCheckpoint.note)).where(
                col(LedgerCheckpoint.org_id) == view.org_id, col(LedgerCheckpoint.size) == view.size
            )
        ).scalar_one_or_none()
        if note is None:
            raise NotFoundError("no checkpoint at that ledger size")
        key_order: list[str] = []
        with BundleWriter(out_dir) as bundle:
            for row in ledger_store.entries(conn, view.org_id, limit=view.size):
                bundle.add(_signed(row))
                if row.key_id not in key_order:
                    key_order.append(row.key_id)
                if progress and (row.seq + 1) % 1000 == 0:
                    progress(row.seq + 1, view.size)
            for signature in parse_note(note)[1]:  # the checkpoint's signer comes last
                if signature.key_id.hex() not in key_order:
                    key_order.append(signature.key_id.hex())
            cosigned: dict[int, str] = {}
            for size in cosignature_store.cosigned_sizes(conn, view.org_id, view.size):
                found = cosignature_store.note_at(conn, view.org_id, size)
                if found is not None:
                    cosigned[size] = found
                if size == view.size and found is not None:
                    note = found  # the latest checkpoint, as served: with its cosignatures
            verifiers = _verifier_keys(conn, key_order)
            state = live_state(conn, view)
            write_anchors(conn, bundle, view, cosigned)
            path = bundle.finish(note, verifiers, state, as_stored=True)
    if progress:
        progress(view.size, view.size)
    return path


def write_anchors(
    conn: Any, bundle: BundleWriter, view: View, cosigned: dict[int, str] | None = None
) -> None:
    """Spec §9: `checkpoints/<size>` for every size with a timestamp or a cosignature (the
    note with its cosignature lines, when it has some) and `anchors/<size>.<tsa>.tsr`."""
    cosigned = cosigned or {}
    found = anchor_store.anchors(conn, view.org_id, max_size=view.size)
    for size in sorted({a.size for a in found} | set(cosigned)):
        note = cosigned.get(size) or anchor_store.checkpoint_at(conn, view.org_id, size)
        if note is not None:
            bundle.add_checkpoint(size, note)
    for anchor in found:
        bundle.add_anchor(anchor.size, anchor.tsa, anchor.token)


def _signed(row: LedgerEntry) -> SignedEntry:
    return SignedEntry(
        seq=row.seq,
        canonical=bytes(row.canonical),
        leaf_hash=bytes(row.leaf_hash),
        signature=bytes(row.signature),
        key_id=bytes.fromhex(row.key_id),
    )


def _verifier_keys(conn: Any, key_ids: list[str]) -> list[str]:
    rows = conn.execute(
        select(col(SigningKeyRecord.key_id), col(SigningKeyRecord.verifier_key))
    ).all()
    by_id = dict(rows)
    # a key id no signing key has (a witness cosignature's) is not a ledger key
    return [by_id[k] for k in key_ids if k in by_id]


def live_state(conn: Any, view: View) -> dict[str, dict[str, Any]]:
    """{type: {id: state}} of the records visible in `view`, as the database holds them."""
    out: dict[str, dict[str, Any]] = {}
    for table in RECORD_TABLES:
        rows = conn.execute(select(table).where(visible(table, view)))
        states = {r.id: table.model_validate(r._mapping).to_state() for r in rows}
        if states:
            out[table.entity_type] = states
    # rotation entries (spec §4) leave SigningKey records; they live in the entries only
    rotations = conn.execute(
        select(col(LedgerEntry.canonical)).where(
            col(LedgerEntry.org_id) == view.org_id,
            col(LedgerEntry.entity_type) == "SigningKey",
            col(LedgerEntry.seq) < view.size,
        )
    ).scalars()
    for data in rotations:
        entry = json.loads(data)
        if entry["after"] is not None:
            out.setdefault("SigningKey", {})[entry["entity"]["id"]] = entry["after"]
    return out


def database_state(url: str, origin: str, size: int) -> dict[str, dict[str, Any]]:
    """What the database at `url` holds for the ledger `origin` at `size` entries."""
    org_id = origin.rsplit("/", 1)[-1]
    db = Database(url)
    try:
        problem = schema_problem(db)  # never creates a missing SQLite file
        if problem is not None:
            raise ConfigurationError(f"--database: {problem}")
        with db.read() as conn:
            return live_state(conn, View(org_id, size))
    finally:
        db.dispose()
