"""A deployment on this machine for load, concurrency and crash runs: a migrated database,
a signing key, organisations with tokens, `ropa serve` processes on loopback ports, and
the ledger check that ends every run.

The check (`Deployment.verify`) is what an auditor would run, per organisation: export
the bundle, verify it (signatures, Merkle root, checkpoint, and a replay equal to the live
database, LEDGER-SPEC §7), then against the database: seqs 0..size-1 with no gap, every
stored checkpoint's root equal to the root of the entries below it (no fork), and every
receipt a client was given present with its leaf hash.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from ropa.config import Settings
from ropa.ledger import merkle
from ropa.ledger.checkpoint import open_checkpoint
from ropa.ledger.keys import SigningKey, Verifier
from ropa.ledger.verify import verify_bundle
from ropa.services import organizations, tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.ledger_export import live_state, write_bundle
from ropa.services.reads import View
from ropa.services.runtime import Runtime
from ropa.store.migrate import upgrade

ROPA = Path(sys.executable).parent / "ropa"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One `ropa serve` process on a loopback port; its output goes to a log file."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/graphql"

    def start(self, timeout: float = 90.0) -> Server:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603  (our own entry point)
                [str(ROPA), "serve", "--port", str(self.port)], env=self.env,
                stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.wait()

    def stop(self) -> int | None:
        self.signal(signal.SIGTERM)
        return self.wait()

    def wait(self, timeout: float = 40.0) -> int | None:
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@dataclass
class Deployment:
    root: Path
    database_url: str
    key: SigningKey
    key_file: Path
    rt: Runtime
    orgs: dict[str, str] = field(default_factory=dict)  # slug -> org id

    @classmethod
    def create(cls, root: Path, database_url: str | None = None, *, migrate: bool = True,
               key: SigningKey | None = None) -> Deployment:
        root.mkdir(parents=True, exist_ok=True)
        url = database_url or f"sqlite:///{root / 'ropa.db'}"
        key = key or SigningKey.generate("ropa.load-1")
        key_file = root / "signing.key"
        if not key_file.exists():
            key.write_to_file(key_file)
        rt = Runtime(Settings(database_url=url, key_file=key_file))
        if migrate:
            upgrade(rt.db)
        return cls(root, url, key, key_file, rt)

    def make_org(self, slug: str, role: str = "DPO") -> str:
        """A new organisation; returns a token secret of `role` for it."""
        change = organizations.create_organization(self.rt, SYSTEM_PRINCIPAL, {
            "slug": slug, "name": slug.title(), "roles": ["CONTROLLER"], "country": "DE",
        })
        assert change.state is not None
        self.orgs[slug] = change.state["id"]
        return tokens.create_token(
            self.rt, SYSTEM_PRINCIPAL, change.state["id"], role, f"load {role}"
        ).secret

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROPA_")}
        env.update({
            "ROPA_DATABASE_URL": self.database_url,
            "ROPA_SIGNING_KEY_FILE": str(self.key_file),
            "ROPA_RATE_LIMIT": "0",  # the load comes from one token per organisation
        })
        env.update(extra)
        return env

    def server(self, **extra_env: str) -> Server:
        return Server(self.env(**extra_env), self.root / f"server-{len(os.listdir(self.root))}.log")

    @contextmanager
    def serve(self, count: int = 1) -> Iterator[str]:
        """`count` servers on one database; yields the first one's URL."""
        servers = [self.server().start() for _ in range(count)]
        try:
            yield servers[0].url
        finally:
            for s in servers:
                s.stop()

    def verify(self, acknowledged: Iterable[tuple[str, int, str]] = ()) -> dict[str, Any]:
        """Check every organisation's ledger; raise on the first failure; return the sizes."""
        wanted: dict[str, dict[int, str]] = {}
        for slug, seq, leaf in acknowledged:
            wanted.setdefault(slug, {})[seq] = leaf
        out: dict[str, Any] = {}
        for slug, org_id in self.orgs.items():
            out[slug] = self._verify_org(slug, org_id, wanted.get(slug, {}))
        return out

    def _verify_org(self, slug: str, org_id: str, wanted: dict[int, str]) -> dict[str, Any]:
        db = self.rt.db
        with db.read() as conn:
            size = conn.execute(
                text("SELECT size FROM ledger_head WHERE org_id = :o"), {"o": org_id}
            ).scalar_one()
            leaves = conn.execute(
                text("SELECT seq, leaf_hash FROM ledger_entry WHERE org_id = :o ORDER BY seq"),
                {"o": org_id},
            ).all()
            notes = conn.execute(
                text("SELECT size, note FROM ledger_checkpoint WHERE org_id = :o ORDER BY size"),
                {"o": org_id},
            ).all()
        view = View(org_id, size)
        out = Path(tempfile.mkdtemp(prefix=f"bundle-{slug}-", dir=self.root)) / "bundle"
        bundle = write_bundle(db, view, out)
        with db.read() as conn:
            live = live_state(conn, view)
        verify_bundle(bundle, self.key.verifier_key, live_state=live, workers=1)
        seqs = [seq for seq, _ in leaves]
        assert seqs == list(range(size)), f"{slug}: the ledger has a gap or extra entries"
        hashes = [bytes(h) for _, h in leaves]
        roots = _roots(hashes)
        verifier = Verifier.parse(self.key.verifier_key)
        for cp_size, note in notes:
            signed = open_checkpoint(note, [verifier])
            assert signed.size == cp_size, f"{slug}: checkpoint stored under the wrong size"
            assert signed.root == roots[cp_size], f"{slug}: checkpoint {cp_size} forks"
        missing = [s for s, h in wanted.items() if s >= size or hashes[s].hex() != h]
        assert not missing, f"{slug}: acknowledged entries missing from the ledger: {missing[:5]}"
        return {"size": size, "checkpoints": len(notes), "acknowledged": len(wanted),
                "found": len(wanted) - len(missing)}

    def close(self) -> None:
        self.rt.db.dispose()


def _roots(hashes: list[bytes]) -> list[bytes]:
    """The root of every prefix of the tree, from size 0 to len(hashes)."""
    frontier: list[bytes] = []
    roots = [merkle.root_from_frontier(0, frontier)]
    for size, leaf in enumerate(hashes):
        frontier, _ = merkle.append_nodes(size, leaf, frontier)
        roots.append(merkle.root_from_frontier(size + 1, frontier))
    return roots
