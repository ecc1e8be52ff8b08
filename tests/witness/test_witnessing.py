"""The log side on both databases: the witnessing job sends checkpoints to a real witness
process, keeps its cosignatures, serves them, exports them, and the verifier checks them."""

from __future__ import annotations

import base64
import http.server
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.harness import ROPA, free_port
from ropa.config import WitnessEndpoint
from ropa.ledger.cosignature import CosigningKey, verify_cosignatures
from ropa.ledger.note import parse_note
from ropa.services import ledger_queries, tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.ledger_export import write_bundle
from ropa.services.reads import View
from ropa.services.runtime import Runtime
from ropa.store import ledger_store
from ropa.store.ledger_store import origin_for
from tests.conftest import Org, make_org
from tests.witness.conftest import WitnessProcess, add_body, make_witness, witnessing


def write(rt: Runtime, org: Org, n: int = 1) -> None:
    for i in range(n):
        tokens.create_token(rt, SYSTEM_PRINCIPAL, org.id, "VIEWER", f"reader {i}")


def size_of(rt: Runtime, org: Org) -> int:
    return ledger_queries.head(rt, org.as_role("AUDITOR"), org.id).size


def cosignature_rows(rt: Runtime, org: Org) -> list[tuple[int, str]]:
    with rt.db.read() as conn:
        rows = conn.execute(
            text(
                "SELECT size, witness FROM checkpoint_cosignature WHERE org_id = :o ORDER BY size"
            ),
            {"o": org.id},
        ).all()
    return [(int(s), str(w)) for s, w in rows]


@pytest.fixture
def acme(rt: Runtime) -> Org:
    return make_org(rt, "acme")


@pytest.fixture
def witness(
    rt: Runtime, acme: Org, tmp_path: Path, witness_factory: list[WitnessProcess]
) -> WitnessProcess:
    origin = origin_for(rt.settings.ledger_prefix, acme.id)
    return make_witness(
        witness_factory, tmp_path / "w1", [f"{origin} {rt.signing_key().verifier_key}"]
    )


def export(rt: Runtime, org: Org, out: Path) -> Path:
    return write_bundle(rt.db, View(org.id, size_of(rt, org)), out)


def verify_cli(bundle: Path, key: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROPA), "ledger", "verify", str(bundle), "--key", key, "--workers", "1", *options],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_job_gets_cosignatures_that_are_served_exported_and_verified(
    rt: Runtime, acme: Org, witness: WitnessProcess, tmp_path: Path
) -> None:
    job = witnessing(rt, witness.endpoint)
    first = size_of(rt, acme)
    report = job.run_round()
    assert (report.sent, report.stored, report.failed) == (1, 1, 0)
    assert cosignature_rows(rt, acme) == [(first, "auditor.test/w1")]

    write(rt, acme, 3)  # the head moves: the next round proves consistency from `first`
    assert job.run_round().stored == 1
    size = size_of(rt, acme)
    assert cosignature_rows(rt, acme) == [(first, "auditor.test/w1"), (size, "auditor.test/w1")]
    state = witness.state(origin_for(rt.settings.ledger_prefix, acme.id))
    assert state is not None and state.size == size
    assert job.run_round().sent == 0  # nothing moved, nothing sent

    served = ledger_queries.latest_checkpoint(rt, acme.as_role("VIEWER"), acme.id)
    assert served.count("\u2014 ") == 2  # the log's signature, then the witness's
    assert set(verify_cosignatures(served, [witness.key.verifier])) == {"auditor.test/w1"}
    older = ledger_queries.checkpoint_at(rt, acme.as_role("VIEWER"), acme.id, first)
    assert older is not None and set(verify_cosignatures(older, [witness.key.verifier]))

    bundle = export(rt, acme, tmp_path / "bundle")
    assert sorted(p.name for p in (bundle / "checkpoints").iterdir()) == sorted(
        [str(first), str(size)]
    )
    key = rt.signing_key().verifier_key
    done = verify_cli(bundle, key, "--witness", witness.key.verifier_key, "--quorum", "1")
    assert done.returncode == 0, done.stderr
    assert f"checkpoint {size} cosigned by auditor.test/w1" in done.stdout


def test_checkpoint_at_a_size_no_commit_ended_at_is_null_and_out_of_range_refused(
    rt: Runtime, acme: Org
) -> None:
    size = size_of(rt, acme)
    assert ledger_queries.checkpoint_at(rt, acme.as_role("VIEWER"), acme.id, size) is not None
    with pytest.raises(Exception, match="between 0 and the ledger size"):
        ledger_queries.checkpoint_at(rt, acme.as_role("VIEWER"), acme.id, size + 1)


def test_a_witness_already_ahead_answers_409_and_the_job_resumes_from_its_size(
    rt: Runtime, acme: Org, witness: WitnessProcess
) -> None:
    # a previous run brought the witness to the current size; this database knows nothing
    size = size_of(rt, acme)
    with rt.db.read() as conn:
        head = ledger_store.read_head(conn, acme.id)
    assert head is not None
    assert witness.post(add_body(0, [], head.checkpoint)).status_code == 200
    write(rt, acme, 2)
    report = witnessing(rt, witness.endpoint).run_round()
    assert (report.stored, report.failed) == (1, 0)
    new_size = size_of(rt, acme)
    assert cosignature_rows(rt, acme) == [(new_size, "auditor.test/w1")]
    state = witness.state(origin_for(rt.settings.ledger_prefix, acme.id))
    assert state is not None and state.size == new_size > size


class _Garbage(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        body = b"<html>hello</html>\n"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def garbage_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A socket that accepts connections and never answers: a stalled witness."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_down_slow_or_garbage_witness_stores_nothing_and_writes_go_on(
    rt: Runtime, acme: Org, garbage_url: str, silent_url: str, witness: WitnessProcess
) -> None:
    key = CosigningKey.generate("auditor.test/w1")  # whoever answers, this key is expected
    failures: list[str] = []
    for url in (f"http://127.0.0.1:{free_port()}", garbage_url, silent_url):
        job = witnessing(rt, WitnessEndpoint(key.verifier_key, url), timeout=1.0)
        job.on_failure = failures.append  # what the metric ropa_witness_failures_total counts
        started = time.monotonic()
        report = job.run_round()
        assert (report.stored, report.failed) == (0, 1), url
        assert time.monotonic() - started < 10  # the timeout bounds a stalled witness
        assert job.run_round().sent == 0  # in its pause: not asked again at once
        write(rt, acme)  # writes never wait for a witness
        job.close()
    assert cosignature_rows(rt, acme) == []
    assert failures == ["auditor.test/w1"] * 3
    # later, the real witness answers: everything so far is cosigned at once
    report = witnessing(rt, witness.endpoint).run_round()
    assert (report.stored, report.failed) == (1, 0)
    assert cosignature_rows(rt, acme) == [(size_of(rt, acme), "auditor.test/w1")]


def test_a_cosignature_by_the_wrong_key_is_not_stored(
    rt: Runtime, acme: Org, witness: WitnessProcess
) -> None:
    expected = CosigningKey.generate("auditor.test/w1")  # the log expects another key
    report = witnessing(rt, WitnessEndpoint(expected.verifier_key, witness.url)).run_round()
    assert (report.stored, report.failed) == (0, 1)
    assert cosignature_rows(rt, acme) == []


def test_cosignatures_refuse_update_and_delete(
    rt: Runtime, acme: Org, witness: WitnessProcess
) -> None:
    assert witnessing(rt, witness.endpoint).run_round().stored == 1
    for statement in (
        "UPDATE checkpoint_cosignature SET size = size + 1",
        "DELETE FROM checkpoint_cosignature",
    ):
        with pytest.raises(Exception, match="append-only"), rt.db.engine.begin() as conn:
            conn.execute(text(statement))
    assert len(cosignature_rows(rt, acme)) == 1


# -- the verifier -----------------------------------------------------------------------


@pytest.fixture
def cosigned_bundle(
    rt: Runtime, acme: Org, witness: WitnessProcess, tmp_path: Path
) -> tuple[Path, int, int]:
    job = witnessing(rt, witness.endpoint)
    first = size_of(rt, acme)
    assert job.run_round().stored == 1
    write(rt, acme, 2)
    assert job.run_round().stored == 1
    return export(rt, acme, tmp_path / "bundle"), first, size_of(rt, acme)


def _flip_cosignature(note: str) -> str:
    body, _, lines = note.partition("\n\n")
    out = []
    for line in lines.splitlines(keepends=True):
        if line.startswith("\u2014 auditor.test/w1 "):
            prefix, blob = line.rsplit(" ", 1)
            raw = bytearray(base64.b64decode(blob))
            raw[-1] ^= 1
            line = f"{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
        out.append(line)
    return body + "\n\n" + "".join(out)


def test_verify_fails_on_a_forged_cosignature_naming_witness_and_size(
    rt: Runtime, witness: WitnessProcess, cosigned_bundle: tuple[Path, int, int]
) -> None:
    bundle, first, _ = cosigned_bundle
    path = bundle / "checkpoints" / str(first)
    path.write_text(_flip_cosignature(path.read_text()))
    done = verify_cli(bundle, rt.signing_key().verifier_key, "--witness", witness.key.verifier_key)
    assert done.returncode == 1
    assert "cosignature" in done.stderr and f"tree size {first}" in done.stderr
    assert "auditor.test/w1" in done.stderr


def test_verify_fails_when_the_quorum_is_not_met(
    rt: Runtime, witness: WitnessProcess, cosigned_bundle: tuple[Path, int, int]
) -> None:
    bundle, _, _ = cosigned_bundle
    absent = CosigningKey.generate("regulator.test/w2")
    done = verify_cli(
        bundle, rt.signing_key().verifier_key,
        "--witness", witness.key.verifier_key, "--witness", absent.verifier_key,
        "--quorum", "2",
    )  # fmt: skip
    assert done.returncode == 1
    assert "quorum not met" in done.stderr
    ok = verify_cli(
        bundle, rt.signing_key().verifier_key,
        "--witness", witness.key.verifier_key, "--witness", absent.verifier_key,
        "--quorum", "1",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr


def test_verify_fails_on_a_cosignature_moved_to_another_sizes_checkpoint(
    rt: Runtime, witness: WitnessProcess, cosigned_bundle: tuple[Path, int, int]
) -> None:
    bundle, first, last = cosigned_bundle
    older = (bundle / "checkpoints" / str(first)).read_text()
    newer_path = bundle / "checkpoints" / str(last)
    newer = newer_path.read_text()
    moved = next(ln for ln in parse_note(older)[1] if ln.name == "auditor.test/w1")
    blob = base64.b64encode(moved.key_id + moved.signature).decode()
    log_only = "".join(
        ln for ln in newer.partition("\n\n")[2].splitlines(keepends=True)
        if not ln.startswith("\u2014 auditor.test/w1 ")
    )  # fmt: skip
    newer_path.write_text(
        newer.partition("\n\n")[0] + "\n\n" + log_only + f"\u2014 auditor.test/w1 {blob}\n"
    )
    done = verify_cli(bundle, rt.signing_key().verifier_key, "--witness", witness.key.verifier_key)
    assert done.returncode == 1
    assert f"tree size {last}" in done.stderr and "does not verify" in done.stderr
