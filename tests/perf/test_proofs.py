"""Proofs in one statement: the head's size and the lower nodes read together, the upper
levels (immutable, shared by every proof) kept in memory; the proofs equal the ones built
from the node store directly, verify against the roots, and sizes are still judged."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import event, select

from ropa.errors import ValidationError
from ropa.ledger import merkle
from ropa.services import ledger_queries
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.imports import Step, import_changes
from ropa.services.runtime import Runtime
from ropa.store import ledger_store
from ropa.store.tables import LedgerEntry
from tests.conftest import Org


def _grow(rt: Runtime, org: Org, n: int) -> int:
    steps = [Step("registerProcessor", {"name": f"Vendor {i}", "country": "DE"}) for i in range(n)]
    import_changes(rt, org.as_role("DPO"), steps)
    return ledger_queries.head(rt, org.as_role("DPO"), org.id).size


def _count(rt: Runtime, fn: object, *args: object) -> int:
    sent: list[object] = []

    def note(*args: object) -> None:
        if str(args[2]).strip().upper() != "BEGIN":  # SQLite's transaction start
            sent.append(args[2])

    event.listen(rt.db.engine, "before_cursor_execute", note)
    try:
        fn(*args)  # type: ignore[operator]
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", note)
    return len(sent)


def test_proofs_equal_the_node_store_and_verify_in_one_statement_each(
    rt: Runtime, org: Org
) -> None:
    size = _grow(rt, org, 700)  # past level 8 (256 leaves): some nodes come from memory
    with rt.db.read() as conn:
        leaves = [
            bytes(h)
            for h in conn.execute(
                select(LedgerEntry.leaf_hash)
                .where(LedgerEntry.org_id == org.id)
                .order_by(LedgerEntry.seq)
            ).scalars()
        ]
    rnd = random.Random(3)
    reader = org.as_role("VIEWER")
    for _ in range(25):
        tree = rnd.randrange(1, size + 1)
        seq = rnd.randrange(tree)
        old = rnd.randrange(1, tree + 1)
        with rt.db.read() as conn:
            want_inclusion = ledger_store.inclusion_proof(conn, org.id, seq, tree)
            want_consistency = ledger_store.consistency_proof(conn, org.id, old, tree)
        got = ledger_queries.inclusion_proof(rt, reader, org.id, seq, tree)
        assert got == [h.hex() for h in want_inclusion]
        merkle.verify_inclusion(
            leaves[seq], seq, tree, [bytes.fromhex(h) for h in got], merkle.root(leaves[:tree])
        )
        got = ledger_queries.consistency_proof(rt, reader, org.id, old, tree)
        assert got == [h.hex() for h in want_consistency]
        merkle.verify_consistency(
            old,
            tree,
            [bytes.fromhex(h) for h in got],
            merkle.root(leaves[:old]),
            merkle.root(leaves[:tree]),
        )
        assert _count(rt, ledger_queries.inclusion_proof, rt, reader, org.id, seq, tree) == 1
        assert _count(rt, ledger_queries.consistency_proof, rt, reader, org.id, old, tree) == 1


def test_a_proof_beyond_the_ledger_or_below_its_leaf_is_refused(rt: Runtime, org: Org) -> None:
    size = _grow(rt, org, 5)
    with pytest.raises(ValidationError, match="treeSize"):
        ledger_queries.inclusion_proof(rt, SYSTEM_PRINCIPAL, org.id, 0, size + 1)
    with pytest.raises(ValidationError, match="seq"):
        ledger_queries.inclusion_proof(rt, SYSTEM_PRINCIPAL, org.id, size, size)
    with pytest.raises(ValidationError, match="toSize"):
        ledger_queries.consistency_proof(rt, SYSTEM_PRINCIPAL, org.id, 1, size + 1)
    with pytest.raises(ValidationError, match="fromSize"):
        ledger_queries.consistency_proof(rt, SYSTEM_PRINCIPAL, org.id, 0, size)
    assert ledger_queries.consistency_proof(rt, SYSTEM_PRINCIPAL, org.id, size, size) == []
