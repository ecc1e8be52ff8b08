"""Shared inputs for the ledger tests: the vectors, their keys, and synthetic ledgers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ropa.ledger.bundle import BundleWriter
from ropa.ledger.checkpoint import sign_checkpoint
from ropa.ledger.entry import SYSTEM_ACTOR, build_entry, rotation_entry, sign
from ropa.ledger.keys import SigningKey
from ropa.ledger.merkle import append_nodes, root_from_frontier

ASSETS = Path(__file__).resolve().parent.parent / "assets"
VECTORS = ASSETS / "ledger-vectors"
ROTATION_SEQ = 6  # entry 6 of the vectors rotates to the second key


def vector_keys() -> list[SigningKey]:
    keys = json.loads((VECTORS / "keys-private.json").read_text())["keys"]
    return [SigningKey(k["name"], bytes.fromhex(k["seedHex"])) for k in keys]


def vector_lines(name: str) -> list[bytes]:
    return (VECTORS / name).read_bytes().splitlines(keepends=True)


def first_verifier_key() -> str:
    return (VECTORS / "keys.txt").read_text().splitlines()[0]


def key_for_seq(seq: int) -> SigningKey:
    """The vector key that signs entry `seq` (the old key signs the rotation itself)."""
    old, new = vector_keys()
    return old if seq <= ROTATION_SEQ else new


@pytest.fixture(scope="session")
def vectors() -> Path:
    return VECTORS


@pytest.fixture(scope="session")
def assets() -> Path:
    return ASSETS


@pytest.fixture(scope="session")
def keys() -> list[SigningKey]:
    return vector_keys()


@pytest.fixture(scope="session")
def first_key() -> str:
    return first_verifier_key()


@pytest.fixture(scope="session")
def signer_of() -> Callable[[int], SigningKey]:
    return key_for_seq


@pytest.fixture(scope="session")
def lines_of() -> Callable[[str], list[bytes]]:
    return vector_lines


@pytest.fixture(scope="session")
def entries() -> list[dict[str, Any]]:
    return [json.loads(line) for line in vector_lines("entries.jsonl")]


@pytest.fixture(scope="session")
def signature_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in vector_lines("signatures.jsonl")]


@pytest.fixture(scope="session")
def proofs() -> dict[str, Any]:
    value: dict[str, Any] = json.loads((VECTORS / "proofs.json").read_text())
    return value


MakeLedger = Callable[..., Path]

ORIGIN = "ropa.test/11111111-2222-4333-8444-555555555555"
SYNTHETIC_OLD = SigningKey("ropa.test-20260101", bytes(range(32)))
SYNTHETIC_NEW = SigningKey("ropa.test-20260601", bytes(range(32, 64)))


def write_ledger(out: Path, size: int, *, records: int = 5, rotate_at: int | None = None) -> Path:
    """A valid bundle of `size` entries cycling over `records` processors.

    The live state stays `records` records however long the ledger, which is what the
    memory test needs. With `rotate_at`, that entry rotates to SYNTHETIC_NEW.
    """
    start = datetime(2026, 1, 1, tzinfo=UTC)
    state: dict[str, dict[str, Any]] = {}
    key = SYNTHETIC_OLD
    used = [key]
    frontier: list[bytes] = []
    with BundleWriter(out) as bundle:
        for seq in range(size):
            ts = start + timedelta(seconds=seq)
            if seq == rotate_at:
                entry = rotation_entry(
                    origin=ORIGIN,
                    seq=seq,
                    ts=ts,
                    key_record_id="99999999-0000-4000-8000-000000000000",
                    new_key=SYNTHETIC_NEW.verifier,
                    previous_key_id=key.key_id,
                )
            else:
                ident = f"00000000-0000-4000-8000-{seq % records:012d}"
                before = state.get("Processor", {}).get(ident)
                after = {"id": ident, "name": f"Processor {seq % records}", "revision": seq}
                entry = build_entry(
                    origin=ORIGIN,
                    seq=seq,
                    ts=ts,
                    actor=SYSTEM_ACTOR,
                    op="updateProcessor" if before else "registerProcessor",
                    entity={"type": "Processor", "id": ident},
                    before=before,
                    after=after,
                )
            signed = sign(entry, key)
            bundle.add(signed)
            frontier, _ = append_nodes(seq, signed.leaf_hash, frontier)
            if entry["after"] is not None:
                state.setdefault(entry["entity"]["type"], {})[entry["entity"]["id"]] = entry[
                    "after"
                ]
            if seq == rotate_at:
                key = SYNTHETIC_NEW
                used.append(key)
        note = sign_checkpoint(ORIGIN, size, root_from_frontier(size, frontier), [key])
        bundle.finish(note, [k.verifier_key for k in used], state)
    return out


@pytest.fixture(scope="session")
def synthetic_keys() -> tuple[SigningKey, SigningKey]:
    return SYNTHETIC_OLD, SYNTHETIC_NEW


@pytest.fixture
def make_ledger(tmp_path: Path) -> MakeLedger:
    counter = iter(range(1_000_000))

    def make(size: int, **options: Any) -> Path:
        return write_ledger(tmp_path / f"ledger-{next(counter)}", size, **options)

    return make
