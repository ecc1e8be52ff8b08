"""GraphiQL in a real browser, with no network: headless Debian Chromium opens the IDE on
the running service, runs a query with a token, and shows the result.

Chromium is driven over the Chrome DevTools Protocol. Every host name but the loopback
address resolves to nothing (`--host-resolver-rules`), background networking is off, and
every request the page makes is recorded: all of them go to the service itself. Without
Chromium (`apt-get install chromium`) the test is skipped, except under CI=true.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.http.conftest import Running, required_in_ci

pytestmark = pytest.mark.slow

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-first-run",
    "--no-default-browser-check", "--metrics-recording-only", "--mute-audio",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
QUERY = '{ organization(slug: "acme") { name slug ledger { size } } }'


class DevTools:
    """A minimal Chrome DevTools Protocol client on one page."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, seconds: float = 60) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {expression}")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[str]:
    """A headless Chromium; yields its DevTools HTTP address."""
    found = next((p for p in map(shutil.which, CHROMIUM) if p), None)
    if found is None:
        required_in_ci("chromium")
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [str(found), *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "chromium did not start"
            assert process.poll() is None, "chromium exited"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_graphiql_runs_a_query_with_a_token_in_headless_chromium_offline(
    running: Running, browser: str
) -> None:
    page = next(t for t in httpx.get(f"{browser}/json/list").json() if t["type"] == "page")
    headers = json.dumps({"Authorization": f"Bearer {running.token}"})
    url = f"{running.server.url}?q={quote(QUERY)}&headers={quote(headers)}"
    with connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
        tools = DevTools(ws)
        tools.call("Network.enable")
        tools.call("Page.enable")
        tools.call("Page.navigate", url=url)
        tools.wait_for("!!document.querySelector('.graphiql-execute-button')")
        tools.evaluate("document.querySelector('.graphiql-execute-button').click()")
        shown = tools.wait_for(
            "(() => { const r = document.querySelector('.graphiql-response');"
            " return r && r.innerText.includes('ledger') ? r.innerText : null; })()"
        )
        tools.evaluate("1")  # drain the events that arrived meanwhile

    assert '"name": "Acme"' in shown
    assert '"slug": "acme"' in shown
    assert "errors" not in shown
    requested = {
        e["params"]["request"]["url"] for e in tools.events
        if e.get("method") == "Network.requestWillBeSent"
    }
    assert requested, "no request was recorded"
    outside = sorted(u for u in requested
                     if not u.startswith((running.server.base, "data:", "about:")))
    assert not outside, f"the page reached outside the service: {outside}"
