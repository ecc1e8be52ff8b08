"""`ropa serve --demo` (what `./scripts/demo` runs) as a newcomer meets it: a real process
in a folder of its own, its output read line by line as it comes."""

from __future__ import annotations

import os
import queue
import re
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bench.harness import free_port

ROPA = Path(sys.executable).parent / "ropa"
LAST_LINE = "Stop with Ctrl-C."


@dataclass
class Demo:
    lines: list[str]
    url: str
    token: str
    process: subprocess.Popen[str]
    reader: threading.Thread


def demo_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROPA_")}
    env["HOME"] = str(folder)
    return env


def start(folder: Path, port: int) -> Demo:
    """Start the demo; return once it printed its last line (it is serving by then)."""
    process = subprocess.Popen(
        [str(ROPA), "serve", "--demo", "--port", str(port)],
        cwd=folder,
        env=demo_env(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    said: list[str] = []
    try:
        while True:
            line = lines.get(timeout=300)
            assert line is not None, f"the demo exited: {said}"
            said.append(line)
            if line == LAST_LINE:
                break
    except BaseException:
        process.kill()
        process.wait()
        raise
    link = next(line for line in said if "#token=" in line)
    url, token = re.search(r"(http://\S+)#token=(\S+)", link).groups()  # type: ignore[union-attr]
    return Demo(said, url, token, process, reader)


def stop(demo: Demo) -> None:
    demo.process.terminate()
    try:
        demo.process.wait(40)
    except subprocess.TimeoutExpired:
        demo.process.kill()
        demo.process.wait()
    demo.reader.join(10)
    if demo.process.stdout is not None:
        demo.process.stdout.close()


def ask(demo: Demo, query: str) -> httpx.Response:
    return httpx.post(
        demo.url,
        json={"query": query},
        headers={"Authorization": f"Bearer {demo.token}"},
        timeout=30,
    )


def demo_tokens(folder: Path) -> list[tuple[str, str]]:
    """(id, status) of qualer's tokens named `demo`, from `ropa token list`."""
    done = subprocess.run(
        [str(ROPA), "token", "list", "--org", "qualer"],
        cwd=folder,
        env=demo_env(folder),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = [line.split() for line in done.stdout.splitlines()]
    return [(row[0], row[2]) for row in rows if row[3] == "demo"]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_the_demo_prints_a_working_link_once_serving_and_reuses_its_token(
    tmp_path: Path,
) -> None:
    port = free_port()
    first = start(tmp_path, port)
    try:
        # printed only once serving: answered at once, without a retry
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        answer = ask(first, '{ organization(slug: "qualer") { name } }')
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    finally:
        stop(first)
    out = "\n".join(first.lines)
    assert f"ropa demo is serving http://127.0.0.1:{port}/graphql" in out
    assert f"Open GraphiQL as qualer's DPO: http://127.0.0.1:{port}/graphql#token=" in out
    assert "Anchors (trusted timestamps, witnesses) are not configured in the demo" in out
    assert "unanchored" in out
    expires = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    assert f"valid until {expires}" in out
    kept = tmp_path / ".ropa" / "demo-token"
    assert kept.read_text().strip() == first.token
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    second = start(tmp_path, port)  # a second start: the same token, no new one
    stop(second)
    assert second.token == first.token
    assert [status for _, status in demo_tokens(tmp_path)] == ["active"]

    kept.write_text("ropa_not-a-token\n")  # a kept secret that no longer works
    third = start(tmp_path, port)
    stop(third)
    assert third.token != first.token
    statuses = sorted(status for _, status in demo_tokens(tmp_path))
    assert statuses == ["active", "revoked"]  # the older demo token is revoked


def test_the_demo_on_a_busy_port_says_so_in_one_line_and_makes_nothing(
    tmp_path: Path, busy_port: int
) -> None:
    done = subprocess.run(
        [str(ROPA), "serve", "--demo", "--port", str(busy_port)],
        cwd=tmp_path,
        env=demo_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr == (
        f"error: port {busy_port} is in use: stop the other process or pass --port N\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database, key or token
