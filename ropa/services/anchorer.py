"""The anchorer: stamps every moved checkpoint with each configured TSA (RFC 3161, spec §9).

Every `ROPA_ANCHOR_INTERVAL` it finds, for each TSA, the ledgers whose head moved past
the last size that TSA stamped, sends the latest checkpoint's body in a TimeStampReq
(HTTP POST `application/timestamp-query`, RFC 3161 §3.4) and stores the answer once it
checks out (`timestamp.open_token`): granted, for that body, with the nonce sent, signed
by a certificate that chains to the TSA's configured root. An answer that fails, or no
answer within the timeout, is never stored; that TSA then waits, doubling the wait after
each failure up to a cap, and is tried again.

It runs beside the service (a thread started in the app's lifespan) or in the foreground
(`ropa anchor run`); writes never wait for it. Several processes may run it: on
PostgreSQL one at a time holds an advisory lock for a cycle, and on either database a
second stamp of the same (ledger, size, TSA) is dropped when stored.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import cryptography.x509

from ropa.config import TsaConfig
from ropa.errors import ConfigurationError, TimestampError
from ropa.ledger import timestamp
from ropa.ledger.checkpoint import checkpoint_body
from ropa.services.runtime import Runtime
from ropa.store import anchor_store
from ropa.store.write_path import now_ts

log = logging.getLogger("ropa.anchors")

MAX_RESPONSE = 256 * 1024  # a TimeStampResp is a few kilobytes
BACKOFF_CAP = 900.0  # seconds: a TSA that is down is tried at least every 15 minutes


@dataclass
class _TsaState:
    config: TsaConfig
    trusted: list[cryptography.x509.Certificate]
    failures: int = 0
    next_try: float = 0.0
    last_error: str | None = None


@dataclass
class Cycle:
    """What one pass did: tokens stored, TSA failures, TSAs left waiting (backing off)."""

    stamped: int = 0
    failed: int = 0
    waiting: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    skipped: bool = False  # another process held the anchoring lock

    def line(self) -> str:
        if self.skipped:
            return "anchors: another process is anchoring; skipped"
        parts = [f"anchors: stamped {self.stamped}, failed {self.failed}"]
        parts += [f"{name} backing off" for name in self.waiting]
        parts += [f"{name}: {error}" for name, error in self.errors.items()]
        return "; ".join(parts)


def load_tsas(configs: tuple[TsaConfig, ...]) -> list[_TsaState]:
    states = []
    for config in configs:
        try:
            trusted = timestamp.load_trusted(config.cert_file)
        except (OSError, ValueError) as err:
            raise ConfigurationError(
                f"ROPA_TSA: cannot read the certificate of {config.name} "
                f"({config.cert_file}): {err}"
            ) from None
        states.append(_TsaState(config, trusted))
    return states


def post_query(url: str, der: bytes, timeout: float) -> bytes:
    """POST a TimeStampReq and read the reply within `timeout` seconds in all."""
    if not url.startswith(("http://", "https://")):
        raise OSError(f"not an http(s) URL: {url!r}")
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(  # noqa: S310  (http(s) only, checked above)
        url,
        data=der,
        method="POST",
        headers={
            "Content-Type": timestamp.MEDIA_TYPE_QUERY,
            "Accept": timestamp.MEDIA_TYPE_REPLY,
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  (configured URL)
        if response.status != 200:
            raise OSError(f"HTTP {response.status}")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete answer within {timeout:g}s")
            chunk = response.read(16384)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_RESPONSE:
                raise OSError(f"the answer is over {MAX_RESPONSE} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


class Anchorer:
    """Stamps moved checkpoints; `run_once` is one pass, `run` the loop until stopped."""

    def __init__(
        self,
        rt: Runtime,
        *,
        on_failure: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rt = rt
        self.interval = rt.settings.anchor_interval
        self.timeout = rt.settings.anchor_timeout
        self.tsas = load_tsas(rt.settings.tsas)
        self.on_failure = on_failure
        self.clock = clock
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def backoff(self, failures: int) -> float:
        """Seconds to wait after `failures` failures in a row: doubling, capped."""
        return min(self.interval * 2.0 ** min(failures, 30), max(self.interval, BACKOFF_CAP))

    def run_once(self) -> Cycle:
        cycle = Cycle()
        if not self.tsas:
            return cycle
        with anchor_store.anchoring_turn(self.rt.db) as mine:
            if not mine:
                cycle.skipped = True
                return cycle
            names = [t.config.name for t in self.tsas]
            with self.rt.db.read() as conn:
                moved = anchor_store.moved_heads(conn, names)
            for tsa in self.tsas:
                if self.clock() < tsa.next_try:
                    if any(m.tsa == tsa.config.name for m in moved):
                        cycle.waiting.append(tsa.config.name)
                    continue
                for item in (m for m in moved if m.tsa == tsa.config.name):
                    if self.stop_event.is_set():
                        return cycle
                    if not self._stamp(tsa, item, cycle):
                        break  # this TSA failed: it waits; the others go on
        return cycle

    def _stamp(self, tsa: _TsaState, item: anchor_store.Moved, cycle: Cycle) -> bool:
        name = tsa.config.name
        try:
            body = checkpoint_body(item.checkpoint)
            request = timestamp.stamp_request(body)
            answer = post_query(tsa.config.url, request.der, self.timeout)
            token = timestamp.open_token(answer, body, tsa.trusted, nonce=request.nonce)
        except (OSError, TimestampError, http.client.HTTPException, ValueError) as err:
            tsa.failures += 1
            tsa.next_try = self.clock() + self.backoff(tsa.failures)
            tsa.last_error = _describe(err)
            cycle.failed += 1
            cycle.errors[name] = tsa.last_error
            log.warning(
                "anchoring with %s failed (%d in a row, next try in %.1fs): %s",
                name, tsa.failures, self.backoff(tsa.failures), tsa.last_error,
            )  # fmt: skip
            if self.on_failure is not None:
                self.on_failure(name)
            return False
        anchor = anchor_store.Anchor(item.org_id, item.size, name, token.gen_time_text, token.der)
        if anchor_store.add_anchor(self.rt.db, anchor, now_ts()):
            cycle.stamped += 1
        tsa.failures = 0
        tsa.next_try = 0.0
        tsa.last_error = None
        return True

    def run(self, progress: Callable[[Cycle], None] | None = None) -> None:
        """Pass after pass, `interval` apart, until `stop()`; a pass that fails is logged."""
        while not self.stop_event.is_set():
            try:
                cycle = self.run_once()
            except Exception:
                log.exception("anchoring pass failed")
            else:
                if progress is not None:
                    progress(cycle)
            self.stop_event.wait(self.interval)

    def start(self, on_cycle: Callable[[Cycle], None] | None = None) -> Anchorer:
        """Run in a daemon thread (the service's lifespan starts and stops it)."""
        self.thread = threading.Thread(
            target=self.run, args=(on_cycle,), name="ropa-anchorer", daemon=True
        )
        self.thread.start()
        return self

    def stop(self, wait: float = 5.0) -> None:
        """Stop after the request in flight, if any (bounded by the TSA timeout)."""
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=wait)


def _describe(err: BaseException) -> str:
    if isinstance(err, TimestampError):
        return f"invalid answer ({err.what}): {err.message}"[:300]
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
        return f"unreachable: {err.reason}"[:300]
    if isinstance(err, TimeoutError):
        return f"timed out: {err}"[:300]
    return f"{type(err).__name__}: {err}"[:300]
