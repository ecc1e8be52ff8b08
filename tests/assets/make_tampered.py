"""Derive the tampered bundles in tests/assets/tampered/ from the ledger vectors.

Run once from the repository root, `python tests/assets/make_tampered.py`; the output
is checked in, and a test re-runs this script into a temporary directory to prove the
assets are exactly what it makes. Ed25519 is deterministic, so every byte is reproducible.

Two kinds of tampering:
- *without the key*: bytes of an exported bundle edited in place (an attacker with database
  or file access only). Signatures no longer match what they sign.
- *with the key*: entries changed and then re-signed with the vectors' test keys, with a
  fresh checkpoint, so that only the property under test breaks (a buggy writer, or an
  insider holding the signing key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ropa.ledger.canonical import canonical
from ropa.ledger.checkpoint import sign_checkpoint
from ropa.ledger.keys import SigningKey
from ropa.ledger.merkle import leaf_hash, root

ASSETS = Path(__file__).resolve().parent
VECTORS = ASSETS / "ledger-vectors"
FILES = ("entries.jsonl", "signatures.jsonl", "checkpoint", "keys.txt", "state.json")

_PRIVATE = json.loads((VECTORS / "keys-private.json").read_text())["keys"]
OLD_KEY = SigningKey(_PRIVATE[0]["name"], bytes.fromhex(_PRIVATE[0]["seedHex"]))
NEW_KEY = SigningKey(_PRIVATE[1]["name"], bytes.fromhex(_PRIVATE[1]["seedHex"]))
ROTATION_SEQ = 6  # entry 6 hands over from OLD_KEY to NEW_KEY
# A key the ledger never knew, with the same name as the real one.
FORGER = SigningKey(OLD_KEY.name, hashlib.sha256(b"ropa test forger").digest())

Lines = list[bytes]
Case = Callable[[Path], None]


def _lines(name: str) -> Lines:
    return (VECTORS / name).read_bytes().splitlines(keepends=True)


def _copy_vectors(out: Path) -> None:
    out.mkdir(parents=True)
    for name in FILES:
        shutil.copyfile(VECTORS / name, out / name)


def _write_lines(out: Path, name: str, lines: Lines) -> None:
    (out / name).write_bytes(b"".join(lines))


def _entry(line: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(line)
    return value


def _key_for(seq: int) -> SigningKey:
    return OLD_KEY if seq <= ROTATION_SEQ else NEW_KEY


def _signature_line(seq: int, body: bytes, key: SigningKey) -> bytes:
    leaf = leaf_hash(body)
    record = {
        "seq": seq,
        "leafHash": leaf.hex(),
        "signature": base64.b64encode(key.sign_entry(leaf)).decode(),
        "keyId": key.key_id.hex(),
    }
    return canonical(record) + b"\n"


def _replay(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    state: dict[str, dict[str, Any]] = {}
    for entry in entries:
        kind, ident = entry["entity"]["type"], entry["entity"]["id"]
        if entry["after"] is None:
            state.get(kind, {}).pop(ident, None)
        else:
            state.setdefault(kind, {})[ident] = entry["after"]
    return {kind: records for kind, records in state.items() if records}


def _resigned(out: Path, entries: list[dict[str, Any]]) -> None:
    """A complete, consistently signed bundle of these entries (the key holder's view)."""
    out.mkdir(parents=True)
    bodies = [canonical(e) for e in entries]
    _write_lines(out, "entries.jsonl", [b + b"\n" for b in bodies])
    _write_lines(
        out,
        "signatures.jsonl",
        [
            _signature_line(e["seq"], b, _key_for(e["seq"]))
            for e, b in zip(entries, bodies, strict=True)
        ],
    )
    size = len(entries)
    checkpoint_key = _key_for(size)  # the key in force after the last entry
    note = sign_checkpoint(
        entries[0]["origin"], size, root([leaf_hash(b) for b in bodies]), [checkpoint_key]
    )
    (out / "checkpoint").write_text(note, encoding="utf-8")
    used = [OLD_KEY] if size <= ROTATION_SEQ else [OLD_KEY, NEW_KEY]
    (out / "keys.txt").write_text("".join(k.verifier_key + "\n" for k in used))
    (out / "state.json").write_bytes(canonical(_replay(entries)))


def _vector_entries() -> list[dict[str, Any]]:
    return [_entry(line) for line in _lines("entries.jsonl")]


# -- without the key -------------------------------------------------------------------------


def edited_entry(out: Path) -> None:
    """Entry 4's DPA reference edited; its leaf hash and signature left as they were."""
    _copy_vectors(out)
    lines = _lines("entries.jsonl")
    lines[4] = lines[4].replace(b"DPA-HS-2026-11", b"DPA-HS-2026-99")
    _write_lines(out, "entries.jsonl", lines)


def edited_entry_rehashed(out: Path) -> None:
    """The same edit with the leaf hash recomputed: only a signature could catch it."""
    _copy_vectors(out)
    lines = _lines("entries.jsonl")
    lines[4] = lines[4].replace(b"DPA-HS-2026-11", b"DPA-HS-2026-99")
    _write_lines(out, "entries.jsonl", lines)
    signatures = _lines("signatures.jsonl")
    record = _entry(signatures[4])
    record["leafHash"] = leaf_hash(lines[4][:-1]).hex()
    signatures[4] = canonical(record) + b"\n"
    _write_lines(out, "signatures.jsonl", signatures)


def deleted_entry(out: Path) -> None:
    """Entry 3 removed from both files."""
    _copy_vectors(out)
    for name in ("entries.jsonl", "signatures.jsonl"):
        lines = _lines(name)
        del lines[3]
        _write_lines(out, name, lines)


def swapped_entries(out: Path) -> None:
    """Entries 1 and 2 swapped in both files."""
    _copy_vectors(out)
    for name in ("entries.jsonl", "signatures.jsonl"):
        lines = _lines(name)
        lines[1], lines[2] = lines[2], lines[1]
        _write_lines(out, name, lines)


def truncated_tail(out: Path) -> None:
    """The last two entries dropped, served with the genuine checkpoint of size 8.

    Everything in it verifies: only `kept-checkpoint` (the auditor's copy of the size-10
    checkpoint) shows that entries were removed.
    """
    out.mkdir(parents=True)
    for name in ("entries.jsonl", "signatures.jsonl"):
        _write_lines(out, name, _lines(name)[:8])
    shutil.copyfile(VECTORS / "checkpoints" / "8", out / "checkpoint")
    shutil.copyfile(VECTORS / "keys.txt", out / "keys.txt")
    (out / "state.json").write_bytes(canonical(_replay(_vector_entries()[:8])))
    shutil.copyfile(VECTORS / "checkpoints" / "10", out / "kept-checkpoint")


def forged_signature(out: Path) -> None:
    """Entry 5 edited and signed by a key the ledger never knew, under the real key id."""
    _copy_vectors(out)
    lines = _lines("entries.jsonl")
    lines[5] = lines[5].replace(b"dpo@qualer.example", b"dpo@elsewhere.example")
    _write_lines(out, "entries.jsonl", lines)
    signatures = _lines("signatures.jsonl")
    forged = _entry(_signature_line(5, lines[5][:-1], FORGER))
    forged["keyId"] = OLD_KEY.key_id.hex()
    signatures[5] = canonical(forged) + b"\n"
    _write_lines(out, "signatures.jsonl", signatures)


def bit_flipped_signature(out: Path) -> None:
    """One bit of entry 2's signature flipped."""
    _copy_vectors(out)
    signatures = _lines("signatures.jsonl")
    record = _entry(signatures[2])
    raw = bytearray(base64.b64decode(record["signature"]))
    raw[17] ^= 0x04
    record["signature"] = base64.b64encode(bytes(raw)).decode()
    signatures[2] = canonical(record) + b"\n"
    _write_lines(out, "signatures.jsonl", signatures)


def unknown_key_id(out: Path) -> None:
    """Entry 8 signed, validly, by an unknown key under that key's own id."""
    _copy_vectors(out)
    signatures = _lines("signatures.jsonl")
    signatures[8] = _signature_line(8, _lines("entries.jsonl")[8][:-1], FORGER)
    _write_lines(out, "signatures.jsonl", signatures)


def edited_state(out: Path) -> None:
    """state.json shows the retired processor as active again."""
    _copy_vectors(out)
    state = json.loads((VECTORS / "state.json").read_bytes())
    state["Processor"]["5f0c1d2e-0000-4000-8000-000000000002"]["status"] = "ACTIVE"
    (out / "state.json").write_bytes(canonical(state))


def non_canonical_line(out: Path) -> None:
    """Entry 3 with one space added after a colon: same JSON value, other bytes."""
    _copy_vectors(out)
    lines = _lines("entries.jsonl")
    lines[3] = lines[3].replace(b'{"actor":{', b'{"actor": {', 1)
    _write_lines(out, "entries.jsonl", lines)


def retired_key(out: Path) -> None:
    """Entry 8 validly signed by the key that entry 6 retired."""
    _copy_vectors(out)
    signatures = _lines("signatures.jsonl")
    signatures[8] = _signature_line(8, _lines("entries.jsonl")[8][:-1], OLD_KEY)
    _write_lines(out, "signatures.jsonl", signatures)


def rotation_signed_by_new_key(out: Path) -> None:
    """The rotation entry signed by the incoming key instead of the outgoing one."""
    _copy_vectors(out)
    signatures = _lines("signatures.jsonl")
    signatures[6] = _signature_line(6, _lines("entries.jsonl")[6][:-1], NEW_KEY)
    _write_lines(out, "signatures.jsonl", signatures)


def stale_checkpoint(out: Path) -> None:
    """All ten entries served with the genuine checkpoint of size 9."""
    _copy_vectors(out)
    shutil.copyfile(VECTORS / "checkpoints" / "9", out / "checkpoint")


def checkpoint_signed_by_retired_key(out: Path) -> None:
    """The right checkpoint text, signed by the key retired at entry 6."""
    _copy_vectors(out)
    entries = _lines("entries.jsonl")
    tree = root([leaf_hash(line[:-1]) for line in entries])
    note = sign_checkpoint(_entry(entries[0])["origin"], len(entries), tree, [OLD_KEY])
    (out / "checkpoint").write_text(note, encoding="utf-8")


# -- with the key ----------------------------------------------------------------------------


def ts_backwards(out: Path) -> None:
    """Entry 8 dated one microsecond before entry 7, then re-signed."""
    entries = _vector_entries()
    entries[8]["ts"] = "2026-11-22T09:14:59.999999Z"
    _resigned(out, entries)


def broken_chain(out: Path) -> None:
    """Entry 4's `before` no longer equals entry 1's `after`, then re-signed."""
    entries = _vector_entries()
    entries[4]["before"]["dpf"] = False
    _resigned(out, entries)


def changed_origin(out: Path) -> None:
    """Entry 2 moved to another ledger's origin, then re-signed."""
    entries = _vector_entries()
    entries[2]["origin"] = "ropa.local/00000000-0000-4000-8000-000000000000"
    _resigned(out, entries)


def rewritten_history(out: Path) -> None:
    """Entry 4 rewritten and the whole ledger re-signed by the key holder.

    It verifies on its own; the auditor's kept checkpoint of the original ledger
    (`kept-checkpoint`) exposes the rewrite.
    """
    entries = _vector_entries()
    entries[4]["after"]["dpaReference"] = "DPA-HS-2026-99"
    for later in entries[5:]:
        if later["entity"]["id"] == entries[4]["entity"]["id"]:
            later["before"] = entries[4]["after"]
    _resigned(out, entries)
    shutil.copyfile(VECTORS / "checkpoints" / "10", out / "kept-checkpoint")


CASES: dict[str, Case] = {
    "edited-entry": edited_entry,
    "edited-entry-rehashed": edited_entry_rehashed,
    "deleted-entry": deleted_entry,
    "swapped-entries": swapped_entries,
    "truncated-tail": truncated_tail,
    "forged-signature": forged_signature,
    "bit-flipped-signature": bit_flipped_signature,
    "unknown-key-id": unknown_key_id,
    "edited-state": edited_state,
    "non-canonical-line": non_canonical_line,
    "retired-key": retired_key,
    "rotation-signed-by-new-key": rotation_signed_by_new_key,
    "stale-checkpoint": stale_checkpoint,
    "checkpoint-signed-by-retired-key": checkpoint_signed_by_retired_key,
    "ts-backwards": ts_backwards,
    "broken-chain": broken_chain,
    "changed-origin": changed_origin,
    "rewritten-history": rewritten_history,
}


def _readme() -> str:
    rows = "".join(
        f"| `{name}` | {' '.join((make.__doc__ or '').split())} |\n" for name, make in CASES.items()
    )
    return (
        "# Tampered ledger bundles\n\n"
        "Made from `../ledger-vectors/` by `../make_tampered.py`; do not edit by hand.\n"
        "Each directory is an export bundle (LEDGER-SPEC §7) with one defect.\n"
        "`tests/ledger/test_tampered.py` states the check and seq each must fail with.\n\n"
        "| case | what was done |\n|---|---|\n" + rows
    )


def main(out_root: Path) -> None:
    out_root.mkdir(parents=True, exist_ok=True)
    for name in CASES:  # only what this script made before
        shutil.rmtree(out_root / name, ignore_errors=True)
    for name, make in CASES.items():
        make(out_root / name)
    (out_root / "README.md").write_text(_readme())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS / "tampered")
