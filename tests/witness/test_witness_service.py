"""The witness's decisions on both databases, without HTTP: from the empty tree onwards,
and the compare-and-swap that keeps a slower request from moving the state back."""

from __future__ import annotations

import pytest

from ropa.ledger import merkle
from ropa.ledger.cosignature import CosigningKey, verify_cosignatures
from ropa.ledger.keys import SigningKey
from ropa.services.witness import WitnessConfig, WitnessRefusal, add_checkpoint
from ropa.store import witness_state
from ropa.store.database import Database
from ropa.store.witness_state import LogState
from tests.witness.conftest import add_body, signed

ORIGIN = "ropa.test/4f0c2d8e-0000-4000-8000-000000000002"
LOG = SigningKey.generate("ropa.test-20261129")
WITNESS = CosigningKey.generate("auditor.test/w1")


def root(n: int) -> bytes:
    return merkle.root([merkle.leaf_hash(bytes([i])) for i in range(n)])


@pytest.fixture
def db(database_url: str) -> Database:
    return Database(database_url)


def test_the_empty_tree_is_cosigned_and_then_any_tree_extends_it(db: Database) -> None:
    config = WitnessConfig(WITNESS, {ORIGIN: (LOG.verifier,)})
    empty = signed(ORIGIN, 0, merkle.EMPTY_ROOT, LOG)
    lines = add_checkpoint(db, config, add_body(0, [], empty))
    assert set(verify_cosignatures(empty + "".join(lines), [WITNESS.verifier]))
    grown = signed(ORIGIN, 3, root(3), LOG)
    assert add_checkpoint(db, config, add_body(0, [], grown))
    assert witness_state.current(db, ORIGIN) == LogState(3, root(3))
    db.dispose()


def test_a_state_moved_by_another_request_is_never_moved_back(db: Database) -> None:
    with db.write_session() as session, session.begin():
        assert witness_state.advance(session, ORIGIN, None, LogState(5, root(5)), "t")
    with db.write_session() as session, session.begin():
        # a request that read size 5 and lost the race to one that moved it to 9
        assert witness_state.advance(
            session, ORIGIN, LogState(5, root(5)), LogState(9, root(9)), "t"
        )
    with db.write_session() as session, session.begin():
        assert not witness_state.advance(
            session, ORIGIN, LogState(5, root(5)), LogState(7, root(7)), "t"
        )
        assert not witness_state.advance(session, ORIGIN, None, LogState(2, root(2)), "t")
    assert witness_state.current(db, ORIGIN) == LogState(9, root(9))
    db.dispose()


def test_a_size_beyond_two_to_the_63_is_a_400(db: Database) -> None:
    config = WitnessConfig(WITNESS, {ORIGIN: (LOG.verifier,)})
    huge = signed(ORIGIN, 2**63, root(1), LOG)
    with pytest.raises(WitnessRefusal) as refused:
        add_checkpoint(db, config, add_body(0, [], huge))
    assert refused.value.status == 400
    db.dispose()
