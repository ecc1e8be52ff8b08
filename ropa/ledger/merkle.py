"""The ledger's Merkle tree: RFC 9162 §2.1 hashing, proofs from stored subtrees, strict checks.

Hashing (§2.1.1): leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right), and
the empty tree's root is SHA-256 of no bytes.

Storage: only *complete* subtrees are stored. Node (level, index) covers the leaves
[index·2^level, (index+1)·2^level); level 0 is the leaf hash itself. Appending a leaf
creates the leaf node and every subtree it completes (`append_nodes`), so the store grows
by fewer than two nodes per leaf and is never updated. The *frontier* of a tree of size
n is the list of complete subtrees along its right edge, largest first (one per set bit of
n; a "compact range"): it is all that is needed to append and to compute the root.

Proofs (§2.1.3, §2.1.4): every subtree an audit path names is either complete, hence
stored, or lies on the right edge of the tree, hence is the fold of a few complete ones.
`inclusion_proof` and `consistency_proof` therefore ask their `fetch` callback once for
O(log n) stored nodes, so a database answers with a single query.

Verification follows transparency-dev/merkle (`proof/verify.go`) and is strict: every
proof hash and leaf hash is 32 bytes, a proof has exactly the expected length, a
consistency proof from size 0 is refused, and between equal sizes the proof is empty and
the roots equal. Failures raise `VerificationError` ("inclusion proof"/"consistency proof").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

from ropa.errors import VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Fetch",
    "NodeId",
    "append_nodes",
    "consistency_nodes",
    "consistency_proof",
    "inclusion_nodes",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "nodes_for_root",
    "root",
    "root_at",
    "root_from_frontier",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""(level, index) of a complete subtree."""

Fetch = Callable[[list[NodeId]], Mapping[NodeId, bytes]]
"""Reads stored complete-subtree hashes; called at most once per proof or root."""

_Range = tuple[int, int]  # leaves [start, end)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


# -- building -------------------------------------------------------------------------------


def append_nodes(
    size_before: int, leaf: bytes, frontier: Sequence[bytes]
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append one leaf hash to a tree of `size_before` leaves with the given frontier.

    Returns the new frontier and the complete nodes this leaf creates, as
    (level, index, hash): the leaf itself at level 0, then each subtree it completes.
    """
    if len(frontier) != size_before.bit_count():
        raise ValueError(
            f"a frontier for size {size_before} has {size_before.bit_count()} hashes, "
            f"not {len(frontier)}"
        )
    new_frontier = list(frontier)
    created = [(0, size_before, leaf)]
    current, level, index = leaf, 0, size_before
    while (size_before >> level) & 1:
        current = node_hash(new_frontier.pop(), current)
        level += 1
        index >>= 1
        created.append((level, index, current))
    new_frontier.append(current)
    return new_frontier, created


def root_from_frontier(size: int, frontier: Sequence[bytes]) -> bytes:
    """MTH of a tree of `size` leaves from its frontier (largest subtree first)."""
    if len(frontier) != size.bit_count():
        raise ValueError(f"a frontier for size {size} has {size.bit_count()} hashes")
    if not frontier:
        return EMPTY_ROOT
    current = frontier[-1]
    for left in reversed(frontier[:-1]):
        current = node_hash(left, current)
    return current


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes (RFC 9162 §2.1.1)."""
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        frontier, _ = append_nodes(size, leaf, frontier)
    return root_from_frontier(len(leaves), frontier)


# -- which stored nodes a subtree needs ---------------------------------------------------


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _range_nodes(start: int, end: int) -> list[NodeId]:
    """The complete subtrees whose fold is MTH(D[start:end]), largest first.

    Valid for the ranges RFC 9162's recursions produce: `start` is a multiple of a power
    of two at least `end - start`, so the range splits by the bits of its length.
    """
    nodes: list[NodeId] = []
    position, remaining = start, end - start
    while remaining:
        level = remaining.bit_length() - 1
        nodes.append((level, position >> level))
        position += 1 << level
        remaining -= 1 << level
    return nodes


def _fold(nodes: Sequence[NodeId], hashes: Mapping[NodeId, bytes]) -> bytes:
    current = _stored(hashes, nodes[-1])
    for node in reversed(nodes[:-1]):
        current = node_hash(_stored(hashes, node), current)
    return current


def _stored(hashes: Mapping[NodeId, bytes], node: NodeId) -> bytes:
    try:
        value = hashes[node]
    except KeyError:
        raise KeyError(f"the node store lacks complete subtree (level, index) = {node}") from None
    if len(value) != HASH_SIZE:
        raise ValueError(f"stored node {node} is {len(value)} bytes, not {HASH_SIZE}")
    return value


def _hashes_of(ranges: Sequence[_Range], fetch: Fetch) -> list[bytes]:
    per_range = [_range_nodes(start, end) for start, end in ranges]
    wanted = [node for nodes in per_range for node in nodes]
    if not wanted:
        return []
    fetched = fetch(wanted)
    return [_fold(nodes, fetched) for nodes in per_range]


def nodes_for_root(size: int) -> list[NodeId]:
    """The stored nodes whose fold is the root of a tree of `size` (its frontier)."""
    if size < 0:
        raise ValueError("tree size must be non-negative")
    return _range_nodes(0, size)


def root_at(size: int, fetch: Fetch) -> bytes:
    """The root of the tree's first `size` leaves, from stored nodes."""
    hashes = _hashes_of([(0, size)] if size else [], fetch)
    return hashes[0] if hashes else EMPTY_ROOT


# -- proofs (RFC 9162 §2.1.3.1 and §2.1.4.1) --------------------------------------------


def _inclusion_ranges(index: int, size: int) -> list[_Range]:
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    # PATH(m, D[n]): descend towards leaf m; the sibling of each step joins the path,
    # which lists them from the leaf upwards.
    siblings: list[_Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            siblings.append((start + k, end))
            end = start + k
        else:
            siblings.append((start, start + k))
            start += k
    siblings.reverse()
    return siblings


def _consistency_ranges(size1: int, size2: int) -> list[_Range]:
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        return []
    # SUBPROOF(m, D[n], b), unrolled: `head` is the proof's first element when the old
    # tree is not a complete subtree of the new one; `tail` collects siblings top-down.
    head: list[_Range] = []
    tail: list[_Range] = []
    start, end, complete = 0, size2, True
    while True:
        if size1 - start == end - start:
            if not complete:
                head.append((start, end))
            break
        k = _largest_power_of_two_below(end - start)
        if size1 - start <= k:
            tail.append((start + k, end))
            end = start + k
        else:
            tail.append((start, start + k))
            start += k
            complete = False
    return head + tail[::-1]


def inclusion_nodes(index: int, size: int) -> list[NodeId]:
    """The stored nodes `inclusion_proof(index, size, ...)` reads."""
    return [n for start, end in _inclusion_ranges(index, size) for n in _range_nodes(start, end)]


def consistency_nodes(size1: int, size2: int) -> list[NodeId]:
    """The stored nodes `consistency_proof(size1, size2, ...)` reads."""
    return [n for start, end in _consistency_ranges(size1, size2) for n in _range_nodes(start, end)]


def inclusion_proof(index: int, size: int, fetch: Fetch) -> list[bytes]:
    """RFC 9162 PATH(index, D[size]) from stored nodes (one `fetch`, O(log size) nodes)."""
    return _hashes_of(_inclusion_ranges(index, size), fetch)


def consistency_proof(size1: int, size2: int, fetch: Fetch) -> list[bytes]:
    """RFC 9162 PROOF(size1, D[size2]) from stored nodes; empty when the sizes are equal.

    Size 0 is refused (ValueError): every tree extends the empty one, nothing to prove.
    """
    return _hashes_of(_consistency_ranges(size1, size2), fetch)


# -- verification (transparency-dev/merkle proof/verify.go, made strict) -------------------


def _inclusion_failure(message: str) -> VerificationError:
    return VerificationError("inclusion proof", message)


def _consistency_failure(message: str) -> VerificationError:
    return VerificationError("consistency proof", message)


def _check_hashes(proof: Sequence[bytes], failure: Callable[[str], VerificationError]) -> None:
    for position, value in enumerate(proof):
        if len(value) != HASH_SIZE:
            raise failure(f"proof hash {position} is {len(value)} bytes, not {HASH_SIZE}")


def _decompose(index: int, size: int) -> tuple[int, int]:
    """(inner, border): how many path hashes sit below and above the split with the right edge."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, sibling in enumerate(proof):
        seed = node_hash(seed, sibling) if (index >> i) & 1 == 0 else node_hash(sibling, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, sibling in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Check that `leaf` is leaf `index` of the tree of `size` whose root is `expected_root`."""
    if not 0 <= index < size:
        raise _inclusion_failure(f"index {index} is beyond the tree size {size}")
    if len(leaf) != HASH_SIZE:
        raise _inclusion_failure(f"leaf hash is {len(leaf)} bytes, not {HASH_SIZE}")
    _check_hashes(proof, _inclusion_failure)
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        raise _inclusion_failure(f"proof has {len(proof)} hashes, expected {inner + border}")
    computed = _chain_inner(leaf, proof[:inner], index)
    computed = _chain_border_right(computed, proof[inner:])
    if computed != expected_root:
        raise _inclusion_failure(
            f"root computed from the proof {computed.hex()} differs from {expected_root.hex()}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of `size2` with `root2` extends the tree of `size1` with `root1`."""
    if size1 < 0 or size2 < size1:
        raise _consistency_failure(f"size {size2} does not extend size {size1}")
    if size1 == 0:
        raise _consistency_failure("a consistency proof from size 0 proves nothing; refused")
    if size1 == size2:
        if proof:
            raise _consistency_failure("between equal sizes the proof must be empty")
        if root1 != root2:
            raise _consistency_failure("equal sizes but different roots")
        return
    if not proof:
        raise _consistency_failure("empty proof between different sizes")
    _check_hashes(proof, _consistency_failure)
    for name, value in (("first", root1), ("second", root2)):
        if len(value) != HASH_SIZE:
            raise _consistency_failure(f"{name} root is {len(value)} bytes, not {HASH_SIZE}")

    inner, border = _decompose(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1  # trailing zeros of size1
    inner -= shift
    # The old tree's rightmost complete subtree (2^shift leaves) seeds both chains; the
    # proof carries its hash unless the old tree *is* that subtree.
    if size1 == 1 << shift:
        seed, rest = root1, list(proof)
    else:
        seed, rest = proof[0], list(proof[1:])
    expected = (0 if size1 == 1 << shift else 1) + inner + border
    if len(proof) != expected:
        raise _consistency_failure(f"proof has {len(proof)} hashes, expected {expected}")

    mask = (size1 - 1) >> shift
    computed1 = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    if computed1 != root1:
        raise _consistency_failure(
            f"the proof does not lead to the old root {root1.hex()} of size {size1}"
        )
    computed2 = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    if computed2 != root2:
        raise _consistency_failure(
            f"the proof does not lead to the new root {root2.hex()} of size {size2}"
        )
