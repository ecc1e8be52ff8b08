"""Offline verification of an export bundle: the checks of LEDGER-SPEC §7.

`verify_bundle` streams `entries.jsonl` and `signatures.jsonl` line by line; what it
holds does not grow with the ledger beyond the replayed live state (one digest per live
record), the Merkle frontier (O(log n) hashes) and a bounded window of lines waiting for
their signature checks. The checks, numbered as in the comments below:

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
Checks (1) and (3) are the expensive ones (pure-Python JCS, Ed25519); they run in worker
processes over chunks of lines, and a failure found there is reported only after every
earlier entry passed all its checks, so the error is the same with one worker or many.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import multiprocessing
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import cryptography.x509
import nacl.exceptions
import nacl.signing

from ropa.errors import VerificationError
from ropa.ledger import bundle as files
from ropa.ledger import verify_anchors as anchor_checks
from ropa.ledger.canonical import canonical, is_canonical, parse_json, parse_ts
from ropa.ledger.checkpoint import Checkpoint, parse_checkpoint
from ropa.ledger.entry import MEMBERS, ROTATE_OP, SIGNING_KEY_TYPE, VERSION
from ropa.ledger.keys import ENTRY_CONTEXT, Verifier
from ropa.ledger.merkle import (
    EMPTY_ROOT,
    NodeId,
    append_nodes,
    consistency_nodes,
    consistency_proof,
    leaf_hash,
    root_from_frontier,
    verify_consistency,
)
from ropa.ledger.note import parse_note, verify_note

__all__ = ["Check", "VerifyReport", "verify_bundle"]

MAX_LINE = 16 * 1024 * 1024  # a longer line is refused rather than read into memory
DEFAULT_CHUNK = 2048


class Check(StrEnum):
    """The `check` a VerificationError names."""

    BUNDLE = "bundle"
    CANONICAL = "canonical JCS"
    FORMAT = "entry format"
    LEAF_HASH = "leaf hash"
    SIGNATURE = "signature"
    SEQ = "seq"
    ORIGIN = "origin"
    TS = "ts"
    CHAIN = "chained states"
    ROOT = "Merkle root"
    CHECKPOINT_SIGNATURE = "checkpoint signature"
    KEYS = "keys.txt"
    STATE = "state.json"
    CONSISTENCY = "consistency proof"
    LIVE = "live database"
    ANCHOR_CHECKPOINT = anchor_checks.ANCHOR_CHECKPOINT
    ANCHOR_ORIGIN = anchor_checks.ANCHOR_ORIGIN
    ANCHOR_ROOT = anchor_checks.ANCHOR_ROOT
    ANCHOR_IMPRINT = anchor_checks.ANCHOR_IMPRINT
    ANCHOR_SIGNATURE = anchor_checks.ANCHOR_SIGNATURE
    ANCHOR_LAG = anchor_checks.ANCHOR_LAG


# Per-entry checks in the order they are judged, for reporting the first failure.
_RANK = {
    Check.BUNDLE: 0,
    Check.CANONICAL: 1,
    Check.FORMAT: 1,
    Check.LEAF_HASH: 2,
    Check.SIGNATURE: 3,
    Check.SEQ: 4,
    Check.ORIGIN: 5,
    Check.TS: 6,
    Check.CHAIN: 7,
}


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


# -- the worker side: checks (1) canonical form and (3) signatures ------------------------

# (seq, line without its newline, claimed leaf hash, signature, public key); the last three
# are None when the main process already knows the signature line is unusable.
_Item = tuple[int, bytes, bytes | None, bytes | None, bytes | None]
# (seq, check, message)
_Failure = tuple[int, str, str]


def _check_chunk(items: list[_Item]) -> _Failure | None:
    """The first failure of checks (1) and (3) in a chunk, in seq order."""
    keys: dict[bytes, nacl.signing.VerifyKey] = {}
    for seq, body, leaf, signature, public in items:
        # (1) re-canonicalise and compare bytes: the line must be its own JCS form (the
        # quick C check settles almost every line; the exact one judges the rest)
        if not is_canonical(body):
            try:
                again = canonical(parse_json(body))
            except (ValueError, TypeError, RecursionError) as err:
                return seq, Check.CANONICAL.value, f"not ledger JSON: {err}"
            if again != body:
                return seq, Check.CANONICAL.value, "the line is not in RFC 8785 canonical form"
        # (3) Ed25519 over the context string and the leaf hash (LEDGER-SPEC §3)
        if leaf is None or signature is None or public is None:
            continue
        key = keys.get(public)
        if key is None:
            key = keys[public] = nacl.signing.VerifyKey(public)
        try:
            key.verify(ENTRY_CONTEXT + leaf, signature)
        except nacl.exceptions.BadSignatureError:
            return seq, Check.SIGNATURE.value, "the signature does not verify under its key"
    return None


class _Window:
    """Lines waiting for checks (1) and (3): inline for small bundles, else a process pool."""

    def __init__(self, workers: int, chunk_size: int) -> None:
        self._workers = workers
        self._chunk_size = chunk_size
        self._chunk: list[_Item] = []
        self._inflight: deque[Future[_Failure | None]] = deque()
        self._pool: ProcessPoolExecutor | None = None
        self._chunks_done = 0

    def add(self, item: _Item) -> None:
        self._chunk.append(item)

    def full(self) -> bool:
        return len(self._chunk) >= self._chunk_size

    def submit(self) -> None:
        """Check the pending chunk; call only once every entry in it passed checks (2)-(7)."""
        chunk, self._chunk = self._chunk, []
        # The first chunk runs inline: a pool only pays off for larger bundles.
        if self._workers > 1 and self._chunks_done > 0 and self._pool is None:
            try:
                # spawn, not fork: safe whatever threads the caller runs
                self._pool = ProcessPoolExecutor(
                    max_workers=self._workers, mp_context=multiprocessing.get_context("spawn")
                )
            except (OSError, ImportError, NotImplementedError):
                self._workers = 1  # no process support here (e.g. no semaphores): go on inline
        if self._pool is not None:
            self._inflight.append(self._pool.submit(_check_chunk, chunk))
            while len(self._inflight) > 2 * self._workers:
                _raise(self._inflight.popleft().result())
        else:
            _raise(_check_chunk(chunk))
        self._chunks_done += 1

    def first_failure(self) -> _Failure | None:
        """Wait for everything queued; the earliest failure, if any."""
        while self._inflight:
            failure = self._inflight.popleft().result()
            if failure is not None:
                self._chunk.clear()
                return failure
        chunk, self._chunk = self._chunk, []
        return _check_chunk(chunk) if chunk else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _raise(failure: _Failure | None) -> None:
    if failure is not None:
        seq, check, message = failure
        raise VerificationError(Check(check), message, seq)


# -- the main side: checks (1)-(7) that need order, then (8)-(12) --------------------------

_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_HEX8 = re.compile(r"[0-9a-f]{8}", re.ASCII)


def _fingerprint(state: Any) -> bytes:
    """A digest that equals for equal JSON values (and tells `true` from `1`)."""
    text = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).digest()


@dataclass
class _SignatureLine:
    seq: Any
    leaf: bytes | None
    signature: bytes | None
    key_id: bytes | None
    problem: tuple[Check, str] | None


def _parse_signature_line(line: bytes) -> _SignatureLine:
    blank = _SignatureLine(None, None, None, None, None)
    if not line.endswith(b"\n"):
        blank.problem = (Check.CANONICAL, "the signatures.jsonl line does not end in a newline")
        return blank
    try:
        obj = json.loads(line[:-1].decode("utf-8"))
    except (ValueError, RecursionError):
        blank.problem = (Check.CANONICAL, "the signatures.jsonl line is not JSON")
        return blank
    if not isinstance(obj, dict) or set(obj) != {"seq", "leafHash", "signature", "keyId"}:
        blank.problem = (Check.FORMAT, "a signatures.jsonl line has exactly its four members")
        return blank
    parsed = _SignatureLine(obj["seq"], None, None, None, None)
    leaf_text, sig_text, key_text = obj["leafHash"], obj["signature"], obj["keyId"]
    if isinstance(leaf_text, str) and _HEX64.fullmatch(leaf_text):
        parsed.leaf = bytes.fromhex(leaf_text)
    if isinstance(key_text, str) and _HEX8.fullmatch(key_text):
        parsed.key_id = bytes.fromhex(key_text)
    if isinstance(sig_text, str):
        try:
            raw = base64.b64decode(sig_text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 64 and base64.b64encode(raw).decode() == sig_text:
            parsed.signature = raw
    seq = obj["seq"]
    if type(seq) is not int:
        parsed.problem = (Check.SEQ, "the signatures.jsonl seq is not an integer")
    elif parsed.leaf is None:
        parsed.problem = (Check.LEAF_HASH, "leafHash is not 64 lowercase hex digits")
    elif parsed.signature is None:
        parsed.problem = (Check.SIGNATURE, "signature is not 64 bytes in padded base64")
    elif parsed.key_id is None:
        parsed.problem = (Check.SIGNATURE, "keyId is not 8 lowercase hex digits")
    else:
        expected = (
            f'{{"keyId":"{key_text}","leafHash":"{leaf_text}",'
            f'"seq":{seq},"signature":"{sig_text}"}}\n'
        ).encode()
        if line != expected:
            parsed.problem = (Check.CANONICAL, "the signatures.jsonl line is not canonical JCS")
    return parsed


def _entry_format_problem(obj: Any) -> str | None:
    if not isinstance(obj, dict) or set(obj) != MEMBERS:
        return f"an entry is an object with exactly the members {', '.join(sorted(MEMBERS))}"
    if type(obj["v"]) is not int or obj["v"] != VERSION:
        return f"v is {VERSION}"
    if type(obj["seq"]) is not int:
        return "seq is an integer"
    if not isinstance(obj["origin"], str) or not obj["origin"]:
        return "origin is a non-empty string"
    if not isinstance(obj["ts"], str):
        return "ts is a string"
    if not isinstance(obj["op"], str) or not obj["op"]:
        return "op is a non-empty string"
    for member, fields in (("actor", ("id", "role")), ("entity", ("type", "id"))):
        value = obj[member]
        if not isinstance(value, dict) or set(value) != set(fields):
            return f"{member} has exactly the members {', '.join(fields)}"
        if not all(isinstance(value[f], str) for f in fields):
            return f"the members of {member} are strings"
    for member in ("before", "after"):
        if obj[member] is not None and not isinstance(obj[member], dict):
            return f"{member} is an object or null"
    return None


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

    def step(self, eline: bytes, sline: bytes, window: _Window) -> None:
        seq = self.size
        sig = _parse_signature_line(sline)
        body = eline[:-1] if eline.endswith(b"\n") else eline
        usable = sig.problem is None and sig.key_id == self.key.key_id
        window.add(
            (
                seq,
                body,
                sig.leaf if usable else None,
                sig.signature if usable else None,
                self.key.public_key if usable else None,
            )
        )

        # (1) canonical JCS: the worker compares bytes; here the line must at least be a
        # newline-terminated UTF-8 JSON entry with exactly the members of §2
        if not eline.endswith(b"\n"):
            raise self.fail(Check.CANONICAL, "the entries.jsonl line does not end in a newline")
        try:
            entry = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError) as err:
            raise self.fail(Check.CANONICAL, f"the line is not UTF-8 JSON: {err}") from None
        problem = _entry_format_problem(entry)
        if problem is not None:
            raise self.fail(Check.FORMAT, problem)
        if sig.problem is not None and _RANK[sig.problem[0]] <= _RANK[Check.FORMAT]:
            raise self.fail(*sig.problem)

        # (2) the leaf hash of the line's bytes is the one signatures.jsonl states
        leaf = leaf_hash(body)
        if sig.problem is not None and sig.problem[0] is Check.LEAF_HASH:
            raise self.fail(*sig.problem)
        if sig.leaf != leaf:
            raise self.fail(
                Check.LEAF_HASH,
                f"the line hashes to {leaf.hex()}, signatures.jsonl says "
                f"{sig.leaf.hex() if sig.leaf else None}",
            )

        # (3) signed by the key in force (the worker verifies the signature itself); a
        # rotation entry is signed by the old key and hands over from the next entry on
        if sig.problem is not None and sig.problem[0] is Check.SIGNATURE:
            raise self.fail(*sig.problem)
        if sig.key_id != self.key.key_id:
            assert sig.key_id is not None
            retired_at = self.retired.get(sig.key_id)
            reason = (
                f"key {sig.key_id.hex()} was retired by entry {retired_at}"
                if retired_at is not None
                else f"unknown key id {sig.key_id.hex()}"
            )
            raise self.fail(Check.SIGNATURE, f"{reason}; the key in force is {self.key.key_id_hex}")
        next_key = self._rotation(entry)

        # (4) seq is gapless from 0, in both files
        if entry["seq"] != seq:
            raise self.fail(Check.SEQ, f"line {seq} of entries.jsonl holds seq {entry['seq']}")
        if sig.seq != seq:
            raise self.fail(Check.SEQ, f"line {seq} of signatures.jsonl holds seq {sig.seq}")

        # (5) one ledger, one origin
        if self.origin is None:
            self.origin = entry["origin"]
        elif entry["origin"] != self.origin:
            raise self.fail(
                Check.ORIGIN, f"origin {entry['origin']!r} differs from {self.origin!r}"
            )

        # (6) ts is well-formed and never earlier than the previous entry's; the fixed
        # format makes string order time order
        try:
            parse_ts(entry["ts"])
        except ValueError as err:
            raise self.fail(Check.TS, str(err)) from None
        if self.last_ts is not None and entry["ts"] < self.last_ts:
            raise self.fail(Check.TS, f"ts {entry['ts']} is earlier than {self.last_ts}")
        self.last_ts = entry["ts"]

        # (7) chained states: `before` is the record's last `after`, or null if none
        record = (entry["entity"]["type"], entry["entity"]["id"])
        current = self.records.get(record)
        before = entry["before"]
        if (None if before is None else _fingerprint(before)) != current:
            expected = "null (no such record yet)" if current is None else "its last `after`"
            raise self.fail(Check.CHAIN, f"`before` of {record[0]} {record[1]} is not {expected}")
        if entry["after"] is None:
            self.records.pop(record, None)
        else:
            self.records[record] = _fingerprint(entry["after"])

        # Every check of this entry passed: advance the key, the tree and the counters.
        if next_key is not None:
            self.retired[self.key.key_id] = seq
            self.rotations.append((seq + 1, self.key, next_key))
            self.key = next_key
            self.keys_used.append(next_key)
        self.frontier, created = append_nodes(seq, leaf, self.frontier)
        if self.wanted:
            for level, index, value in created:
                if (level, index) in self.wanted:
                    self.captured[(level, index)] = value
        self.size += 1
        if self.size == self.kept_size:
            self.kept_root_here = root_from_frontier(self.size, self.frontier)
            self.kept_keys_here = self.keys_at(self.size)
        if self.anchors is not None:
            self.anchors.entry(seq, entry["ts"])
            if self.size in self.anchored_sizes:
                root_here = root_from_frontier(self.size, self.frontier)
                self.anchors.capture(self.size, root_here, self.keys_at(self.size))

    def _rotation(self, entry: dict[str, Any]) -> Verifier | None:
        if entry["op"] != ROTATE_OP:
            return None
        after = entry["after"]
        if entry["entity"]["type"] != SIGNING_KEY_TYPE:
            raise self.fail(Check.SIGNATURE, f"a rotation's entity type is {SIGNING_KEY_TYPE}")
        if not isinstance(after, dict) or set(after) != {"verifierKey", "previousKeyId"}:
            raise self.fail(
                Check.SIGNATURE, "a rotation's `after` holds verifierKey and previousKeyId"
            )
        if after["previousKeyId"] != self.key.key_id_hex:
            raise self.fail(
                Check.SIGNATURE,
                f"the rotation names previous key {after['previousKeyId']!r}, "
                f"but the key in force is {self.key.key_id_hex}",
            )
        try:
            return Verifier.parse(str(after["verifierKey"]))
        except ValueError as err:
            raise self.fail(Check.SIGNATURE, f"the rotation's verifier key: {err}") from None


def _lines(entries: BinaryIO, signatures: BinaryIO) -> Iterator[tuple[int, bytes, bytes]]:
    position = 0
    while True:
        eline = entries.readline(MAX_LINE + 1)
        sline = signatures.readline(MAX_LINE + 1)
        if not eline and not sline:
            return
        if not eline:
            raise VerificationError(
                Check.BUNDLE, "signatures.jsonl has more lines than entries.jsonl", position
            )
        if not sline:
            raise VerificationError(
                Check.BUNDLE, "entries.jsonl has more lines than signatures.jsonl", position
            )
        if len(eline) > MAX_LINE or len(sline) > MAX_LINE:
            raise VerificationError(Check.BUNDLE, f"a line is over {MAX_LINE} bytes", position)
        yield position, eline, sline
        position += 1


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
            found[(type_name, str(record_id))] = _fingerprint(value)
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

    window = _Window(workers or os.cpu_count() or 1, max(1, chunk_size))
    try:
        with (
            open(bundle / files.ENTRIES, "rb") as entries,
            open(bundle / files.SIGNATURES, "rb") as signatures,
        ):
            lines = _lines(entries, signatures)
            while True:
                try:
                    pair = next(lines, None)
                    if pair is None:
                        break
                    replay.step(pair[1], pair[2], window)
                except VerificationError as err:
                    # A check (1)/(3) failure of an earlier entry, or of this one when it
                    # ranks first, still waits in the window: it is the one to report.
                    earlier = window.first_failure()
                    if earlier is not None and (earlier[0], _RANK[Check(earlier[1])]) <= (
                        err.seq if err.seq is not None else replay.size,
                        _RANK.get(Check(err.check), 0),
                    ):
                        _raise(earlier)
                    raise
                if window.full():
                    window.submit()
                    if progress is not None:
                        progress(replay.size)
            _raise(window.first_failure())
    except FileNotFoundError as err:
        raise VerificationError(Check.BUNDLE, f"missing {Path(str(err.filename)).name}") from None
    finally:
        window.close()
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
