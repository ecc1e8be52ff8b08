"""Reading an organisation's ledger: head, entries, history of a record, proofs, receipts.

Proofs are RFC 9162 audit paths served from stored subtree hashes (ledger_store.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from ropa.errors import FieldError, NotFoundError, ValidationError
from ropa.ledger import merkle
from ropa.ledger.checkpoint import parse_checkpoint
from ropa.ledger.note import parse_note
from ropa.services.access import Action, Principal, authorize, read_action
from ropa.services.runtime import Runtime
from ropa.store import cosignature_store, ledger_store
from ropa.store.tables import LedgerEntry, SigningKeyRecord

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


def head(rt: Runtime, principal: Principal, org_id: str, as_of: str | None = None) -> Head:
    """The ledger's head now, or as it stood at instant `as_of` (ledger form): the
    checkpoint in force then, i.e. the largest tree whose last entry's ts <= `as_of`."""
    authorize(principal, Action.READ, org_id)
    with rt.db.read() as conn:
        if as_of is not None:
            return _head_at(conn, org_id, as_of)
        row = ledger_store.read_head(conn, org_id)
    if row is None:
        raise NotFoundError("organization not found")
    return Head(row.size, row.root_hash, row.checkpoint, row.key_id)


@dataclass(frozen=True)
class HeadMark:
    """What names a ledger's head: its size and Merkle root."""

    size: int
    root_hash: str


def head_mark(rt: Runtime, principal: Principal, org_id: str) -> HeadMark:
    """The size and root of the ledger's head now, in one statement (one round trip)."""
    authorize(principal, Action.READ, org_id)
    row = rt.db.read_one(ledger_store.head_mark_statement(org_id))
    if row is None:
        raise NotFoundError("organization not found")
    return HeadMark(int(row._mapping["size"]), str(row._mapping["root_hash"]))


async def head_mark_now(rt: Runtime, principal: Principal, org_id: str) -> HeadMark:
    """`head_mark` from the event loop: what the result cache keys answers on and names in
    ETags (`ropa.api.cache`). PostgreSQL is asked from the loop itself (no worker thread);
    SQLite, which has no round trip, in a worker thread."""
    if rt.db.is_sqlite:
        return await asyncio.to_thread(head_mark, rt, principal, org_id)
    authorize(principal, Action.READ, org_id)
    row = await rt.db.read_one_async(ledger_store.HEAD_MARK_SQL, (org_id,))
    if row is None:
        raise NotFoundError("organization not found")
    return HeadMark(int(row[0]), str(row[1]))


def _head_at(conn: Any, org_id: str, as_of: str) -> Head:
    found = ledger_store.checkpoint_at(conn, org_id, as_of)
    if found is None:
        raise NotFoundError("organization not found at that instant")
    size, note = found
    text, signatures = parse_note(note)
    known = set(conn.execute(select(col(SigningKeyRecord.key_id))).scalars())
    # the deployment's own key that signs on from this tree: the new one after a rotation
    ours = [s.key_id.hex() for s in signatures if s.key_id.hex() in known]
    cosigned = note + "".join(cosignature_store.lines_at(conn, org_id, size))
    return Head(size, parse_checkpoint(text).root.hex(), cosigned, ours[-1] if ours else "")


def latest_checkpoint(rt: Runtime, principal: Principal, org_id: str) -> str:
    """The head's checkpoint as served: the log's signature lines, then the cosignatures
    witnesses have given it so far (LEDGER-SPEC §5, §9)."""
    authorize(principal, Action.READ, org_id)
    with rt.db.read() as conn:
        row = ledger_store.read_head(conn, org_id)
        if row is None:
            raise NotFoundError("organization not found")
        return row.checkpoint + "".join(cosignature_store.lines_at(conn, org_id, row.size))


def checkpoint_at(rt: Runtime, principal: Principal, org_id: str, size: int) -> str | None:
    """The checkpoint of tree size `size`, with its cosignatures; None when no commit
    ended at that size (a commit of several changes signs only its last size)."""
    authorize(principal, Action.READ, org_id)
    with rt.db.read() as conn:
        _check_size(conn, org_id, size, "size")
        return cosignature_store.note_at(conn, org_id, size)


MAX_SEQ = (1 << 62) - 1  # beyond any ledger, and within every database's integer


def entry_cursor(after: str | None) -> int | None:
    """The seq an `entries` cursor names (its decimal digits); anything else is
    BAD_USER_INPUT."""
    if after is None:
        return None
    if not (0 < len(after) <= 19 and after.isascii() and after.isdigit()) or int(after) > MAX_SEQ:
        raise ValidationError(FieldError("after", "not a cursor of this connection"))
    return int(after)


def entries(
    rt: Runtime,
    principal: Principal,
    org_id: str,
    first: int,
    after: int | None,
    below: int | None = None,
) -> list[EntryView]:
    """A page of entries in seq order; with `below`, only those of the tree of that size."""
    authorize(principal, Action.READ_LEDGER, org_id)
    if first < 0 or first > MAX_ENTRIES + 1:  # the API asks one more, to see a next page
        raise ValidationError(FieldError("first", f"between 0 and {MAX_ENTRIES}"))
    with rt.db.read() as conn:
        rows = list(
            ledger_store.entries(
                conn, org_id, after=-1 if after is None else after, limit=first, below=below
            )
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


def leaf_hash(rt: Runtime, principal: Principal, org_id: str, seq: int) -> str:
    """The leaf hash of entry `seq` ("" when there is none): part of a proof, so READ.

    A hash tells nothing of the entry; its content is READ_LEDGER's (`entries`)."""
    authorize(principal, Action.READ, org_id)
    if seq < 0 or seq > MAX_SEQ:
        return ""
    with rt.db.read() as conn:
        rows = list(ledger_store.entries(conn, org_id, after=seq - 1, limit=1))
    return rows[0].leaf_hash.hex() if rows and rows[0].seq == seq else ""


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
