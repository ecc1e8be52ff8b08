"""A real `ropa witness serve` process on loopback, and a log runtime that uses it."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bench.harness import ROPA, free_port
from ropa.config import WitnessEndpoint
from ropa.ledger.checkpoint import checkpoint_text
from ropa.ledger.cosignature import CosigningKey
from ropa.ledger.keys import SigningKey
from ropa.ledger.note import sign_note
from ropa.ledger.witness_protocol import format_add_checkpoint
from ropa.services.runtime import Runtime
from ropa.services.witnessing import Witnessing
from ropa.store import witness_state
from ropa.store.database import Database
from ropa.store.witness_state import LogState


@dataclass
class WitnessProcess:
    """`ropa witness serve` with its own key and database; restartable on the same state."""

    root: Path
    database_url: str
    logs: list[str]
    key: CosigningKey = field(default_factory=lambda: CosigningKey.generate("auditor.test/w1"))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.key_file = self.root / f"{self.key.verifier.key_id_hex}.key"
        if not self.key_file.exists():
            self.key.write_to_file(self.key_file)
        self.log = self.root / f"witness-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> WitnessEndpoint:
        return WitnessEndpoint(self.key.verifier_key, self.url)

    def start(self, timeout: float = 60.0) -> WitnessProcess:
        logs_file = self.root / f"logs-{self.port}.txt"
        logs_file.write_text("# origin verifier-key\n" + "".join(f"{x}\n" for x in self.logs))
        command = [
            str(ROPA), "witness", "serve", "--key-file", str(self.key_file),
            "--database", self.database_url, "--logs-file", str(logs_file),
            "--port", str(self.port),
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"witness exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"witness did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def post(self, body: bytes) -> httpx.Response:
        return httpx.post(f"{self.url}/add-checkpoint", content=body, timeout=10)

    def state(self, origin: str) -> LogState | None:
        db = Database(self.database_url)
        try:
            return witness_state.current(db, origin)
        finally:
            db.dispose()


def log_line(origin: str, key: SigningKey) -> str:
    return f"{origin} {key.verifier_key}"


def signed(origin: str, size: int, root: bytes, key: SigningKey, extensions: str = "") -> str:
    return sign_note(checkpoint_text(origin, size, root) + extensions, [key])


def add_body(old: int, proof: list[bytes], note: str) -> bytes:
    return format_add_checkpoint(old, proof, note)


_JOBS: list[Witnessing] = []


def witnessing(rt: Runtime, *witnesses: WitnessEndpoint, timeout: float = 5.0) -> Witnessing:
    """The real job, configured for these witnesses; closed when the test ends."""
    settings = dataclasses.replace(
        rt.settings, witnesses=tuple(witnesses), witness_interval=0.2, witness_timeout=timeout
    )
    job = Witnessing(Runtime(settings, db=rt.db))
    _JOBS.append(job)
    return job


@pytest.fixture(autouse=True)
def _close_jobs() -> Iterator[None]:
    yield
    while _JOBS:
        _JOBS.pop().close()


@pytest.fixture
def witness_factory(tmp_path: Path) -> Iterator[list[WitnessProcess]]:
    made: list[WitnessProcess] = []
    yield made
    for w in made:
        w.stop()


def make_witness(
    made: list[WitnessProcess],
    root: Path,
    logs: list[str],
    database_url: str | None = None,
    name: str = "auditor.test/w1",
) -> WitnessProcess:
    root.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{root / f'witness-{len(made)}.db'}"
    witness = WitnessProcess(root, url, logs, key=CosigningKey.generate(name))
    made.append(witness)
    return witness.start()
