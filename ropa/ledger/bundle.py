"""Writing the export bundle of LEDGER-SPEC §7.

A bundle is a directory:

    entries.jsonl     line N = canonical(entry N) + "\\n"
    signatures.jsonl  line N = JCS {"seq", "leafHash", "signature", "keyId"} + "\\n"
    checkpoint        the latest signed checkpoint note
    keys.txt          every verifier key used, in order of use, one a line
    state.json        JCS of {"<type>": {"<id>": <state>}}, types without records left out
    checkpoints/<size>          (v1.1, §9) every checkpoint with a timestamp or a witness
                                cosignature, with all its signature lines
    anchors/<size>.<tsa>.tsr    (v1.1, §9) a TSA's DER TimeStampResp for that checkpoint

`BundleWriter` streams entries to a hidden temporary directory next to the target and
renames it into place only once everything is written and synced, so a failed export
leaves nothing that looks like a bundle. The directory is created private (0700): the
state holds personal data such as DPO contacts.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from ropa.ledger.canonical import canonical
from ropa.ledger.checkpoint import parse_checkpoint
from ropa.ledger.entry import SignedEntry, entry_line, signature_line
from ropa.ledger.keys import Verifier
from ropa.ledger.merkle import append_nodes, root_from_frontier
from ropa.ledger.note import parse_note

__all__ = [
    "ANCHORS",
    "CHECKPOINT",
    "CHECKPOINTS",
    "ENTRIES",
    "KEYS",
    "SIGNATURES",
    "STATE",
    "BundleWriter",
]

ENTRIES = "entries.jsonl"
SIGNATURES = "signatures.jsonl"
CHECKPOINT = "checkpoint"
KEYS = "keys.txt"
STATE = "state.json"
CHECKPOINTS = "checkpoints"
ANCHORS = "anchors"
_TSA_NAME = re.compile(r"[A-Za-z0-9.-]{1,64}", re.ASCII)


def anchor_file(size: int, tsa: str) -> str:
    """`<size>.<tsa>.tsr`, the name of a TSA's token for the checkpoint of `size` (§9)."""
    if size < 0 or not _TSA_NAME.fullmatch(tsa):
        raise ValueError(f"not a tree size and TSA name: {size}, {tsa!r}")
    return f"{size}.{tsa}.tsr"


class BundleWriter:
    """Streams a bundle into `out_dir`, which must not exist yet.

        with BundleWriter(out) as bundle:
            for signed in entries:
                bundle.add(signed)
            bundle.finish(checkpoint_note, verifier_keys, state)

    Leaving the block without `finish` (or with an exception) removes the partial output.
    """

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        if self.out_dir.exists():
            raise FileExistsError(f"{self.out_dir} already exists; export into a new directory")
        parent = self.out_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.", dir=parent))
        self._entries: BinaryIO = open(self._tmp / ENTRIES, "xb")  # noqa: SIM115
        self._signatures: BinaryIO = open(self._tmp / SIGNATURES, "xb")  # noqa: SIM115
        self._size = 0
        self._frontier: list[bytes] = []
        self._done = False

    @property
    def size(self) -> int:
        return self._size

    def add(self, signed: SignedEntry) -> None:
        """Append the next entry; entries come in seq order from 0."""
        if self._done:
            raise RuntimeError("the bundle is already finished")
        if signed.seq != self._size:
            raise ValueError(f"expected entry {self._size}, got entry {signed.seq}")
        self._entries.write(entry_line(signed))
        self._signatures.write(signature_line(signed))
        self._frontier, _ = append_nodes(self._size, signed.leaf_hash, self._frontier)
        self._size += 1

    def add_checkpoint(self, size: int, note: str) -> None:
        """`checkpoints/<size>`: an anchored (timestamped or cosigned) checkpoint note."""
        if self._done:
            raise RuntimeError("the bundle is already finished")
        text, _ = parse_note(note)
        if parse_checkpoint(text).size != size:
            raise ValueError(f"the checkpoint given for size {size} is of another size")
        (self._tmp / CHECKPOINTS).mkdir(exist_ok=True)
        self._write(f"{CHECKPOINTS}/{size}", note.encode())

    def add_anchor(self, size: int, tsa: str, token: bytes) -> None:
        """`anchors/<size>.<tsa>.tsr`: a TSA's DER TimeStampResp, as received."""
        if self._done:
            raise RuntimeError("the bundle is already finished")
        (self._tmp / ANCHORS).mkdir(exist_ok=True)
        self._write(f"{ANCHORS}/{anchor_file(size, tsa)}", token)

    def finish(
        self,
        checkpoint_note: str,
        verifier_keys_in_order: Sequence[str],
        state: Mapping[str, Mapping[str, Any]],
        *,
        as_stored: bool = False,
    ) -> Path:
        """Write the remaining files and move the bundle into place; returns its path.

        Refuses a checkpoint whose size or root differs from the entries written: an
        export that its own verifier would reject is a bug, better found here. With
        `as_stored`, writes what the database holds all the same: an export of a
        tampered ledger is what an auditor needs, to have the verifier name the fault.
        """
        if self._done:
            raise RuntimeError("the bundle is already finished")
        text, _ = parse_note(checkpoint_note)
        checkpoint = parse_checkpoint(text)
        if not as_stored and checkpoint.size != self._size:
            raise ValueError(f"checkpoint size {checkpoint.size} but {self._size} entries")
        if not as_stored and checkpoint.root != root_from_frontier(self._size, self._frontier):
            raise ValueError("checkpoint root differs from the root of the entries written")
        keys = [Verifier.parse(k).verifier_key for k in verifier_keys_in_order]
        if not keys:
            raise ValueError("a bundle names at least the key that signed its checkpoint")
        state_bytes = canonical({t: dict(records) for t, records in state.items() if records})

        for handle in (self._entries, self._signatures):
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        self._write(CHECKPOINT, checkpoint_note.encode())
        self._write(KEYS, "".join(k + "\n" for k in keys).encode())
        self._write(STATE, state_bytes)
        for sub in (CHECKPOINTS, ANCHORS):
            if (self._tmp / sub).is_dir():
                _fsync_dir(self._tmp / sub)
        _fsync_dir(self._tmp)
        os.rename(self._tmp, self.out_dir)
        _fsync_dir(self.out_dir.parent)
        self._done = True
        return self.out_dir

    def _write(self, name: str, data: bytes) -> None:
        with open(self._tmp / name, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def abort(self) -> None:
        """Discard the partial bundle (nothing is left at `out_dir`)."""
        if self._done:
            return
        self._entries.close()
        self._signatures.close()
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._done = True

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
