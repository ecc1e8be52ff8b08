"""Offline verification of an export bundle: the checks of LEDGER-SPEC §7.

`verify_bundle` reads `entries.jsonl` and `signatures.jsonl` in large blocks, cut into
chunks of paired lines; what it holds does not grow with the ledger beyond the replayed
live state (one digest per live record), the Merkle frontier (O(log n) hashes) and a few
chunks in flight. The checks, numbered as in the comments below:

    per entry, in seq order
     (1) the line is canonical JCS (RFC 8785) and the entry has exactly the §2 members
     (2) its leaf hash (RFC 9162 §2.1.1) is the one in signatures.jsonl
     (3) its Ed25519 signature verifies under the key in force, following rotations
         from the verifier key given; an unknown key id fails
     (4) seq is gapless from 0
     (5) origin never changes
     (6) ts never goes backwards
     (7) chained states: `before` equals the previous `after` of the same record
    for the bundle
     (8) the Merkle root of all leaves is the checkpoint's (and so are size and origin)
     (9) the checkpoint is signed by the key in force at the end (or, when the last entry
         rotates the key, by either key: spec §5 v1.1); keys.txt lists the keys
    (10) replaying the entries gives state.json
    (11) with a kept checkpoint: the ledger extends it (RFC 9162 consistency proof)
    (12) with the live state: replaying the entries gives the live database
    (13)-(16) the anchors of spec §9 (checkpoints/, anchors/): see verify_anchors.py

Checkpoints are read as C2SP tlog-checkpoint notes: extension lines after the third and
signature lines by keys the verifier does not know (witness cosignatures) are ignored.

The first failure is raised as one `VerificationError` naming the check and the seq.
Everything that needs no order (parsing, canonical JCS, entry format, leaf hashes,
Ed25519, fingerprints of the states: verify_workers.py) runs in worker processes over
chunks; the main process replays their compact facts in seq order and judges what needs
order (key in force, rotations, origin, ts order, chained states, the Merkle tree). A
failure a worker finds is reported only after every earlier entry passed all its checks,
so the error is the same with one worker or many.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import cryptography.x509

from ropa.errors import VerificationError
from ropa.ledger import bundle as files
from ropa.ledger import verify_anchors as anchor_checks
from ropa.ledger.canonical import canonical, parse_json
from ropa.ledger.checkpoint import Checkpoint, parse_checkpoint
from ropa.ledger.entry import ROTATE_OP
from ropa.ledger.keys import ENTRY_CONTEXT, Verifier
from ropa.ledger.merkle import (
    EMPTY_ROOT,
    NodeId,
    append_nodes,
    consistency_nodes,
    consistency_proof,
    node_hash,
    root_from_frontier,
    verify_consistency,
)
from ropa.ledger.note import parse_note, verify_note
from ropa.ledger.verify_workers import (
    RANK,
    Check,
    ChunkResult,
    Facts,
    Failure,
    Hints,
    check_chunk,
    check_ranges,
    fingerprint,
)

__all__ = ["Check", "VerifyReport", "verify_bundle"]

MAX_LINE = 16 * 1024 * 1024  # a longer line is refused rather than read into memory
DEFAULT_CHUNK = 1024  # lines per chunk a worker checks
CHUNK_BYTES = 4 * 1024 * 1024  # and at most this many bytes of entries (but one line)
MAX_HINTS = 64  # keys hinted to the workers; more only means more checks in order
_ROTATION_MARK = f'"op":"{ROTATE_OP}"'.encode()


@dataclass(frozen=True)
class VerifyReport:
    origin: str
    size: int
    root: bytes
    key_ids_used: tuple[str, ...]
    verifier_keys: tuple[str, ...]
    kept_checkpoint_size: int | None
    live_state_checked: bool
    seconds: float
    entries_per_second: float
    anchors: anchor_checks.AnchorReport | None = None


# -- reading: both files in large blocks, cut into chunks of paired lines -----------------


class _LineReader:
    """A file's lines, taken a chunk at a time from large reads."""

    def __init__(self, file: BinaryIO, block: int) -> None:
        self._file = file
        self._block = block
        self._buf = bytearray()  # appending and cutting the front are both cheap
        self._eof = False
        self.position = 0  # in the file, of the next line to take

    def _more(self) -> bool:
        if not self._eof:
            data = self._file.read(self._block)
            if data:
                self._buf += data
                return True
            self._eof = True
        return False

    def take(self, lines: int, max_bytes: int) -> tuple[bytes, int, str]:
        """Up to `lines` lines (fewer once `max_bytes` are gathered): their bytes, their
        number, and why it stopped: "more" (the limits), "eof", or "long" (the next line
        is over MAX_LINE bytes). The last line of the file may lack its newline."""
        buf = self._buf
        end, n, state = 0, 0, "more"
        while n < lines and end < max_bytes:
            newline = buf.find(b"\n", end)
            while newline < 0:
                searched = len(buf)
                if searched - end > MAX_LINE:
                    state = "long"
                    break
                if not self._more():
                    if searched > end:  # the last line, without its newline
                        if searched - end > MAX_LINE:
                            state = "long"
                            break
                        end, n = searched, n + 1
                    state = "eof"
                    break
                newline = buf.find(b"\n", searched)
            if newline < 0:
                break
            if newline + 1 - end > MAX_LINE:
                state = "long"
                break
            end, n = newline + 1, n + 1
        taken = bytes(buf[:end])
        del buf[:end]
        self.position += end
        return taken, n, state

    def at_end(self) -> bool:
        return not self._buf and not self._more()


@dataclass
class _Chunk:
    first: int  # seq of its first line
    entries: bytes
    signatures: bytes
    size: int  # lines
    entries_at: int = 0  # where its bytes start in each file
    signatures_at: int = 0
    ending: str | None = None  # a check (BUNDLE) failure at seq first + size
    last: bool = False  # nothing follows
    hints: Hints = ()


def _chunks(entries: BinaryIO, signatures: BinaryIO, lines: int, block: int) -> Iterator[_Chunk]:
    """The paired lines of both files, `lines` at a time, then how they end."""
    readers = _LineReader(entries, block), _LineReader(signatures, block)
    first = 0
    while True:
        entries_at, signatures_at = readers[0].position, readers[1].position
        ebytes, n, estate = readers[0].take(lines, max(CHUNK_BYTES, block))
        sbytes, m, sstate = readers[1].take(n, 1 << 62)
        chunk = _Chunk(first, ebytes, sbytes, n, entries_at, signatures_at)
        if m < n:  # signatures.jsonl ends (or holds an overlong line) first
            cut = 0
            for _ in range(m):
                cut = ebytes.index(b"\n", cut) + 1
            chunk.entries, chunk.size = ebytes[:cut], m
            chunk.ending = (
                "entries.jsonl has more lines than signatures.jsonl"
                if sstate == "eof"
                else f"a line is over {MAX_LINE} bytes"
            )
        elif estate == "eof":
            if not readers[1].at_end():
                chunk.ending = "signatures.jsonl has more lines than entries.jsonl"
            else:
                chunk.last = True
        elif estate == "long":
            chunk.ending = (
                "entries.jsonl has more lines than signatures.jsonl"
                if readers[1].at_end()
                else f"a line is over {MAX_LINE} bytes"
            )
        if chunk.ending is not None:
            chunk.last = True
        yield chunk
        if chunk.last:
            return
        first += n


def _rotation_hints(chunk: bytes) -> Iterator[Verifier]:
    """The keys the rotations in a chunk name, read without any check: hints for the
    workers, so that they verify the signatures after a rotation too."""
    for line in chunk.split(b"\n"):
        if _ROTATION_MARK in line:
            try:
                yield Verifier.parse(str(json.loads(line)["after"]["verifierKey"]))
            except (ValueError, TypeError, KeyError, IndexError, RecursionError):
                continue


class _Pipeline:
    """Chunks checked in order: inline, or in a pool of worker processes kept busy ahead
    of the main process, which replays their facts in order. A worker reads its chunk's
    byte ranges from the files itself: megabytes through a pipe would keep it waiting."""

    def __init__(self, workers: int, bundle: Path) -> None:
        self._paths = str(bundle / files.ENTRIES), str(bundle / files.SIGNATURES)
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._queue: deque[tuple[_Chunk, Future[ChunkResult] | None]] = deque()

    def start(self, chunk: _Chunk) -> None:
        if self._workers > 1 and self._pool is None and not chunk.last:
            try:
                # spawn, not fork: safe whatever threads the caller runs
                self._pool = ProcessPoolExecutor(
                    max_workers=self._workers, mp_context=multiprocessing.get_context("spawn")
                )
            except (OSError, ImportError, NotImplementedError):
                self._workers = 1  # no process support here (e.g. no semaphores): go on inline
        future = None
        if self._pool is not None and chunk.size:
            future = self._pool.submit(
                check_ranges,
                chunk.first,
                chunk.size,
                (self._paths[0], chunk.entries_at, len(chunk.entries)),
                (self._paths[1], chunk.signatures_at, len(chunk.signatures)),
                chunk.hints,
            )
            chunk.entries = chunk.signatures = b""  # the worker reads them again
        self._queue.append((chunk, future))

    def wanted(self) -> bool:
        """Whether to read another chunk before replaying the oldest one."""
        return len(self._queue) < (2 * self._workers if self._pool is not None else 1)

    def __bool__(self) -> bool:
        return bool(self._queue)

    def next(self) -> tuple[_Chunk, ChunkResult]:
        chunk, future = self._queue.popleft()
        if future is not None:
            return chunk, future.result()
        if not chunk.size:
            return chunk, ([], None)
        return chunk, check_chunk(chunk.first, chunk.entries, chunk.signatures, chunk.hints)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# -- the main side: the checks that need order, then (8)-(12) ------------------------------


class _Replay:
    """The running state of a verification: key in force, frontier, live records."""

    def __init__(self, first_key: Verifier) -> None:
        self.key = first_key
        self.keys_used = [first_key]
        self.retired: dict[bytes, int] = {}  # key id -> seq of the rotation retiring it
        # (tree size that first includes the rotation, retired key, new key)
        self.rotations: list[tuple[int, Verifier, Verifier]] = []
        self.size = 0
        self.frontier: list[bytes] = []
        self.origin: str | None = None
        self.last_ts: str | None = None
        self.records: dict[tuple[str, str], bytes] = {}  # (type, id) -> fingerprint
        self.wanted: set[NodeId] = set()
        self.captured: dict[NodeId, bytes] = {}
        self.kept_size: int | None = None
        self.kept_root_here: bytes | None = None
        self.kept_keys_here: list[Verifier] | None = None
        self.anchors: anchor_checks.AnchorChecks | None = None
        self.anchored_sizes: set[int] = set()

    def fail(self, check: Check, message: str) -> VerificationError:
        return VerificationError(check, message, self.size)

    def keys_at(self, size: int) -> list[Verifier]:
        """The keys that may sign the checkpoint of `size` entries (size <= self.size): the
        key in force after them and, if entry size-1 rotated the key, the retired one too.
        The bridged checkpoint carries both lines (spec §5 v1.1); each present verifies."""
        key = self.keys_used[0]
        for at, old, new in self.rotations:
            if at > size:
                break
            key = new
            if at == size:
                return [old, new]
        return [key]

    def chunk(self, chunk: _Chunk, result: ChunkResult) -> None:
        """Replay a checked chunk in order; raise its first failure."""
        facts, failure = result
        last = len(facts) - 1
        for index, entry_facts in enumerate(facts):
            # the facts of a failing entry are the last ones, when it fails after check (3)
            local = failure if index == last and failure is not None else None
            if local is not None and local[0] != self.size:
                local = None
            self.entry(entry_facts, chunk.hints, local)
        if failure is not None:
            raise VerificationError(Check(failure[1]), failure[2], failure[0])
        if chunk.ending is not None:
            raise self.fail(Check.BUNDLE, chunk.ending)

    def entry(self, facts: Facts, hints: Hints, local: Failure | None) -> None:
        """The checks of one entry that need the entries before it; `local` is a failure
        the worker found that ranks after check (3)."""
        leaf, key_id, verified, rotation, origin, ts, record, before, after = facts
        seq = self.size
        key = self.key

        # (3) signed by the key in force; a rotation entry is signed by the old key and
        # hands over from the next entry on
        if key_id != key.key_id:
            if key_id is None:
                raise self.fail(Check.SIGNATURE, "keyId is not 8 lowercase hex digits")
            retired_at = self.retired.get(key_id)
            reason = (
                f"key {key_id.hex()} was retired by entry {retired_at}"
                if retired_at is not None
                else f"unknown key id {key_id.hex()}"
            )
            raise self.fail(Check.SIGNATURE, f"{reason}; the key in force is {key.key_id_hex}")
        # A worker verified it under the one hinted key with this id, or left it to us. (A
        # signature that verified under another key cannot also verify under the key in
        # force, short of breaking Ed25519.)
        if isinstance(verified, int):
            good = hints[verified][1] == key.public_key
        else:
            good = verified is None or key.verify(ENTRY_CONTEXT + leaf, verified)
        if not good:
            raise self.fail(Check.SIGNATURE, "the signature does not verify under its key")
        next_key = None if rotation is None else self._rotation(rotation)

        # (4) seq is gapless from 0, in both files (the worker compared)
        if local is not None and RANK[Check(local[1])] <= RANK[Check.SEQ]:
            raise VerificationError(Check(local[1]), local[2], seq)

        # (5) one ledger, one origin
        if self.origin is None:
            self.origin = origin
        elif origin != self.origin:
            raise self.fail(Check.ORIGIN, f"origin {origin!r} differs from {self.origin!r}")

        # (6) ts is well-formed (the worker parsed it) and never earlier than the previous
        # entry's; the fixed format makes string order time order
        if local is not None:
            raise VerificationError(Check(local[1]), local[2], seq)
        if self.last_ts is not None and ts < self.last_ts:
            raise self.fail(Check.TS, f"ts {ts} is earlier than {self.last_ts}")
        self.last_ts = ts

        # (7) chained states: `before` is the record's last `after`, or null if none
        current = self.records.get(record)
        if before != current:
            expected = "null (no such record yet)" if current is None else "its last `after`"
            raise self.fail(Check.CHAIN, f"`before` of {record[0]} {record[1]} is not {expected}")
        if after is None:
            self.records.pop(record, None)
        else:
            self.records[record] = after

        # Every check of this entry passed: advance the key, the tree and the counters.
        if next_key is not None:
            self.retired[key.key_id] = seq
            self.rotations.append((seq + 1, key, next_key))
            self.key = next_key
            self.keys_used.append(next_key)
        if self.wanted:
            self.frontier, created = append_nodes(seq, leaf, self.frontier)
            for level, index, value in created:
                if (level, index) in self.wanted:
                    self.captured[(level, index)] = value
        else:  # append_nodes in place, without the nodes it creates
            frontier, node, size = self.frontier, leaf, seq
            while size & 1:
                node = node_hash(frontier.pop(), node)
                size >>= 1
            frontier.append(node)
        self.size += 1
        if self.size == self.kept_size:
            self.kept_root_here = root_from_frontier(self.size, self.frontier)
            self.kept_keys_here = self.keys_at(self.size)
        if self.anchors is not None:
            self.anchors.entry(seq, ts)
            if self.size in self.anchored_sizes:
                root_here = root_from_frontier(self.size, self.frontier)
                self.anchors.capture(self.size, root_here, self.keys_at(self.size))

    def _rotation(self, rotation: tuple[str | None, Any, str]) -> Verifier:
        problem, previous, verifier_key = rotation
        if problem is not None:
            raise self.fail(Check.SIGNATURE, problem)
        if previous != self.key.key_id_hex:
            raise self.fail(
                Check.SIGNATURE,
                f"the rotation names previous key {previous!r}, "
                f"but the key in force is {self.key.key_id_hex}",
            )
        try:
            return Verifier.parse(verifier_key)
        except ValueError as err:
            raise self.fail(Check.SIGNATURE, f"the rotation's verifier key: {err}") from None


def _read(bundle: Path, name: str) -> bytes:
    try:
        return (bundle / name).read_bytes()
    except OSError as err:
        raise VerificationError(
            Check.BUNDLE, f"cannot read {bundle / name}: {err.strerror}"
        ) from None


def _unverified_checkpoint(note: bytes | str) -> Checkpoint:
    text, _ = parse_note(note)
    return parse_checkpoint(text)


def _compare_state(
    replayed: Mapping[tuple[str, str], bytes], state: Any, check: Check, name: str
) -> None:
    if not isinstance(state, dict) or not all(isinstance(v, dict) for v in state.values()):
        raise VerificationError(check, f"{name} is an object of objects by type and id")
    found: dict[tuple[str, str], bytes] = {}
    for type_name, records in state.items():
        if not records:
            raise VerificationError(check, f"{name} lists type {type_name} without records")
        for record_id, value in records.items():
            found[(type_name, str(record_id))] = fingerprint(value)
    for record in sorted(replayed.keys() | found.keys()):
        mine, theirs = replayed.get(record), found.get(record)
        if mine == theirs:
            continue
        what = f"{record[0]} {record[1]}"
        if theirs is None:
            raise VerificationError(check, f"{what} is live in the replay but missing from {name}")
        if mine is None:
            raise VerificationError(check, f"{what} is in {name} but not live in the replay")
        raise VerificationError(check, f"{what} in {name} differs from the replayed entries")


def verify_bundle(
    path: str | os.PathLike[str],
    first_verifier_key: str,
    *,
    kept_checkpoint: str | None = None,
    live_state: Mapping[str, Mapping[str, Any]] | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    tsa_roots: list[cryptography.x509.Certificate] | None = None,
    max_anchor_lag: float | None = None,
) -> VerifyReport:
    """Run every check of LEDGER-SPEC §7 over the bundle at `path`; raise the first failure.

    `first_verifier_key` is the key that signed entry 0, which the auditor got from
    somewhere other than the bundle. `kept_checkpoint` is a checkpoint note kept from an
    earlier look at this ledger; `live_state` is what the database holds now, as
    {type: {id: state}}. `workers` defaults to every core. `tsa_roots` are the
    certificates the anchors' tokens must chain to (without them, checks (13)-(14) run and
    the report says the tokens were not verified); `max_anchor_lag` is in seconds.
    """
    started = time.perf_counter()
    bundle = Path(path)
    try:
        first_key = Verifier.parse(first_verifier_key)
    except ValueError as err:
        raise VerificationError(Check.SIGNATURE, f"the verifier key given: {err}") from None
    checkpoint_note = _read(bundle, files.CHECKPOINT)
    try:
        claimed: Checkpoint | None = _unverified_checkpoint(checkpoint_note)
    except ValueError:
        claimed = None  # reported by check (8), after the entries had their say
    kept: Checkpoint | None = None
    if kept_checkpoint is not None:
        try:
            kept = _unverified_checkpoint(kept_checkpoint)
        except ValueError as err:
            raise VerificationError(Check.CONSISTENCY, f"the kept checkpoint: {err}") from None

    if max_anchor_lag is not None and not tsa_roots:
        raise VerificationError(
            Check.ANCHOR_LAG, "a maximum anchor lag needs the TSA certificates (--tsa-cert)"
        )
    replay = _Replay(first_key)
    anchor_check = anchor_checks.AnchorChecks(bundle, tsa_roots, max_anchor_lag)
    replay.anchored_sizes = anchor_check.wanted_sizes
    replay.anchors = anchor_check if replay.anchored_sizes else None  # no cost without
    if kept is not None:
        replay.kept_size = kept.size
        if kept.size == 0:
            replay.kept_root_here, replay.kept_keys_here = EMPTY_ROOT, [first_key]
        if claimed is not None and 0 < kept.size < claimed.size:
            replay.wanted = set(consistency_nodes(kept.size, claimed.size))

    lines = max(1, chunk_size)
    # reads of a quarter of a chunk's bytes or so, within 64 KiB to 1 MiB
    block = min(1 << 20, max(1 << 16, lines * 256))
    pipeline = _Pipeline(workers or os.cpu_count() or 1, bundle)
    # public key -> (key id, public key): the keys the workers may verify under
    hints = {first_key.public_key: (first_key.key_id, first_key.public_key)}
    try:
        with (
            open(bundle / files.ENTRIES, "rb") as entries,
            open(bundle / files.SIGNATURES, "rb") as signatures,
        ):
            chunks = _chunks(entries, signatures, lines, block)
            reading = True
            while reading or pipeline:
                while reading and pipeline.wanted():
                    chunk = next(chunks)
                    if _ROTATION_MARK in chunk.entries:
                        for hinted in _rotation_hints(chunk.entries):
                            hints.pop(hinted.public_key, None)
                            hints[hinted.public_key] = (hinted.key_id, hinted.public_key)
                        while len(hints) > MAX_HINTS:
                            del hints[next(iter(hints))]
                    chunk.hints = tuple(hints.values())
                    pipeline.start(chunk)
                    reading = not chunk.last
                replay.chunk(*pipeline.next())
                if progress is not None:
                    progress(replay.size)
    except FileNotFoundError as err:
        raise VerificationError(Check.BUNDLE, f"missing {Path(str(err.filename)).name}") from None
    finally:
        pipeline.close()
    if progress is not None:
        progress(replay.size)

    # (8) the checkpoint is well-formed and its size, origin and root are the ledger's
    if claimed is None:
        try:
            _unverified_checkpoint(checkpoint_note)
        except ValueError as err:
            raise VerificationError(Check.ROOT, f"the checkpoint is malformed: {err}") from None
    assert claimed is not None
    root = root_from_frontier(replay.size, replay.frontier)
    origin = replay.origin if replay.origin is not None else claimed.origin
    if claimed.origin != origin:
        raise VerificationError(
            Check.ORIGIN, f"the checkpoint's origin {claimed.origin!r} is not {origin!r}"
        )
    if claimed.size != replay.size:
        raise VerificationError(
            Check.ROOT, f"the checkpoint covers {claimed.size} entries, the bundle {replay.size}"
        )
    if claimed.root != root:
        raise VerificationError(
            Check.ROOT, f"the entries' root is {root.hex()}, the checkpoint's {claimed.root.hex()}"
        )

    # (9) the checkpoint is signed by the key in force after the last entry, and keys.txt
    # lists the keys followed, in order
    try:
        verify_note(checkpoint_note, replay.keys_at(replay.size))
    except (ValueError, VerificationError) as err:
        message = err.message if isinstance(err, VerificationError) else str(err)
        raise VerificationError(Check.CHECKPOINT_SIGNATURE, message) from None
    keys_text = _read(bundle, files.KEYS)
    expected_keys = "".join(k.verifier_key + "\n" for k in replay.keys_used).encode()
    if keys_text != expected_keys:
        raise VerificationError(
            Check.KEYS, "keys.txt does not list, in order, the keys that signed the ledger"
        )

    # (10) replaying the entries rebuilds state.json, which is itself canonical JCS
    state_bytes = _read(bundle, files.STATE)
    try:
        state = parse_json(state_bytes)
        if canonical(state) != state_bytes:
            raise ValueError("it is not in RFC 8785 canonical form")
    except (ValueError, TypeError, RecursionError) as err:
        raise VerificationError(Check.STATE, f"state.json: {err}") from None
    _compare_state(replay.records, state, Check.STATE, "state.json")

    # (11) the ledger extends the kept checkpoint: same origin, signed by the key then in
    # force, its root is the root of our first N leaves, and the consistency proof
    # computed from our leaves verifies between the two checkpoints
    if kept is not None:
        _check_kept(kept, kept_checkpoint or "", replay, origin, root)

    # (12) replaying the entries rebuilds the live database
    if live_state is not None:
        _compare_state(replay.records, dict(live_state), Check.LIVE, "the live database")

    # (13)-(16) the anchors: of this ledger, its roots, their imprints, signatures and lag
    if 0 in replay.anchored_sizes:
        anchor_check.capture(0, EMPTY_ROOT, [first_key])
    anchors = anchor_check.finish(origin, replay.size)

    seconds = time.perf_counter() - started
    return VerifyReport(
        origin=origin,
        size=replay.size,
        root=root,
        key_ids_used=tuple(k.key_id_hex for k in replay.keys_used),
        verifier_keys=tuple(k.verifier_key for k in replay.keys_used),
        kept_checkpoint_size=None if kept is None else kept.size,
        live_state_checked=live_state is not None,
        seconds=seconds,
        entries_per_second=replay.size / seconds if seconds > 0 else 0.0,
        anchors=anchors,
    )


def _check_kept(kept: Checkpoint, note: str, replay: _Replay, origin: str, root: bytes) -> None:
    def fail(message: str) -> VerificationError:
        return VerificationError(Check.CONSISTENCY, message)

    if kept.origin != origin:
        raise fail(f"the kept checkpoint is of {kept.origin!r}, not {origin!r}")
    if kept.size > replay.size:
        raise fail(
            f"the kept checkpoint covers {kept.size} entries but the ledger holds only "
            f"{replay.size}: it was truncated or rewritten"
        )
    assert replay.kept_root_here is not None
    assert replay.kept_keys_here is not None
    try:
        verify_note(note, replay.kept_keys_here)
    except (ValueError, VerificationError) as err:
        message = err.message if isinstance(err, VerificationError) else str(err)
        raise fail(f"the kept checkpoint's signature: {message}") from None
    if kept.root != replay.kept_root_here:
        raise fail(
            f"the kept checkpoint's root is not the root of the first {kept.size} entries: "
            "history was rewritten"
        )
    if 0 < kept.size < replay.size:
        proof = consistency_proof(kept.size, replay.size, lambda _wanted: replay.captured)
        verify_consistency(kept.size, replay.size, proof, kept.root, root)
