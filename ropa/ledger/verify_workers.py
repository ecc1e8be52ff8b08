"""The verifier's per-entry work that needs no order, run over chunks of lines.

`verify.py` reads `entries.jsonl` and `signatures.jsonl` in large blocks and hands each
chunk of paired lines to `check_chunk`, in a worker process or inline. For every line it
does what does not depend on the entries before it: check (1) canonical JCS and the entry
format, the signature line's own form, check (2) the leaf hash, check (3) the Ed25519
signature under the key its keyId names (among the keys the main process hints), check (4)
seq against the line's position, the form of ts (6), and the fingerprints of `before` and
`after` for check (7). It returns per entry only what the in-order checks need (`Facts`):
the leaf hash, key id, whether the signature verified, a rotation's members, origin, ts,
the record and the two fingerprints. The main process then judges, in seq order, the key
in force, rotations, origin, the order of ts, the chained states and the Merkle tree.

The first local failure of a chunk ends it: the entries before it come back as facts, and
the failure as `(seq, check, message)`. A failure that ranks after an in-order check of
the same entry (seq, ts form) comes back with that entry's facts, so the main process can
report the in-order failure instead when it comes first (LEDGER-SPEC §7 order).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import nacl.exceptions
import nacl.signing
import orjson

from ropa.ledger import verify_anchors as anchor_checks
from ropa.ledger.canonical import canonical, canonical_value, parse_json, parse_ts
from ropa.ledger.entry import MEMBERS, ROTATE_OP, SIGNING_KEY_TYPE, VERSION
from ropa.ledger.keys import ENTRY_CONTEXT

__all__ = [
    "RANK", "Check", "ChunkResult", "Facts", "Hints", "check_chunk", "check_ranges", "fingerprint",
]


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
RANK = {
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

# The keys the signatures may be under, as (key id, public key): the key in force and those
# rotations name. Only a hint: the main process still compares the key that verified a
# signature with the key in force at that seq.
Hints = tuple[tuple[bytes, bytes], ...]

# A rotation's members: (a problem found without knowing the key in force, or None;
# previousKeyId; verifierKey as text).
Rotation = tuple[str | None, Any, str]

# Per entry: (leaf hash, key id, verified, rotation, origin, ts, (type, id), before
# fingerprint, after fingerprint). `verified` is the index in the hints of the one key with
# that id, under which the signature verified; or the signature, for the main process to
# verify under the key in force; or None when the signature line is unusable and the
# entry fails its seq check anyway.
Facts = tuple[
    bytes,
    bytes | None,
    int | bytes | None,
    Rotation | None,
    str,
    str,
    tuple[str, str],
    bytes | None,
    bytes | None,
]
# (seq, check, message)
Failure = tuple[int, str, str]
# The facts of the entries checked, and the first local failure (its entry's facts are the
# last ones when the failure ranks after check (3), see the module docstring).
ChunkResult = tuple[list[Facts], Failure | None]

_ACTOR = frozenset({"id", "role"})
_ENTITY = frozenset({"type", "id"})
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", re.ASCII)  # as canonical.py
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_HEX8 = re.compile(r"[0-9a-f]{8}", re.ASCII)


def fingerprint(state: Any) -> bytes:
    """A digest that equals for equal JSON values (and tells `true` from `1`): of the
    compact, sorted JSON text (for ledger JSON, its RFC 8785 bytes)."""
    try:
        text = orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, say: never ledger JSON
        text = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(text).digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1, as `merkle.leaf_hash`."""
    return hashlib.sha256(b"\x00" + data).digest()


@dataclass
class SignatureLine:
    seq: Any
    leaf: bytes | None
    signature: bytes | None
    key_id: bytes | None
    problem: tuple[Check, str] | None


# The canonical form of a signatures.jsonl line (the padding of 64 bytes in base64 leaves
# the last character before it one of AQgw).
_CANONICAL_SIGNATURE_LINE = re.compile(
    rb'\{"keyId":"([0-9a-f]{8})","leafHash":"([0-9a-f]{64})","seq":(0|[1-9][0-9]{0,15}),'
    rb'"signature":"([A-Za-z0-9+/]{85}[AQgw]==)"\}\n'
)


def parse_signature_line(line: bytes) -> SignatureLine:
    """One line of signatures.jsonl, with its newline, and the first problem of its form."""
    match = _CANONICAL_SIGNATURE_LINE.fullmatch(line)
    if match is not None:
        key_id, leaf, seq, signature = match.groups()
        return SignatureLine(
            int(seq),
            bytes.fromhex(leaf.decode()),
            base64.b64decode(signature),
            bytes.fromhex(key_id.decode()),
            None,
        )
    blank = SignatureLine(None, None, None, None, None)
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
    parsed = SignatureLine(obj["seq"], None, None, None, None)
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


def entry_format_problem(obj: Any) -> str | None:
    """What is wrong with the shape of an entry (LEDGER-SPEC §2), or None."""
    # The shape of nearly every entry, in one expression; the checks below say what is wrong.
    if (
        type(obj) is dict
        and obj.keys() == MEMBERS
        and type(obj["v"]) is int
        and obj["v"] == VERSION
        and type(obj["seq"]) is int
        and type(obj["origin"]) is str
        and obj["origin"]
        and type(obj["ts"]) is str
        and type(obj["op"]) is str
        and obj["op"]
        and type(actor := obj["actor"]) is dict
        and actor.keys() == _ACTOR
        and type(actor["id"]) is str
        and type(actor["role"]) is str
        and type(entity := obj["entity"]) is dict
        and entity.keys() == _ENTITY
        and type(entity["type"]) is str
        and type(entity["id"]) is str
        and (obj["before"] is None or type(obj["before"]) is dict)
        and (obj["after"] is None or type(obj["after"]) is dict)
    ):
        return None
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


def _rotation(entry: dict[str, Any]) -> Rotation:
    if entry["entity"]["type"] != SIGNING_KEY_TYPE:
        return f"a rotation's entity type is {SIGNING_KEY_TYPE}", None, ""
    after = entry["after"]
    if not isinstance(after, dict) or set(after) != {"verifierKey", "previousKeyId"}:
        return "a rotation's `after` holds verifierKey and previousKeyId", None, ""
    return None, after["previousKeyId"], str(after["verifierKey"])


def _plain_ts(text: str) -> bool:
    """Whether `parse_ts` accepts `text`, quickly (it says why not)."""
    if _TS.fullmatch(text) is None:
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


_KEYS: dict[bytes, nacl.signing.VerifyKey] = {}  # public key -> its PyNaCl key, per process


def _keys_by_id(hints: Hints) -> dict[bytes, tuple[int, nacl.signing.VerifyKey] | None]:
    """key id -> (index in hints, key), or None when several hinted keys share the id."""
    found: dict[bytes, tuple[int, nacl.signing.VerifyKey] | None] = {}
    for index, (key_id, public) in enumerate(hints):
        key = _KEYS.get(public)
        if key is None:
            if len(_KEYS) > 256:
                _KEYS.clear()
            key = _KEYS[public] = nacl.signing.VerifyKey(public)
        found[key_id] = None if key_id in found else (index, key)
    return found


def check_chunk(first_seq: int, entries: bytes, signatures: bytes, hints: Hints) -> ChunkResult:
    """Check the lines of a chunk that starts at `first_seq`: `entries` and `signatures`
    hold the same number of lines, each ending in a newline but perhaps the last of a file.
    """
    elines = entries.split(b"\n")
    entries_end = elines.pop() if elines else b""  # b"" when the last line has its newline
    slines = signatures.split(b"\n")
    signatures_end = slines.pop() if slines else b""
    if entries_end:
        elines.append(entries_end)
    if signatures_end:
        slines.append(signatures_end)
    last = len(elines) - 1
    keys = _keys_by_id(hints)
    facts: list[Facts] = []
    origin = ts_text = kind = ""
    for index, body in enumerate(elines):
        seq = first_seq + index

        # (1) the line is its own JCS form (the quick C check settles almost every line;
        # the exact one judges the rest), ends in a newline and is a §2 entry
        certain, entry = canonical_value(body)
        if not certain:
            try:
                entry = parse_json(body)
                again = canonical(entry)
            except (ValueError, TypeError, RecursionError) as err:
                return facts, (seq, Check.CANONICAL, f"not ledger JSON: {err}")
            if again != body:
                return facts, (seq, Check.CANONICAL, "the line is not in RFC 8785 canonical form")
        if index == last and entries_end:
            return facts, (seq, Check.CANONICAL, "the entries.jsonl line does not end in a newline")
        problem = entry_format_problem(entry)
        if problem is not None:
            return facts, (seq, Check.FORMAT, problem)
        sline = slines[index] if index == last and signatures_end else slines[index] + b"\n"
        sig = parse_signature_line(sline)
        if sig.problem is not None and RANK[sig.problem[0]] <= RANK[Check.FORMAT]:
            return facts, (seq, *sig.problem)

        # (2) the leaf hash of the line's bytes is the one signatures.jsonl states
        leaf = leaf_hash(body)
        if sig.problem is not None and sig.problem[0] is Check.LEAF_HASH:
            return facts, (seq, *sig.problem)
        if sig.leaf != leaf:
            return facts, (
                seq,
                Check.LEAF_HASH,
                f"the line hashes to {leaf.hex()}, signatures.jsonl says "
                f"{sig.leaf.hex() if sig.leaf else None}",
            )

        # (3) the signature line is usable; Ed25519 over the context string and the leaf
        # hash (LEDGER-SPEC §3) under the one hinted key with its key id. Whether that is
        # the key in force at this seq is for the main process to judge.
        if sig.problem is not None and sig.problem[0] is Check.SIGNATURE:
            return facts, (seq, *sig.problem)
        verified: int | bytes | None = None
        if sig.problem is None:
            assert sig.signature is not None
            assert sig.key_id is not None
            verified = sig.signature
            hinted = keys.get(sig.key_id)
            if hinted is not None:
                try:
                    hinted[1].verify(ENTRY_CONTEXT + leaf, sig.signature)
                    verified = hinted[0]
                except nacl.exceptions.BadSignatureError:
                    pass  # the main process verifies again under the key in force, and fails
        rotation = _rotation(entry) if entry["op"] == ROTATE_OP else None

        # (4) seq is the line's position in both files; (6) ts has the ledger's form
        failure: Failure | None = None
        if entry["seq"] != seq:
            failure = (seq, Check.SEQ, f"line {seq} of entries.jsonl holds seq {entry['seq']}")
        elif type(sig.seq) is not int or sig.seq != seq:
            failure = (seq, Check.SEQ, f"line {seq} of signatures.jsonl holds seq {sig.seq}")
        elif not _plain_ts(entry["ts"]):
            try:
                parse_ts(entry["ts"])
            except ValueError as err:
                failure = (seq, Check.TS, str(err))

        # (7) the states, as fingerprints; the same strings as the entry before are sent
        # as the same objects, which pickle once
        entity = entry["entity"]
        before, after = entry["before"], entry["after"]
        if entry["origin"] != origin:
            origin = entry["origin"]
        if entity["type"] != kind:
            kind = entity["type"]
        ts_text = entry["ts"]
        facts.append(
            (
                leaf,
                sig.key_id,
                verified,
                rotation,
                origin,
                ts_text,
                (kind, entity["id"]),
                None if before is None else fingerprint(before),
                None if after is None else fingerprint(after),
            )
        )
        if failure is not None:
            return facts, failure
    return facts, None


def check_ranges(
    first_seq: int,
    lines: int,
    entries: tuple[str, int, int],
    signatures: tuple[str, int, int],
    hints: Hints,
) -> ChunkResult:
    """`check_chunk` over byte ranges of the files, each given as (path, start, length),
    that the main process found to hold `lines` lines each."""
    chunks = []
    for path, start, length in (entries, signatures):
        with open(path, "rb") as file:
            file.seek(start)
            data = file.read(length)
        # the main process counted the lines; a file changed since fails here
        if len(data) != length or data.count(b"\n") != lines - (not data.endswith(b"\n")):
            return [], (first_seq, Check.BUNDLE, "the bundle changed while it was being read")
        chunks.append(data)
    return check_chunk(first_seq, chunks[0], chunks[1], hints)
