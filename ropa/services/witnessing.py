"""Sending the ledgers' checkpoints to witnesses (C2SP tlog-witness; LEDGER-SPEC §9).

A background job of the service (`background`, entered from the app's lifespan) runs a
round at most once per `ROPA_WITNESS_INTERVAL` seconds. A round asks, for every
organisation whose head is past what a configured witness last cosigned, that witness
to `add-checkpoint` the head's checkpoint, with the size it last cosigned (0 at first)
and the RFC 9162 consistency proof from there, read from stored subtree hashes.

- 200: the answer's lines are verified with the witness's key over the checkpoint body;
  those that verify are stored append-only (`checkpoint_cosignature`), the others and
  lines by other keys are dropped;
- 409: the witness names its size; the request is made again from there at once (a
  witness ahead of the ledger, or holding another root at the ledger's own size, is
  logged as a possible fork and left alone);
- anything else (refusal, garbage, timeout, no answer): nothing is stored, and that
  witness is left alone for a growing pause (twice the interval, then 4, 8, up to 16 times).

Writes never wait for any of this: the job runs in a worker thread with short read and
write transactions of its own, and a witness cosigns a checkpoint that already exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from ropa.config import WitnessEndpoint
from ropa.domain.instants import format_instant
from ropa.errors import ConfigurationError
from ropa.ledger.cosignature import CosignerVerifier, parse_cosignature
from ropa.ledger.note import parse_note
from ropa.ledger.witness_protocol import (
    ADD_CHECKPOINT_PATH,
    MAX_BODY,
    SIZE_CONTENT_TYPE,
    format_add_checkpoint,
    parse_cosignature_lines,
    parse_size,
)
from ropa.services.runtime import Runtime
from ropa.store import cosignature_store, ledger_store

log = logging.getLogger("ropa.witnessing")
MAX_PAUSE_FACTOR = 16


@dataclass
class _Witness:
    endpoint: WitnessEndpoint
    verifier: CosignerVerifier
    failures: int = 0
    resume_at: float = 0.0
    told: dict[str, int] = field(default_factory=dict)  # org id -> size named in a 409

    @property
    def name(self) -> str:
        return self.verifier.name


@dataclass
class RoundReport:
    """What one round did: cosignatures stored, and requests that failed."""

    stored: int = 0
    failed: int = 0
    sent: int = 0


class _Failed(Exception):
    pass


class Witnessing:
    """The job's state across rounds: each witness's pause and the sizes it named."""

    def __init__(
        self,
        rt: Runtime,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.rt = rt
        self.on_failure = on_failure  # told the witness's name (a metric counts them)
        self.interval = rt.settings.witness_interval
        self.clock = clock
        self.witnesses: list[_Witness] = []
        for endpoint in rt.settings.witnesses:
            try:
                verifier = CosignerVerifier.parse(endpoint.verifier_key)
            except ValueError as err:
                raise ConfigurationError(f"ROPA_WITNESSES: {err}") from None
            self.witnesses.append(_Witness(endpoint, verifier))
        self.client = client or httpx.Client(
            timeout=rt.settings.witness_timeout, follow_redirects=False
        )

    def close(self) -> None:
        self.client.close()

    def run_round(self) -> RoundReport:
        """Bring every witness not in a pause up to every organisation's head."""
        report = RoundReport()
        now = self.clock()
        ready = [w for w in self.witnesses if w.resume_at <= now]
        if not ready:
            return report
        with self.rt.db.read() as conn:
            pending = cosignature_store.pending(conn, [w.name for w in ready])
        for witness in ready:
            for org_id, size, checkpoint, cosigned in pending:
                if cosigned.get(witness.name, 0) >= size:
                    continue
                report.sent += 1
                try:
                    report.stored += self._send(witness, org_id, size, checkpoint, cosigned)
                except _Failed as failure:
                    report.failed += 1
                    witness.failures += 1
                    factor = min(2**witness.failures, MAX_PAUSE_FACTOR)
                    witness.resume_at = self.clock() + self.interval * factor
                    log.warning("witness %s: %s", witness.name, failure)
                    if self.on_failure is not None:
                        self.on_failure(witness.name)
                    break  # the rest waits for the pause to end
                else:
                    witness.failures = 0
                    witness.resume_at = 0.0
        return report

    def _send(
        self, witness: _Witness, org_id: str, size: int, checkpoint: str, cosigned: dict[str, int]
    ) -> int:
        old = witness.told.get(org_id, cosigned.get(witness.name, 0))
        for _attempt in range(3):
            if old > size:
                log.warning(
                    "witness %s holds size %d of %s, above the ledger's %d: possible fork",
                    witness.name,
                    old,
                    org_id,
                    size,
                )
                return 0
            with self.rt.db.read() as conn:
                proof = (
                    ledger_store.consistency_proof(conn, org_id, old, size)
                    if 0 < old < size
                    else []
                )
            answer = self._post(witness, format_add_checkpoint(old, proof, checkpoint))
            if answer.status_code == 409:
                told = self._size_of(answer)
                if told == old:
                    log.warning(
                        "witness %s holds another root at size %d of %s: possible fork",
                        witness.name,
                        old,
                        org_id,
                    )
                    return 0
                witness.told[org_id] = old = told
                continue
            if answer.status_code != 200:
                raise _Failed(f"answered {answer.status_code} for {org_id} at size {size}")
            stored = self._store(witness, org_id, size, checkpoint, answer.content)
            witness.told.pop(org_id, None)
            return stored
        raise _Failed(f"kept answering 409 for {org_id}")

    def _post(self, witness: _Witness, body: bytes) -> httpx.Response:
        url = witness.endpoint.url + ADD_CHECKPOINT_PATH
        try:
            with self.client.stream("POST", url, content=body) as answer:
                data = b""
                for chunk in answer.iter_bytes():
                    data += chunk
                    if len(data) > MAX_BODY:
                        raise _Failed("answered more than a cosignature's worth of bytes")
                return httpx.Response(answer.status_code, headers=answer.headers, content=data)
        except httpx.HTTPError as err:
            raise _Failed(f"unreachable ({type(err).__name__})") from None

    @staticmethod
    def _size_of(answer: httpx.Response) -> int:
        media = answer.headers.get("content-type", "").split(";")[0].strip()
        if media != SIZE_CONTENT_TYPE:
            raise _Failed(f"a 409 answer is {SIZE_CONTENT_TYPE}, not {media or 'untyped'}")
        try:
            return parse_size(answer.content)
        except ValueError as err:
            raise _Failed(str(err)) from None

    def _store(
        self, witness: _Witness, org_id: str, size: int, checkpoint: str, content: bytes
    ) -> int:
        body, _ = parse_note(checkpoint)
        try:
            lines = parse_cosignature_lines(content)
        except ValueError as err:
            raise _Failed(f"answered no cosignature: {err}") from None
        rows = []
        for line in lines:
            try:
                _, signatures = parse_note(body + "\n" + line)
            except ValueError:
                continue
            cosignature = parse_cosignature(signatures[0])
            if cosignature is None or not witness.verifier.matches(cosignature):
                continue  # another key's line: ignored, as the spec says
            if not witness.verifier.verify(body, cosignature):
                raise _Failed(f"sent a cosignature that does not verify for size {size}")
            rows.append((witness.name, witness.verifier.key_id_hex, cosignature.line()))
        if not rows:
            raise _Failed(f"answered no cosignature by its key for size {size}")
        now = format_instant(datetime.now(UTC))
        return cosignature_store.add(self.rt.db, org_id, size, rows, now)

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.run_round)
            except Exception:  # the job outlives any one failure
                log.exception("witnessing round failed")


@contextlib.asynccontextmanager
async def background(
    rt: Runtime, on_failure: Callable[[str], None] | None = None
) -> AsyncIterator[Witnessing | None]:
    """Run the job while the block runs, if any witness is configured."""
    if not rt.settings.witnesses:
        yield None
        return
    job = Witnessing(rt, on_failure=on_failure)
    task = asyncio.create_task(job.run_forever(), name="ropa-witnessing")
    try:
        yield job
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        job.close()


def serving_line(rt: Runtime) -> str:
    """What `ropa serve` says about witnesses at start, in one line."""
    settings = rt.settings
    if not settings.witnesses:
        return "witnesses: none configured; set ROPA_WITNESSES (docs/witnesses.md)"
    names = ", ".join(w.name for w in settings.witnesses)
    return f"witnesses: sending moved checkpoints to {names} every {settings.witness_interval:g}s"
