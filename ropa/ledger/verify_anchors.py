"""Offline verification of a bundle's anchors: the checks of LEDGER-SPEC §9.

`verify.verify_bundle` replays the entries; this module reads the bundle's
`checkpoints/<size>` and `anchors/<size>.<tsa>.tsr` first, is told each entry's `ts` and
each anchored size's recomputed root during the replay, and then runs its checks,
numbered after verify.py's:

    (13) every timestamped checkpoint is of this ledger (origin), within it (size), its root
         is the root recomputed from the entries at that size, and it is signed by the
         key then in force (either key of a rotation's bridged checkpoint, spec §5 v1.1)
    (14) every token's imprint is SHA-256 of that checkpoint's body (RFC 3161 §2.4.2)
    (15) every token is granted and its signature chains to a trusted TSA root
    (16) with a maximum lag: every anchored entry's `ts` lies within it of the genTime of
         the first anchor covering it (a backdated entry, or a stalled anchorer, fails)

Witness cosignatures (C2SP tlog-cosignature) are checked beside (14)-(15) as further
numbered checks over the same `checkpoints/<size>` files.

An entry `seq` is covered by every anchor of a size above `seq`; its lag is the genTime of
the earliest such anchor minus its `ts`. Memory holds one float per anchored entry.
"""

from __future__ import annotations

import re
import statistics
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import cryptography.x509

from ropa.errors import TimestampError, VerificationError
from ropa.ledger import bundle as files
from ropa.ledger import timestamp
from ropa.ledger.canonical import parse_ts
from ropa.ledger.checkpoint import Checkpoint, parse_checkpoint
from ropa.ledger.keys import Verifier
from ropa.ledger.note import parse_note, verify_note

__all__ = [
    "ANCHOR_CHECKPOINT",
    "ANCHOR_IMPRINT",
    "ANCHOR_LAG",
    "ANCHOR_ORIGIN",
    "ANCHOR_ROOT",
    "ANCHOR_SIGNATURE",
    "AnchorChecks",
    "AnchorReport",
]

# the `check` a VerificationError names (verify.Check lists them too)
ANCHOR_CHECKPOINT = "anchored checkpoint"
ANCHOR_ORIGIN = "anchor origin"
ANCHOR_ROOT = "anchored root"
ANCHOR_IMPRINT = "anchor imprint"
ANCHOR_SIGNATURE = "anchor signature"
ANCHOR_LAG = "anchor lag"
K = TypeVar("K")

_TOKEN_FILE = re.compile(r"(0|[1-9][0-9]*)\.([A-Za-z0-9.-]{1,64})\.tsr", re.ASCII)
MAX_FILE = 1024 * 1024


@dataclass(frozen=True)
class AnchorReport:
    """What the anchors prove about the entries' `ts` (seconds: genTime minus ts)."""

    tokens: int
    sizes: tuple[int, ...]
    tsas: tuple[str, ...]
    trusted: bool  # the tokens' signatures were checked against given roots
    entries_anchored: int
    entries_unanchored: int
    max_lag_seconds: float | None
    median_lag_seconds: float | None
    max_lag_seq: int | None

    def lines(self) -> list[str]:
        if not self.tokens:
            return ["anchors: none in the bundle"]
        how = "verified" if self.trusted else "NOT verified (no --tsa-cert)"
        out = [
            f"anchors: {self.tokens} tokens from {', '.join(self.tsas)} over "
            f"{len(self.sizes)} checkpoints, signatures {how}",
            f"anchors: {self.entries_anchored} entries anchored, "
            f"{self.entries_unanchored} after the last anchor",
        ]
        if self.max_lag_seconds is not None and self.median_lag_seconds is not None:
            out.append(
                f"anchors: ts to first genTime: median {self.median_lag_seconds:.1f}s, "
                f"max {self.max_lag_seconds:.1f}s (entry {self.max_lag_seq})"
            )
        return out


@dataclass
class _Token:
    size: int
    tsa: str
    der: bytes
    gen_time: datetime | None  # None: not a readable TimeStampResp (check 15 says so)


class AnchorChecks:
    """The anchors of one bundle, checked against the replay that `verify_bundle` runs."""

    def __init__(
        self,
        bundle: Path,
        trusted: Sequence[cryptography.x509.Certificate] | None,
        max_lag: float | None,
    ) -> None:
        self.trusted = list(trusted) if trusted else None
        self.max_lag = max_lag
        self.tokens: list[_Token] = []
        for (size, tsa), der in _read_dir(bundle / files.ANCHORS, _token_name).items():
            try:
                gen_time: datetime | None = timestamp.token_gen_time(der)
            except TimestampError:
                gen_time = None
            self.tokens.append(_Token(size, tsa, der, gen_time))
        self.tokens.sort(key=lambda t: (t.size, t.tsa))
        # the checkpoints the tokens stamp; one with only cosignatures is verify_witness's
        stamped = {t.size for t in self.tokens}
        self.notes: dict[int, bytes] = {
            size: note
            for size, note in _read_dir(
                bundle / files.CHECKPOINTS, _checkpoint_size, strict=False
            ).items()
            if size in stamped
        }
        self.roots: dict[int, bytes] = {}
        self.keys: dict[int, list[Verifier]] = {}
        # the first genTime covering seq: anchors by size, each taking the earliest genTime
        # of itself and every larger size (suffix minimum)
        dated = sorted((t.size, t.gen_time) for t in self.tokens if t.gen_time is not None)
        self._cover: list[tuple[int, datetime]] = []
        earliest: datetime | None = None
        for size, gen_time in reversed(dated):
            earliest = gen_time if earliest is None or gen_time < earliest else earliest
            self._cover.append((size, earliest))
        self._cover.reverse()
        self._next = 0
        self.lags = array("d")
        self.max_lag_seq: int | None = None
        self._max_lag: float | None = None
        self._first_late: tuple[int, float] | None = None

    @property
    def wanted_sizes(self) -> set[int]:
        """The tree sizes whose recomputed root the replay must hand over."""
        return set(self.notes) | {t.size for t in self.tokens}

    def capture(self, size: int, root: bytes, keys: list[Verifier]) -> None:
        self.roots[size] = root
        self.keys[size] = keys

    def entry(self, seq: int, ts: str) -> None:
        """Account entry `seq`, whose ts passed verify.py's check (6)."""
        while self._next < len(self._cover) and self._cover[self._next][0] <= seq:
            self._next += 1
        if self._next == len(self._cover):
            return
        lag = (self._cover[self._next][1] - parse_ts(ts)).total_seconds()
        if self._max_lag is None or lag > self._max_lag:
            self._max_lag, self.max_lag_seq = lag, seq
        self.lags.append(lag)
        if (
            self.max_lag is not None
            and self._first_late is None
            and (lag > self.max_lag or -lag > self.max_lag)
        ):
            self._first_late = (seq, lag)

    def finish(self, origin: str, size: int) -> AnchorReport:
        """Checks (13)-(16), in file order; the first failure is raised."""
        bodies: dict[int, bytes] = {}
        for cp_size, note in sorted(self.notes.items()):
            bodies[cp_size] = self._check_checkpoint(cp_size, note, origin, size)
        for token in self.tokens:
            name = f"{files.ANCHORS}/{files.anchor_file(token.size, token.tsa)}"
            body = bodies.get(token.size)
            if body is None:
                raise VerificationError(
                    ANCHOR_CHECKPOINT, f"{name} has no {files.CHECKPOINTS}/{token.size}"
                )
            try:
                # (14) imprint then (15) status and chain, in open_token's order
                if self.trusted is not None:
                    timestamp.open_token(token.der, body, self.trusted)
                else:
                    timestamp.check_imprint(token.der, body)
            except TimestampError as err:
                check = ANCHOR_IMPRINT if err.what == "imprint" else ANCHOR_SIGNATURE
                raise VerificationError(check, f"{name}: {err.message}") from None
        # (16) the lag, once every token is known good
        if self._first_late is not None:
            seq, lag = self._first_late
            assert self.max_lag is not None
            direction = "before" if lag > 0 else "after"
            raise VerificationError(
                ANCHOR_LAG,
                f"its ts is {abs(lag):.0f}s {direction} the genTime of its first anchor "
                f"(at most {self.max_lag:g}s allowed): backdated, or anchored late",
                seq,
            )
        anchored = len(self.lags)
        return AnchorReport(
            tokens=len(self.tokens),
            sizes=tuple(sorted({t.size for t in self.tokens})),
            tsas=tuple(sorted({t.tsa for t in self.tokens})),
            trusted=self.trusted is not None,
            entries_anchored=anchored,
            entries_unanchored=size - anchored,
            max_lag_seconds=self._max_lag,
            median_lag_seconds=statistics.median(self.lags) if anchored else None,
            max_lag_seq=self.max_lag_seq,
        )

    def _check_checkpoint(self, cp_size: int, note: bytes, origin: str, size: int) -> bytes:
        # (13) of this ledger, within it, its recomputed root, signed by the key in force
        name = f"{files.CHECKPOINTS}/{cp_size}"
        try:
            text, _ = parse_note(note)
            checkpoint: Checkpoint = parse_checkpoint(text)
        except ValueError as err:
            raise VerificationError(ANCHOR_CHECKPOINT, f"{name}: {err}") from None
        if checkpoint.origin != origin:
            raise VerificationError(
                ANCHOR_ORIGIN, f"{name} is of {checkpoint.origin!r}, not this ledger {origin!r}"
            )
        if checkpoint.size != cp_size or cp_size > size:
            raise VerificationError(
                ANCHOR_CHECKPOINT,
                f"{name} holds size {checkpoint.size}, the ledger {size} entries",
            )
        if checkpoint.root != self.roots.get(cp_size):
            raise VerificationError(
                ANCHOR_ROOT,
                f"{name}'s root is not the root of the first {cp_size} entries: the entries "
                "were rewritten after the checkpoint was anchored",
            )
        try:
            verify_note(note, self.keys[cp_size])
        except (ValueError, VerificationError) as err:
            message = err.message if isinstance(err, VerificationError) else str(err)
            raise VerificationError(ANCHOR_CHECKPOINT, f"{name}: {message}") from None
        return text.encode()


def _checkpoint_size(name: str) -> int | None:
    return int(name) if re.fullmatch(r"0|[1-9][0-9]*", name, re.ASCII) else None


def _token_name(name: str) -> tuple[int, str] | None:
    match = _TOKEN_FILE.fullmatch(name)
    return (int(match[1]), match[2]) if match else None


def _read_dir(
    directory: Path, key: Callable[[str], K | None], *, strict: bool = True
) -> dict[K, bytes]:
    """The files of `directory` by the key their name gives; a name that gives none is
    refused when `strict` (anchors/), else left to the check that reads it (checkpoints/)."""
    if not directory.is_dir():
        return {}
    out: dict[K, bytes] = {}
    for path in sorted(directory.iterdir()):
        found = key(path.name)
        if found is None and not strict:
            continue
        if found is None:
            raise VerificationError(
                "bundle", f"{directory.name}/{path.name} is not a file this format names"
            )
        if path.stat().st_size > MAX_FILE:
            raise VerificationError("bundle", f"{directory.name}/{path.name} is too large")
        out[found] = path.read_bytes()
    return out
