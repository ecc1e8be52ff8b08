"""Group commit: writers that arrive while the head is held share the next transaction.

The head is held from another connection (PostgreSQL: SELECT ... FOR UPDATE; SQLite:
BEGIN IMMEDIATE) while eight writers start; the first leads and waits for the lock, the
other seven queue. Once the lock is released they are written as one group: one
checkpoint, an entry and a receipt each, each writer's own actor and its own error.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select, text

from ropa.errors import ConflictError, DuplicateError
from ropa.ledger import merkle
from ropa.ledger.checkpoint import parse_checkpoint
from ropa.ledger.keys import Verifier
from ropa.ledger.note import verify_note
from ropa.services import processors
from ropa.services.access import Principal
from ropa.services.changes import new_state
from ropa.services.runtime import Runtime
from ropa.store.group_commit import Job
from ropa.store.tables import LedgerCheckpoint, LedgerEntry, Processor
from ropa.store.write_path import Transaction
from tests.conftest import Org

WRITERS = 8


@contextmanager
def head_held(rt: Runtime, org_id: str) -> Iterator[None]:
    """The organisation's ledger locked by another connection until the block ends."""
    # a write connection: on SQLite its transaction begins with BEGIN IMMEDIATE
    with rt.db.engine.execution_options(ropa_write=True).connect() as conn:
        lock = "" if rt.db.is_sqlite else " FOR UPDATE"
        conn.execute(
            text(f"SELECT size FROM ledger_head WHERE org_id = :org{lock}"), {"org": org_id}
        )
        try:
            yield
        finally:
            conn.rollback()


def _together(
    rt: Runtime, org_id: str, calls: list[Callable[[], Any]]
) -> list[Any]:
    """Run `calls` in threads while the head is held; their results or their exceptions."""
    results: list[Any] = [None] * len(calls)

    def run(k: int) -> None:
        try:
            results[k] = calls[k]()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            results[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    with head_held(rt, org_id):
        threads[0].start()
        _wait_for(lambda: rt.writes._queue(org_id).busy)
        for t in threads[1:]:
            t.start()
        # the leader waits for the lock with its own change; the others queue behind it
        _wait_for(lambda: len(rt.writes._queue(org_id).waiting) == len(calls) - 1)
    for t in threads:
        t.join(30)
    return results


def _wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the writers did not queue"
        time.sleep(0.005)


def _entries(rt: Runtime, org_id: str) -> list[dict[str, Any]]:
    with rt.db.read() as conn:
        rows = conn.execute(
            select(LedgerEntry.canonical).where(LedgerEntry.org_id == org_id)
            .order_by(LedgerEntry.seq)
        ).scalars()
        return [json.loads(r) for r in rows]


def _checkpoints(rt: Runtime, org_id: str) -> list[int]:
    with rt.db.read() as conn:
        return list(conn.execute(
            select(LedgerCheckpoint.size).where(LedgerCheckpoint.org_id == org_id)
            .order_by(LedgerCheckpoint.size)
        ).scalars())


def _vendor(name: str) -> dict[str, Any]:
    return {"name": name, "country": "DE", "services": ["hosting"]}


def _writer(rt: Runtime, who: Principal, name: str) -> Callable[[], Any]:
    return lambda: processors.register_processor(rt, who, _vendor(name))


def test_writers_queued_behind_the_head_share_one_transaction_and_checkpoint(
    rt: Runtime, org: Org
) -> None:
    processors.register_processor(rt, org.as_role("EDITOR"), _vendor("Existing GmbH"))
    roles = ["EDITOR", "DPO"]
    calls = [
        _writer(rt, org.as_role(roles[k % 2]), f"Vendor {k}") for k in range(WRITERS)
    ]
    calls[4] = _writer(rt, org.as_role("DPO"), "existing gmbh")  # a duplicate: refused
    size_before = len(_entries(rt, org.id))
    checkpoints_before = len(_checkpoints(rt, org.id))

    results = _together(rt, org.id, calls)

    assert isinstance(results[4], DuplicateError)
    changes = [r for k, r in enumerate(results) if k != 4]
    assert all(not isinstance(c, Exception) for c in changes), changes
    receipts = [c.receipt for c in changes]
    assert sorted(r.seq for r in receipts) == list(range(size_before, size_before + 7))
    # the leader's change alone, then the six others together: two checkpoints, not seven
    assert len(_checkpoints(rt, org.id)) == checkpoints_before + 2
    assert rt.writes.groups == 1
    grouped = [r for k, r in enumerate(results) if k not in (0, 4)]
    assert len({c.receipt.checkpoint for c in grouped}) == 1

    verifier = Verifier.parse(rt.signing_key().verifier_key)
    entries = _entries(rt, org.id)
    for change, k in zip(changes, [k for k in range(WRITERS) if k != 4], strict=True):
        receipt = change.receipt
        checkpoint = parse_checkpoint(verify_note(receipt.checkpoint, [verifier]))
        assert checkpoint.size > receipt.seq
        entry = entries[receipt.seq]
        # each writer's own entry: its record, its actor
        assert entry["entity"]["id"] == change.state["id"] == receipt.entity_id
        assert entry["actor"]["role"] == roles[k % 2]
    with rt.db.read() as conn:
        stored = [bytes(b) for b in conn.execute(
            select(LedgerEntry.canonical).where(LedgerEntry.org_id == org.id)
            .order_by(LedgerEntry.seq)).scalars()]
    leaves = [merkle.leaf_hash(b) for b in stored]
    last = parse_checkpoint(verify_note(grouped[0].receipt.checkpoint, [verifier]))
    assert merkle.root(leaves[: last.size]) == last.root
    # the refused vendor wrote nothing
    names = [e["after"]["name"] for e in entries if e["op"] == "registerProcessor"]
    assert names.count("existing gmbh") == 0


def test_a_change_that_fails_after_writing_part_of_itself_fails_alone(
    rt: Runtime, org: Org
) -> None:
    key = rt.signing_key()
    editor = org.as_role("EDITOR")

    def create(name: str, fail: bool = False) -> Callable[[], Any]:
        def body(tx: Transaction) -> str:
            state = new_state("Processor", {"status": "ACTIVE", **_vendor(name)})
            tx.create(Processor, "registerProcessor", state)
            if fail:
                raise RuntimeError(f"{name} broke after its entry")
            return str(state["id"])

        return lambda: rt.writes.run(org.id, key, Job(editor.actor, body))

    calls = [create(f"Part {k}", fail=(k == 3)) for k in range(5)]
    results = _together(rt, org.id, calls)

    assert isinstance(results[3], RuntimeError)
    ok = [r for k, r in enumerate(results) if k != 3]
    assert all(isinstance(r, tuple) and len(r[1]) == 1 for r in ok), results
    names = [e["after"]["name"] for e in _entries(rt, org.id) if e["op"] == "registerProcessor"]
    assert sorted(names) == ["Part 0", "Part 1", "Part 2", "Part 4"]
    assert rt.writes.groups == 0  # the group started over, one change per transaction


def test_a_commit_the_database_refuses_is_retried_alone_so_only_the_culprit_fails(
    rt: Runtime, org: Org
) -> None:
    key = rt.signing_key()
    editor = org.as_role("EDITOR")

    def create(name: str, ref: str) -> Callable[[], Any]:
        # straight to the write path, past registerProcessor's own externalRef match: the
        # unique index refuses the second at COMMIT
        def body(tx: Transaction) -> str:
            state = new_state(
                "Processor", {"status": "ACTIVE", "externalRef": ref, **_vendor(name)}
            )
            tx.create(Processor, "registerProcessor", state)
            return str(state["id"])

        return lambda: rt.writes.run(org.id, key, Job(editor.actor, body))

    calls = [create("Leader", "L"), create("First", "same"), create("Second", "same"),
             create("Other", "other")]
    results = _together(rt, org.id, calls)

    assert isinstance(results[2], ConflictError)
    assert all(isinstance(results[k], tuple) for k in (0, 1, 3)), results
    names = {e["after"]["name"] for e in _entries(rt, org.id) if e["op"] == "registerProcessor"}
    assert names == {"Leader", "First", "Other"}


@pytest.mark.parametrize("writers", [1, 3])
def test_a_lone_writer_and_a_refused_group_leave_the_ledger_as_serial_writes_would(
    rt: Runtime, org: Org, writers: int
) -> None:
    before = _entries(rt, org.id)
    calls = [_writer(rt, org.as_role("EDITOR"), f"Same name {k % 2}") for k in range(writers)]
    results = _together(rt, org.id, calls) if writers > 1 else [calls[0]()]
    # a later writer of the same name reads the earlier one's change in the same group
    refused = [r for r in results if isinstance(r, DuplicateError)]
    assert len(refused) == max(0, writers - 2)
    after = _entries(rt, org.id)
    assert [e["seq"] for e in after] == list(range(len(after)))
    assert len(after) - len(before) == writers - len(refused)
