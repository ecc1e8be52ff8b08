"""Being a witness: answering C2SP `tlog-witness` add-checkpoint requests (LEDGER-SPEC §9).

`add_checkpoint` takes the request body and returns the cosignature lines, or raises
`WitnessRefusal` with the status the spec names:

    400  malformed request, old size above the checkpoint's, a proof from size 0
    403  no signature by a key the witness trusts for that origin
    404  unknown origin
    409  old size is not the size last cosigned (body: that size, `text/x.tlog.size`),
         or the same size with another root hash (a fork)
    422  the consistency proof does not verify

The log's signature is checked with its configured keys only (other signature lines,
e.g. other witnesses' cosignatures, are ignored). The old size is checked against the
durable state, the proof verified against the root stored with it (RFC 9162, via
ropa.ledger.merkle), and the state advanced by compare-and-swap in the same transaction
(ropa.store.witness_state), before anything is signed. A rollback never passes: an old
size below the state is a 409, an old size above the checkpoint's a 400.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ropa.domain.instants import format_instant
from ropa.errors import ConfigurationError, RopaError, VerificationError
from ropa.ledger.checkpoint import parse_checkpoint_body
from ropa.ledger.cosignature import CosigningKey
from ropa.ledger.keys import Verifier
from ropa.ledger.merkle import verify_consistency
from ropa.ledger.note import parse_note, verify_note
from ropa.ledger.witness_protocol import parse_add_checkpoint
from ropa.store import witness_state
from ropa.store.database import Database
from ropa.store.witness_state import LogState

log = logging.getLogger("ropa.witness")
MAX_SIZE = 2**63 - 1  # what the state's BIGINT holds


class WitnessRefusal(RopaError):
    """An add-checkpoint request the witness will not cosign; `status` is the HTTP status."""

    def __init__(self, status: int, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.size = size  # for 409: the size of the latest cosigned checkpoint


@dataclass(frozen=True)
class WitnessConfig:
    """The witness's key and, per log origin, the log keys it trusts."""

    key: CosigningKey
    logs: Mapping[str, tuple[Verifier, ...]] = field(default_factory=dict)


def parse_logs(lines: Sequence[str]) -> dict[str, tuple[Verifier, ...]]:
    """`<origin> <log verifier key>` per entry (repeat an origin for several keys); blank
    lines and `#` comments are skipped. ConfigurationError names the bad line."""
    logs: dict[str, list[Verifier]] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        origin, _, vkey = line.rpartition(" ")
        origin = origin.strip()
        try:
            if not origin:
                raise ValueError("a log reads `<origin> <verifier key>`")
            verifier = Verifier.parse(vkey)
        except ValueError as err:
            raise ConfigurationError(f"witness logs, line {number}: {err}") from None
        logs.setdefault(origin, []).append(verifier)
    return {origin: tuple(keys) for origin, keys in logs.items()}


def load_logs(path: Path) -> dict[str, tuple[Verifier, ...]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"cannot read the witness logs file {path}: {err}") from None
    return parse_logs(text.splitlines())


def add_checkpoint(
    db: Database,
    config: WitnessConfig,
    body: bytes,
    clock: Callable[[], float] = time.time,
) -> list[str]:
    """Check and cosign; the cosignature lines of the answer (see the module docstring)."""
    try:
        request = parse_add_checkpoint(body)
        text, _signatures = parse_note(request.checkpoint)
        checkpoint, _extensions = parse_checkpoint_body(text)
    except ValueError as err:
        raise WitnessRefusal(400, str(err)) from None
    keys = config.logs.get(checkpoint.origin)
    if keys is None:
        raise WitnessRefusal(404, "unknown log origin")
    try:
        verify_note(request.checkpoint, keys)
    except (VerificationError, ValueError):
        raise WitnessRefusal(403, "no valid signature by a trusted key for this log") from None
    old, size = request.old_size, checkpoint.size
    if size > MAX_SIZE:
        raise WitnessRefusal(400, "a tree size is below 2^63")
    if old > size:
        raise WitnessRefusal(400, f"old size {old} is above the checkpoint size {size}")
    if old == 0 and request.proof:
        raise WitnessRefusal(400, "the consistency proof from size 0 must be empty")
    new = LogState(size, checkpoint.root)
    now = clock()
    with db.write_session() as session, session.begin():
        state = witness_state.read(session, checkpoint.origin, lock=True)
        known = state.size if state else 0
        if old != known:
            raise WitnessRefusal(409, f"the latest cosigned size is {known}", size=known)
        if state is not None and old == size:
            if request.proof:
                raise WitnessRefusal(422, "between equal sizes the proof is empty")
            if state.root != checkpoint.root:
                log.warning("fork: %s at size %d has another root", checkpoint.origin, size)
                raise WitnessRefusal(409, "another root hash at the same size", size=known)
        elif state is not None and old > 0:  # from size 0 every tree is consistent
            try:
                verify_consistency(old, size, request.proof, state.root, checkpoint.root)
            except VerificationError:
                log.warning(
                    "inconsistent: %s from %d to %d: the proof does not verify",
                    checkpoint.origin,
                    old,
                    size,
                )
                raise WitnessRefusal(422, "the consistency proof does not verify") from None
        stamp = format_instant(datetime.fromtimestamp(now, UTC))
        advanced = witness_state.advance(session, checkpoint.origin, state, new, stamp)
    if not advanced:
        # another request moved the state since it was read: answer as if it came first
        moved = witness_state.current(db, checkpoint.origin)
        current = moved.size if moved else 0
        raise WitnessRefusal(409, f"the latest cosigned size is {current}", size=current)
    cosignature = config.key.cosign(text, int(now))
    return [cosignature.line()]
