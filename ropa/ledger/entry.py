"""Ledger entries (LEDGER-SPEC §2-§4) and their export lines (§7).

An entry is a JSON object with exactly the members `v, origin, seq, ts, actor, op,
entity, before, after`. It is hashed as its RFC 8785 bytes (`leaf_hash`) and signed on
its own (`SigningKey.sign_entry`). A key rotation is an entry like any other, signed by
the outgoing key.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ropa.ledger.canonical import canonical, format_ts, parse_ts
from ropa.ledger.keys import SigningKey, Verifier
from ropa.ledger.merkle import leaf_hash

__all__ = [
    "MEMBERS",
    "ROTATE_OP",
    "SIGNING_KEY_TYPE",
    "SYSTEM_ACTOR",
    "VERSION",
    "SignedEntry",
    "build_entry",
    "entry_line",
    "origin",
    "rotation_entry",
    "sign",
    "signature_line",
]

VERSION = 1
MEMBERS = frozenset({"v", "origin", "seq", "ts", "actor", "op", "entity", "before", "after"})
SYSTEM_ACTOR: Mapping[str, str] = {"id": "system", "role": "SYSTEM"}
ROTATE_OP = "rotateSigningKey"
SIGNING_KEY_TYPE = "SigningKey"


def origin(prefix: str, org_id: UUID | str) -> str:
    """`<prefix>/<organisation id>`, the ledger's name (§1)."""
    if not prefix or "/" in prefix or any(ch.isspace() for ch in prefix):
        raise ValueError(f"origin prefix {prefix!r} must be one word without '/'")
    return f"{prefix}/{UUID(str(org_id))}"


def build_entry(
    *,
    origin: str,
    seq: int,
    ts: datetime | str,
    actor: Mapping[str, str],
    op: str,
    entity: Mapping[str, str],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """An entry dict with exactly the members of §2; `ts` may be a datetime or its string."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise ValueError("seq is a non-negative integer")
    ts_text = format_ts(ts) if isinstance(ts, datetime) else format_ts(parse_ts(ts))
    if set(actor) != {"id", "role"} or set(entity) != {"type", "id"}:
        raise ValueError("actor is {id, role} and entity is {type, id}")
    if not op:
        raise ValueError("op names the mutation")
    return {
        "v": VERSION,
        "origin": origin,
        "seq": seq,
        "ts": ts_text,
        "actor": {"id": str(actor["id"]), "role": str(actor["role"])},
        "op": op,
        "entity": {"type": str(entity["type"]), "id": str(entity["id"])},
        "before": None if before is None else dict(before),
        "after": None if after is None else dict(after),
    }


def rotation_entry(
    *,
    origin: str,
    seq: int,
    ts: datetime | str,
    key_record_id: UUID | str,
    new_key: Verifier,
    previous_key_id: bytes,
    actor: Mapping[str, str] = SYSTEM_ACTOR,
) -> dict[str, Any]:
    """The §4 rotation entry handing over to `new_key`; sign it with the *old* key."""
    return build_entry(
        origin=origin,
        seq=seq,
        ts=ts,
        actor=actor,
        op=ROTATE_OP,
        entity={"type": SIGNING_KEY_TYPE, "id": str(UUID(str(key_record_id)))},
        before=None,
        after={"verifierKey": new_key.verifier_key, "previousKeyId": previous_key_id.hex()},
    )


@dataclass(frozen=True, slots=True)
class SignedEntry:
    seq: int
    canonical: bytes
    leaf_hash: bytes
    signature: bytes
    key_id: bytes


def sign(entry: Mapping[str, Any], key: SigningKey) -> SignedEntry:
    """Canonicalise, hash and sign one entry."""
    if set(entry) != MEMBERS:
        raise ValueError(f"an entry has exactly the members {sorted(MEMBERS)}")
    data = canonical(entry)
    leaf = leaf_hash(data)
    return SignedEntry(
        seq=int(entry["seq"]),
        canonical=data,
        leaf_hash=leaf,
        signature=key.sign_entry(leaf),
        key_id=key.key_id,
    )


def entry_line(signed: SignedEntry) -> bytes:
    """The entry's line in `entries.jsonl`: its canonical bytes and a newline."""
    return signed.canonical + b"\n"


def signature_line(signed: SignedEntry) -> bytes:
    """The entry's line in `signatures.jsonl`, newline included."""
    return (
        canonical(
            {
                "seq": signed.seq,
                "leafHash": signed.leaf_hash.hex(),
                "signature": base64.b64encode(signed.signature).decode(),
                "keyId": signed.key_id.hex(),
            }
        )
        + b"\n"
    )
