"""Offline verification of witness cosignatures in an export bundle (LEDGER-SPEC §9).

Run after `verify_bundle` has passed (so the leaf hashes in `signatures.jsonl` are the
entries', and the log's keys are the chain followed from the auditor's key). For every
`checkpoints/<size>` file, and for the bundle's latest `checkpoint`:

    (w1) the file name is the checkpoint's tree size, its origin is the ledger's, and its
         root is the root recomputed from the leaves at that size
    (w2) the log's signature verifies (one of the keys the ledger was signed with)
    (w3) every cosignature line by a configured witness (name and key id) verifies over
         that checkpoint's body (C2SP tlog-cosignature v1); lines by other keys are
         ignored, as signed-note says
    (w4) the newest checkpoint that carries any configured witness's cosignature is
         cosigned by at least `quorum` distinct witnesses

Each failure is one `VerificationError` naming the check, the witness and the size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ropa.errors import VerificationError
from ropa.ledger import bundle as files
from ropa.ledger.checkpoint import parse_checkpoint_body
from ropa.ledger.cosignature import CosignerVerifier, verify_cosignatures
from ropa.ledger.keys import Verifier
from ropa.ledger.merkle import EMPTY_ROOT, append_nodes, root_from_frontier
from ropa.ledger.note import parse_note, verify_note

__all__ = ["WitnessReport", "verify_witnesses"]

CHECK_CHECKPOINT = "witnessed checkpoint"
CHECK_SIGNATURE = "witnessed checkpoint signature"
CHECK_COSIGNATURE = "cosignature"
CHECK_QUORUM = "witness quorum"
_SIZE_NAME = re.compile(r"0|[1-9][0-9]*", re.ASCII)
MAX_NOTE = 1024 * 1024


@dataclass(frozen=True)
class WitnessReport:
    cosigned: dict[int, tuple[str, ...]]  # size -> witnesses whose cosignature verified
    quorum_size: int | None  # the checkpoint the quorum was judged on
    quorum: int


def _roots(bundle: Path, sizes: set[int]) -> dict[int, bytes]:
    """The Merkle roots at `sizes`, from the leaf hashes of signatures.jsonl."""
    roots = {0: EMPTY_ROOT} if 0 in sizes else {}
    frontier: list[bytes] = []
    size = 0
    wanted = max(sizes, default=0)
    with (bundle / files.SIGNATURES).open("rb") as lines:
        for line in lines:
            if size >= wanted:
                break
            leaf = bytes.fromhex(json.loads(line)["leafHash"])
            frontier, _ = append_nodes(size, leaf, frontier)
            size += 1
            if size in sizes:
                roots[size] = root_from_frontier(size, frontier)
    return roots


def _read_note(path: Path) -> str:
    with path.open("rb") as handle:
        data = handle.read(MAX_NOTE + 1)
    if len(data) > MAX_NOTE:
        raise VerificationError(CHECK_CHECKPOINT, f"{path.name} is over {MAX_NOTE} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise VerificationError(CHECK_CHECKPOINT, f"{path.name} is not UTF-8") from None


def verify_witnesses(
    bundle: str | Path,
    origin: str,
    size: int,
    log_keys: Sequence[str],
    witness_keys: Sequence[str],
    quorum: int | None = None,
) -> WitnessReport:
    """Checks (w1)-(w4) for a bundle of `size` entries of the ledger `origin`.

    `log_keys` are the verifier keys `verify_bundle` followed; `quorum` defaults to the
    number of witness keys given.
    """
    bundle = Path(bundle)
    witnesses = [CosignerVerifier.parse(k) for k in witness_keys]
    if len({w.name for w in witnesses}) != len(witnesses):
        raise ValueError("each witness is given once")
    quorum = len(witnesses) if quorum is None else quorum
    if not 0 <= quorum <= len(witnesses):
        raise ValueError(f"a quorum is between 0 and the {len(witnesses)} witnesses given")
    log_verifiers = [Verifier.parse(k) for k in log_keys]

    notes: dict[int, tuple[str, str]] = {}  # size -> (file name, note)
    directory = bundle / files.CHECKPOINTS
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if not path.is_file() or _SIZE_NAME.fullmatch(path.name) is None:
                raise VerificationError(
                    CHECK_CHECKPOINT, f"checkpoints/{path.name} is not named by a tree size"
                )
            notes[int(path.name)] = (f"checkpoints/{path.name}", _read_note(path))
    latest = _read_note(bundle / files.CHECKPOINT)

    too_big = [s for s in notes if s > size]
    if too_big:
        raise VerificationError(
            CHECK_CHECKPOINT, f"checkpoints/{min(too_big)} is beyond the {size} entries"
        )
    roots = _roots(bundle, set(notes))
    cosigned: dict[int, tuple[str, ...]] = {}
    for at, (name, note) in sorted(notes.items()):
        _check_checkpoint(name, note, at, origin, roots[at], log_verifiers)
        cosigned[at] = _cosigners(name, at, note, witnesses)
    latest_cosigners = _cosigners(files.CHECKPOINT, size, latest, witnesses)
    if latest_cosigners or size not in cosigned:
        cosigned[size] = tuple(sorted(set(cosigned.get(size, ())) | set(latest_cosigners)))

    judged = max((s for s, names in cosigned.items() if names), default=None)
    have = len(cosigned[judged]) if judged is not None else 0
    if have < quorum:
        where = f"checkpoint {judged}" if judged is not None else "no checkpoint"
        raise VerificationError(
            CHECK_QUORUM,
            f"quorum not met: {where} is cosigned by {have} of the {quorum} witnesses required",
        )
    return WitnessReport({s: n for s, n in cosigned.items() if n}, judged, quorum)


def _check_checkpoint(
    name: str, note: str, size: int, origin: str, root: bytes, log_keys: Sequence[Verifier]
) -> None:
    try:
        text, _ = parse_note(note)
        checkpoint, _extensions = parse_checkpoint_body(text)
    except ValueError as err:
        raise VerificationError(CHECK_CHECKPOINT, f"{name} is malformed: {err}") from None
    if checkpoint.size != size:
        raise VerificationError(CHECK_CHECKPOINT, f"{name} is of tree size {checkpoint.size}")
    if checkpoint.origin != origin:
        raise VerificationError(CHECK_CHECKPOINT, f"{name} is of another log: {checkpoint.origin}")
    if checkpoint.root != root:
        raise VerificationError(
            CHECK_CHECKPOINT,
            f"{name}: its root {checkpoint.root.hex()} is not the entries' root {root.hex()}",
        )
    try:
        verify_note(note, log_keys)
    except VerificationError as err:
        raise VerificationError(CHECK_SIGNATURE, f"{name}: {err.message}") from None


def _cosigners(
    name: str, size: int, note: str, witnesses: Sequence[CosignerVerifier]
) -> tuple[str, ...]:
    try:
        found = verify_cosignatures(note, witnesses)
    except ValueError as err:
        raise VerificationError(CHECK_CHECKPOINT, f"{name} is malformed: {err}") from None
    except VerificationError as err:
        raise VerificationError(
            CHECK_COSIGNATURE, f"{name} (tree size {size}): {err.message}"
        ) from None
    return tuple(sorted(found))
