"""`ropa witness serve` as tlog-witness says: cosigns consistent checkpoints, refuses the rest
with the spec's status codes, and keeps its state across restarts (real process, real HTTP)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import httpx
import pytest

from ropa.ledger import merkle
from ropa.ledger.cosignature import verify_cosignatures
from ropa.ledger.keys import SigningKey
from ropa.ledger.note import parse_note
from ropa.ledger.witness_protocol import MAX_BODY, SIZE_CONTENT_TYPE
from tests.witness.conftest import (
    WitnessProcess,
    add_body,
    log_line,
    make_witness,
    signed,
)

ORIGIN = "ropa.test/4f0c2d8e-0000-4000-8000-000000000001"


def leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]


def tree_root(n: int) -> bytes:
    return merkle.root(leaves(n))


def proof(old: int, new: int) -> list[bytes]:
    hashes = leaves(new)

    def fetch(wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        out = {}
        for level, idx in wanted:
            start, end = idx << level, (idx + 1) << level
            out[(level, idx)] = merkle.root(hashes[start:end])
        return out

    return merkle.consistency_proof(old, new, fetch)


@pytest.fixture
def log_key() -> SigningKey:
    return SigningKey.generate("ropa.test-20261129")


@pytest.fixture
def witness(
    tmp_path: Path, witness_factory: list[WitnessProcess], log_key: SigningKey
) -> WitnessProcess:
    return make_witness(witness_factory, tmp_path / "w", [log_line(ORIGIN, log_key)])


def cosign(witness: WitnessProcess, old: int, new: int, key: SigningKey) -> httpx.Response:
    note = signed(ORIGIN, new, tree_root(new), key)
    return witness.post(add_body(old, proof(old, new) if 0 < old < new else [], note))


def test_witness_cosigns_a_first_checkpoint_and_then_a_consistent_one(
    witness: WitnessProcess, log_key: SigningKey
) -> None:
    first = cosign(witness, 0, 5, log_key)
    assert first.status_code == 200, first.text
    note = signed(ORIGIN, 5, tree_root(5), log_key)
    text, _ = parse_note(note)
    assert set(verify_cosignatures(note + first.text, [witness.key.verifier])) == {
        "auditor.test/w1"
    }
    second = cosign(witness, 5, 13, log_key)
    assert second.status_code == 200, second.text
    assert witness.state(ORIGIN) is not None
    state = witness.state(ORIGIN)
    assert state is not None and (state.size, state.root) == (13, tree_root(13))
    assert text.startswith(ORIGIN)


def test_witness_state_survives_a_restart_and_a_stale_old_size_gets_409_with_the_size(
    witness: WitnessProcess, log_key: SigningKey
) -> None:
    assert cosign(witness, 0, 8, log_key).status_code == 200
    witness.stop()
    witness.start()
    stale = cosign(witness, 0, 9, log_key)
    assert stale.status_code == 409
    assert stale.headers["content-type"] == SIZE_CONTENT_TYPE
    assert stale.content == b"8\n"
    assert cosign(witness, 8, 9, log_key).status_code == 200


def test_a_fork_at_the_same_size_is_refused_and_the_state_kept(
    witness: WitnessProcess, log_key: SigningKey
) -> None:
    assert cosign(witness, 0, 6, log_key).status_code == 200
    other_root = hashlib.sha256(b"another history").digest()
    fork = witness.post(add_body(6, [], signed(ORIGIN, 6, other_root, log_key)))
    assert fork.status_code == 409
    assert fork.content == b"6\n"
    state = witness.state(ORIGIN)
    assert state is not None and (state.size, state.root) == (6, tree_root(6))
    # the same checkpoint again is fine: the spec cosigns equal roots at equal sizes
    assert cosign(witness, 6, 6, log_key).status_code == 200


def test_a_rollback_is_refused(witness: WitnessProcess, log_key: SigningKey) -> None:
    assert cosign(witness, 0, 10, log_key).status_code == 200
    smaller = signed(ORIGIN, 4, tree_root(4), log_key)
    assert witness.post(add_body(10, [], smaller)).status_code == 400  # old above the size
    assert witness.post(add_body(0, [], smaller)).status_code == 409  # old is not the state
    state = witness.state(ORIGIN)
    assert state is not None and state.size == 10


def test_a_bad_consistency_proof_is_refused_with_422(
    witness: WitnessProcess, log_key: SigningKey
) -> None:
    assert cosign(witness, 0, 5, log_key).status_code == 200
    hashes = proof(5, 11)
    hashes[0] = bytes([hashes[0][0] ^ 1]) + hashes[0][1:]
    answer = witness.post(add_body(5, hashes, signed(ORIGIN, 11, tree_root(11), log_key)))
    assert answer.status_code == 422
    state = witness.state(ORIGIN)
    assert state is not None and state.size == 5


def test_unknown_origin_is_404_and_a_wrong_log_key_is_403(
    witness: WitnessProcess, log_key: SigningKey
) -> None:
    stranger = signed("elsewhere.example/log", 3, tree_root(3), log_key)
    assert witness.post(add_body(0, [], stranger)).status_code == 404
    impostor = SigningKey.generate(log_key.name)  # same name, another key
    forged = signed(ORIGIN, 3, tree_root(3), impostor)
    assert witness.post(add_body(0, [], forged)).status_code == 403
    assert witness.state(ORIGIN) is None


@pytest.mark.parametrize(
    "body",
    [b"", b"old 0\n", b"old x\n\nfoo\n", b"old 0\n\nnot a checkpoint\n\n\xe2\x80\x94 k AAAA\n"],
)
def test_malformed_requests_are_400_never_500(witness: WitnessProcess, body: bytes) -> None:
    assert witness.post(body).status_code == 400


def test_an_oversized_body_is_refused_413(witness: WitnessProcess) -> None:
    assert witness.post(b"old 0\n" + b"A" * (MAX_BODY + 1)).status_code == 413


def test_a_checkpoint_with_extension_lines_is_cosigned_over_its_whole_body(
    witness: WitnessProcess, log_key: SigningKey
) -> None:
    note = signed(ORIGIN, 7, tree_root(7), log_key, extensions="ext line one\n")
    answer = witness.post(add_body(0, [], note))
    assert answer.status_code == 200, answer.text
    assert set(verify_cosignatures(note + answer.text, [witness.key.verifier])) == {
        "auditor.test/w1"
    }
    plain = signed(ORIGIN, 7, tree_root(7), log_key)  # without the extension line
    with pytest.raises(Exception, match="does not verify"):
        verify_cosignatures(plain + answer.text, [witness.key.verifier])


def test_two_concurrent_requests_from_one_state_advance_it_once(
    witness: WitnessProcess, log_key: SigningKey
) -> None:
    assert cosign(witness, 0, 4, log_key).status_code == 200
    results: dict[int, int] = {}
    barrier = threading.Barrier(2)

    def send(new: int) -> None:
        barrier.wait()
        results[new] = cosign(witness, 4, new, log_key).status_code

    threads = [threading.Thread(target=send, args=(n,)) for n in (9, 12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    state = witness.state(ORIGIN)
    winner = next(n for n, status in results.items() if status == 200)
    assert state is not None and state.size == winner


def test_a_witness_on_postgresql_keeps_its_state_there(
    tmp_path: Path,
    witness_factory: list[WitnessProcess],
    log_key: SigningKey,
    database_url: str,
) -> None:
    witness = make_witness(
        witness_factory, tmp_path / "pgw", [log_line(ORIGIN, log_key)], database_url
    )
    assert cosign(witness, 0, 3, log_key).status_code == 200
    assert cosign(witness, 3, 4, log_key).status_code == 200
    state = witness.state(ORIGIN)
    assert state is not None and state.size == 4
