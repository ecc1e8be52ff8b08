"""Reading an organisation's ledger: head, entries, history of a record, proofs, receipts.

Proofs are RFC 9162 audit paths served from stored subtree hashes (ledger_store.py).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from ropa.errors import FieldError, NotFoundError, ValidationError
from ropa.ledger import merkle
from ropa.services.access import Action, Principal, authorize, read_action
from ropa.services.runtime import Runtime
from ropa.store import ledger_store
from ropa.store.tables import LedgerEntry

MAX_ENTRIES = 500  # one page of `Ledger.entries`


@dataclass(frozen=True)
class EntryView:
    """An entry as the API shows it: the signed JSON and its signature."""

    seq: int
    ts: str
    op: str
    entity_type: str
    entity_id: str
    actor: dict[str, str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    canonical: str
    leaf_hash: str
    signature: str
    key_id: str


def entry_view(row: LedgerEntry) -> EntryView:
    entry = json.loads(row.canonical)
    return EntryView(
        seq=row.seq,
        ts=row.ts,
        op=row.op,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        actor=entry["actor"],
        before=entry["before"],
        after=entry["after"],
        canonical=row.canonical.decode("utf-8"),
        leaf_hash=row.leaf_hash.hex(),
        signature=base64.b64encode(row.signature).decode(),
        key_id=row.key_id,
    )


@dataclass(frozen=True)
class Head:
    size: int
    root_hash: str
    checkpoint: str
    key_id: str


def head(rt: Runtime, principal: Principal, org_id: str) -> Head:
    authorize(principal, Action.READ, org_id)
    with rt.db.read() as conn:
        row = ledger_store.read_head(conn, org_id)
    if row is None:
        raise NotFoundError("organization not found")
    return Head(row.size, row.root_hash, row.checkpoint, row.key_id)


def entries(
    rt: Runtime, principal: Principal, org_id: str, first: int, after: int | None
) -> list[EntryView]:
    authorize(principal, Action.READ_LEDGER, org_id)
    if first < 0 or first > MAX_ENTRIES + 1:  # the API asks one more, to see a next page
        raise ValidationError(FieldError("first", f"between 0 and {MAX_ENTRIES}"))
    with rt.db.read() as conn:
        rows = list(
            ledger_store.entries(conn, org_id, after=-1 if after is None else after, limit=first)
        )
    return [entry_view(r) for r in rows]


def history(rt: Runtime, principal: Principal, org_id: str, entity_id: str) -> list[EntryView]:
    """Every change to one record, oldest first."""
    authorize(principal, Action.READ, org_id)
    with rt.db.read() as conn:
        rows = list(ledger_store.entries(conn, org_id, entity_id=entity_id))
    for entity_type in {r.entity_type for r in rows}:
        authorize(principal, read_action(entity_type), org_id)  # a breach's history is the DPO's
    return [entry_view(r) for r in rows]


def _check_size(conn: Any, org_id: str, size: int, field: str) -> None:
    row = ledger_store.read_head(conn, org_id)
    current = row.size if row else 0
    if size < 0 or size > current:
        raise ValidationError(FieldError(field, f"between 0 and the ledger size ({current})"))


def inclusion_proof(
    rt: Runtime, principal: Principal, org_id: str, seq: int, tree_size: int
) -> list[str]:
    authorize(principal, Action.READ, org_id)
    proof = _Proof(rt, org_id, tree_size, "treeSize")
    if seq < 0 or seq >= tree_size:
        proof.check()  # the size is judged first, as it always was
        raise ValidationError(FieldError("seq", "must be below treeSize"))
    return [h.hex() for h in proof.done(merkle.inclusion_proof(seq, tree_size, proof.fetch))]


def consistency_proof(
    rt: Runtime, principal: Principal, org_id: str, from_size: int, to_size: int
) -> list[str]:
    authorize(principal, Action.READ, org_id)
    proof = _Proof(rt, org_id, to_size, "toSize")
    if from_size < 1 or from_size > to_size:
        proof.check()
        raise ValidationError(FieldError("fromSize", "between 1 and toSize"))
    hashes = merkle.consistency_proof(from_size, to_size, proof.fetch)
    return [h.hex() for h in proof.done(hashes)]


# Stored subtree nodes never change (append-only), so the upper levels, which every proof
# of a ledger shares, are kept in memory: a proof reads only its lower nodes, with the
# head's size, in one statement (`ledger_store.head_size_and_nodes`).
UPPER_LEVEL = 8
_UPPER_MAX = 100_000
_upper: dict[tuple[str, str, int, int], bytes] = {}


class _Proof:
    """One proof's reads: the size check and the nodes not in memory, in one statement."""

    def __init__(self, rt: Runtime, org_id: str, size: int, field: str) -> None:
        self.rt, self.org_id, self.size, self.field = rt, org_id, size, field
        self.checked = False

    def fetch(self, wanted: Any) -> dict[tuple[int, int], bytes]:
        url = self.rt.settings.database_url
        found: dict[tuple[int, int], bytes] = {}
        missing = []
        for level, idx in wanted:
            digest = _upper.get((url, self.org_id, level, idx)) if level >= UPPER_LEVEL else None
            if digest is None:
                missing.append((level, idx))
            else:
                found[(level, idx)] = digest
        with self.rt.db.read() as conn:
            current, nodes = ledger_store.head_size_and_nodes(conn, self.org_id, missing)
        self._check(current)
        if len(_upper) > _UPPER_MAX:
            _upper.clear()
        for (level, idx), digest in nodes.items():
            if level >= UPPER_LEVEL:
                _upper[(url, self.org_id, level, idx)] = digest
        found.update(nodes)
        return found

    def _check(self, current: int | None) -> None:
        self.checked = True
        current = current or 0
        if self.size < 0 or self.size > current:
            raise ValidationError(
                FieldError(self.field, f"between 0 and the ledger size ({current})")
            )

    def check(self) -> None:
        if not self.checked:
            self.fetch([])

    def done(self, hashes: list[bytes]) -> list[bytes]:
        self.check()  # an empty proof fetched nothing: the size is still checked
        return hashes


def root_at(rt: Runtime, principal: Principal, org_id: str, size: int) -> str:
    authorize(principal, Action.READ, org_id)
    with rt.db.read() as conn:
        _check_size(conn, org_id, size, "size")
        return ledger_store.root_at(conn, org_id, size).hex()


def checkpoint_for(rt: Runtime, org_id: str, seq: int) -> str | None:
    with rt.db.read() as conn:
        return ledger_store.checkpoint_for(conn, org_id, seq)


def verifier_keys(rt: Runtime) -> list[dict[str, Any]]:
    """The deployment's public verifier keys, oldest first: public, needs no token."""
    from sqlalchemy import select

    from ropa.store.tables import SigningKeyRecord

    with rt.db.read() as conn:
        rows = conn.execute(select(SigningKeyRecord).order_by(SigningKeyRecord.created_at)).all()
    return [
        {
            "name": r.name,
            "keyId": r.key_id,
            "verifierKey": r.verifier_key,
            "previousKeyId": r.previous_key_id,
            "createdAt": r.created_at,
        }
        for r in rows
    ]
