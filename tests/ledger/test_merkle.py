"""RFC 9162 hashing, proofs served from stored subtrees, and strict proof checks."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ropa.errors import VerificationError
from ropa.ledger import merkle
from ropa.ledger.merkle import NodeId

MERKLE_VECTORS = Path(__file__).resolve().parent.parent / "assets" / "merkle-vectors"
INCLUSION_FILES = sorted((MERKLE_VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY_FILES = sorted((MERKLE_VECTORS / "consistency").rglob("*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _ids(files: list[Path]) -> list[str]:
    return [str(f.relative_to(MERKLE_VECTORS)) for f in files]


# -- a node store, as the database keeps it ------------------------------------------------


class NodeStore:
    """Complete subtrees keyed by (level, index), filled only by `append_nodes`."""

    def __init__(self) -> None:
        self.nodes: dict[NodeId, bytes] = {}
        self.frontier: list[bytes] = []
        self.size = 0
        self.fetches: list[list[NodeId]] = []

    def append(self, leaf: bytes) -> None:
        self.frontier, created = merkle.append_nodes(self.size, leaf, self.frontier)
        for level, index, value in created:
            assert (level, index) not in self.nodes  # append-only: nothing is rewritten
            self.nodes[(level, index)] = value
        self.size += 1

    def fetch(self, wanted: list[NodeId]) -> Mapping[NodeId, bytes]:
        self.fetches.append(list(wanted))
        return {node: self.nodes[node] for node in wanted}


def _store_of(leaves: list[bytes]) -> NodeStore:
    store = NodeStore()
    for leaf in leaves:
        store.append(leaf)
    return store


# -- naive RFC 9162 §2.1 definitions, straight from the text --------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return merkle.node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


def _random_leaves(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [merkle.leaf_hash(rng.randbytes(rng.randrange(0, 40))) for _ in range(count)]


# -- the 196 transparency-dev cases --------------------------------------------------------


def test_all_196_transparency_dev_cases_are_present() -> None:
    assert len(INCLUSION_FILES) + len(CONSISTENCY_FILES) == 196


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=_ids(INCLUSION_FILES))
def test_inclusion_verifier_agrees_with_transparency_dev_case(path: Path) -> None:
    case: dict[str, Any] = json.loads(path.read_text())
    proof = [_b64(h) for h in case["proof"] or []]

    def run() -> None:
        merkle.verify_inclusion(
            _b64(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, _b64(case["root"])
        )

    if case["wantErr"]:
        with pytest.raises(VerificationError) as caught:
            run()
        assert caught.value.check == "inclusion proof"
    else:
        run()


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=_ids(CONSISTENCY_FILES))
def test_consistency_verifier_agrees_with_transparency_dev_case(path: Path) -> None:
    case: dict[str, Any] = json.loads(path.read_text())
    proof = [_b64(h) for h in case["proof"] or []]

    def run() -> None:
        merkle.verify_consistency(
            case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"])
        )

    if case["wantErr"]:
        with pytest.raises(VerificationError) as caught:
            run()
        assert caught.value.check == "consistency proof"
    else:
        run()


# -- the ledger vectors' proofs --------------------------------------------------------------


@pytest.fixture(scope="module")
def vector_store(signature_records: list[dict[str, Any]]) -> NodeStore:
    return _store_of([bytes.fromhex(r["leafHash"]) for r in signature_records])


def test_roots_of_every_vector_tree_size_from_stored_nodes_and_frontiers(
    proofs: dict[str, Any], signature_records: list[dict[str, Any]], vector_store: NodeStore
) -> None:
    leaves = [bytes.fromhex(r["leafHash"]) for r in signature_records]
    frontier: list[bytes] = []
    for size in range(11):
        expected = bytes.fromhex(proofs["roots"][str(size)])
        assert merkle.root_at(size, vector_store.fetch) == expected
        assert merkle.root_from_frontier(size, frontier) == expected
        assert merkle.root(leaves[:size]) == expected
        if size < 10:
            frontier, _ = merkle.append_nodes(size, leaves[size], frontier)


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.root([]) == merkle.EMPTY_ROOT


def test_every_vector_inclusion_proof_is_generated_and_verifies(
    proofs: dict[str, Any], signature_records: list[dict[str, Any]], vector_store: NodeStore
) -> None:
    assert len(proofs["inclusion"]) == 55
    for case in proofs["inclusion"]:
        seq, size = case["seq"], case["treeSize"]
        proof = merkle.inclusion_proof(seq, size, vector_store.fetch)
        assert [h.hex() for h in proof] == case["path"]
        merkle.verify_inclusion(
            bytes.fromhex(signature_records[seq]["leafHash"]),
            seq,
            size,
            proof,
            bytes.fromhex(proofs["roots"][str(size)]),
        )


def test_every_vector_consistency_proof_is_generated_and_verifies(
    proofs: dict[str, Any], vector_store: NodeStore
) -> None:
    assert len(proofs["consistency"]) == 55
    for case in proofs["consistency"]:
        size1, size2 = case["fromSize"], case["toSize"]
        proof = merkle.consistency_proof(size1, size2, vector_store.fetch)
        assert [h.hex() for h in proof] == case["path"]
        merkle.verify_consistency(
            size1,
            size2,
            proof,
            bytes.fromhex(proofs["roots"][str(size1)]),
            bytes.fromhex(proofs["roots"][str(size2)]),
        )


# -- generators against the naive definitions ----------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_proofs_equal_rfc9162_recursive_definitions_up_to_size_70(seed: int) -> None:
    leaves = _random_leaves(70, seed)
    store = _store_of(leaves)
    for size in range(1, 71):
        tree = leaves[:size]
        expected_root = _mth(tree)
        assert merkle.root_at(size, store.fetch) == expected_root
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, store.fetch)
            assert proof == _path(index, tree)
            merkle.verify_inclusion(leaves[index], index, size, proof, expected_root)
        for size1 in range(1, size + 1):
            proof = merkle.consistency_proof(size1, size, store.fetch)
            assert proof == _subproof(size1, tree, True)
            merkle.verify_consistency(size1, size, proof, _mth(leaves[:size1]), expected_root)


def test_a_proof_with_any_bit_flipped_is_refused() -> None:
    rng = random.Random(7)
    leaves = _random_leaves(70, 7)
    store = _store_of(leaves)
    for _ in range(300):
        size = rng.randrange(2, 71)
        index = rng.randrange(size)
        size1 = rng.randrange(1, size)
        root2 = _mth(leaves[:size])
        inclusion = merkle.inclusion_proof(index, size, store.fetch)
        consistency = merkle.consistency_proof(size1, size, store.fetch)
        if inclusion:
            bad = _flip_one_bit(inclusion, rng)
            with pytest.raises(VerificationError):
                merkle.verify_inclusion(leaves[index], index, size, bad, root2)
        bad = _flip_one_bit(consistency, rng)
        with pytest.raises(VerificationError):
            merkle.verify_consistency(size1, size, bad, _mth(leaves[:size1]), root2)


def _flip_one_bit(proof: list[bytes], rng: random.Random) -> list[bytes]:
    bad = list(proof)
    at = rng.randrange(len(bad))
    flipped = bytearray(bad[at])
    flipped[rng.randrange(32)] ^= 1 << rng.randrange(8)
    bad[at] = bytes(flipped)
    return bad


# -- reading few stored nodes ------------------------------------------------------------------


class CountingFetch:
    """Answers any node with a hash derived from its address; counts the calls."""

    def __init__(self) -> None:
        self.calls: list[list[NodeId]] = []

    def __call__(self, wanted: list[NodeId]) -> Mapping[NodeId, bytes]:
        self.calls.append(list(wanted))
        return {node: hashlib.sha256(repr(node).encode()).digest() for node in wanted}


@pytest.mark.parametrize("size", [2, 3, 1000, 2**20 + 1, 2**40 - 3, 10**15 + 7])
def test_proofs_read_once_and_only_logarithmically_many_stored_nodes(size: int) -> None:
    bound = 2 * size.bit_length() + 2
    rng = random.Random(size)
    for _ in range(20):
        fetch = CountingFetch()
        index = rng.randrange(size)
        merkle.inclusion_proof(index, size, fetch)
        assert len(fetch.calls) <= 1
        assert all(len(call) <= bound for call in fetch.calls)

        fetch = CountingFetch()
        merkle.consistency_proof(rng.randrange(1, size), size, fetch)
        assert len(fetch.calls) == 1
        assert len(fetch.calls[0]) <= bound
        assert len(set(fetch.calls[0])) == len(fetch.calls[0])

        fetch = CountingFetch()
        merkle.root_at(size, fetch)
        assert len(fetch.calls) == 1
        assert fetch.calls[0] == merkle.nodes_for_root(size)


def test_only_complete_subtrees_are_ever_requested() -> None:
    for size in range(1, 70):
        for node_list in (
            merkle.nodes_for_root(size),
            *(merkle.inclusion_nodes(i, size) for i in range(size)),
            *(merkle.consistency_nodes(m, size) for m in range(1, size)),
        ):
            for level, index in node_list:
                assert (index + 1) << level <= size


def test_the_store_grows_by_fewer_than_two_nodes_per_leaf() -> None:
    store = _store_of(_random_leaves(1000, 3))
    assert len(store.nodes) < 2 * 1000


def test_append_nodes_reports_the_leaf_then_each_subtree_it_completes() -> None:
    leaves = _random_leaves(4, 4)
    frontier: list[bytes] = []
    created_per_leaf = []
    for size, leaf in enumerate(leaves):
        frontier, created = merkle.append_nodes(size, leaf, frontier)
        created_per_leaf.append([(level, index) for level, index, _ in created])
    assert created_per_leaf == [[(0, 0)], [(0, 1), (1, 0)], [(0, 2)], [(0, 3), (1, 1), (2, 0)]]
    assert frontier == [_mth(leaves)]


def test_append_nodes_refuses_a_frontier_of_the_wrong_length() -> None:
    with pytest.raises(ValueError):
        merkle.append_nodes(3, merkle.leaf_hash(b""), [merkle.EMPTY_ROOT])


def test_a_missing_stored_node_is_reported_not_guessed() -> None:
    with pytest.raises(KeyError, match="lacks"):
        merkle.inclusion_proof(0, 4, lambda wanted: {})


@pytest.mark.parametrize(("index", "size"), [(0, 0), (5, 5), (-1, 3)])
def test_inclusion_proof_refuses_a_leaf_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_proof(index, size, CountingFetch())


@pytest.mark.parametrize(("size1", "size2"), [(0, 5), (6, 5)])
def test_consistency_proof_refuses_size_zero_and_shrinking(size1: int, size2: int) -> None:
    with pytest.raises(ValueError):
        merkle.consistency_proof(size1, size2, CountingFetch())


def test_consistency_proof_between_equal_sizes_is_empty_and_reads_nothing() -> None:
    fetch = CountingFetch()
    assert merkle.consistency_proof(9, 9, fetch) == []
    assert fetch.calls == []


# -- strictness beyond the vectors -------------------------------------------------------------


def test_proof_hashes_of_the_wrong_length_are_refused_even_if_they_would_chain() -> None:
    leaves = _random_leaves(8, 5)
    store = _store_of(leaves)
    proof = merkle.inclusion_proof(3, 8, store.fetch)
    with pytest.raises(VerificationError, match="bytes"):
        merkle.verify_inclusion(leaves[3], 3, 8, [*proof[:-1], proof[-1] + b"\x00"], _mth(leaves))


def test_consistency_from_size_zero_is_refused_even_with_an_empty_proof() -> None:
    with pytest.raises(VerificationError, match="size 0"):
        merkle.verify_consistency(0, 4, [], merkle.EMPTY_ROOT, _mth(_random_leaves(4, 6)))
