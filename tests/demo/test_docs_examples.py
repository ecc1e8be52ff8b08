"""Every GraphQL, time-travel and export example in README.md and docs/*.md answers on
the demo.

The examples are read from the Markdown itself, so a new one is covered as soon as it is
written: every GraphQL block and every query posted with `curl -d`, `ropa export ropa`
command lines and other `ropa ...` lines with `--as-of`, and URLs with `asOf=` or of
`/export/`. Each runs against the loaded demo on SQLite and PostgreSQL (as the DPO of the
organisation it names, or of qualer) and must answer without an error and with something
in it (a non-empty list, a count above zero, a receipt), not an empty history.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from ropa.app import create_app
from ropa.cli.main import app
from ropa.demo.loader import DEMO_SLUGS, load_demo
from ropa.services import tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)
TIME_TRAVEL = re.compile(r"\basOf\s*:|\bchanges\s*\(")
URL = re.compile(r"https?://[^\s\"']*(?:[?&]asOf=|/export/)[^\s\"']*")
SLUG = re.compile(r'slug:\s*\\?"([a-z0-9-]+)\\?"')


@dataclass(frozen=True)
class Example:
    doc: str
    kind: str  # graphql | cli | http
    text: str

    def __str__(self) -> str:
        return f"{self.doc}: {self.text[:70]}"


def examples() -> list[Example]:
    found: list[Example] = []
    for doc in DOCS:
        for lang, body in FENCE.findall(doc.read_text(encoding="utf-8")):
            if lang == "graphql":
                found.append(Example(doc.name, "graphql", body))
            if lang not in ("sh", "bash", "console", "shell", ""):
                continue
            for line in body.replace("\\\n", " ").splitlines():
                line = line.strip()
                if line.startswith("ropa export ropa") or (
                    line.startswith("ropa ") and "--as-of" in line
                ):
                    found.append(Example(doc.name, "cli", line))
                found.extend(Example(doc.name, "http", url) for url in URL.findall(line))
                posted = re.search(r"-d\s+'(\{.*\})'", line)
                if posted:
                    query = json.loads(posted.group(1))["query"]
                    found.append(Example(doc.name, "graphql", query))
    return found


EXAMPLES = examples()


def test_the_docs_hold_examples_of_each_kind() -> None:
    kinds = {e.kind for e in EXAMPLES}
    assert kinds == {"graphql", "cli", "http"}, EXAMPLES
    assert any("changes(" in e.text for e in EXAMPLES)


def meaningful(value: Any, key: str = "") -> bool:
    """Something in the answer: a non-empty list, or a count or size above zero."""
    if isinstance(value, dict):
        return any(meaningful(v, k) for k, v in value.items())
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return key in {"totalCount", "size", "treeSize", "seq"} and value > 0
    return False


@pytest.fixture
def demo(rt: Runtime) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ids = load_demo(rt)
    secrets = {
        slug: tokens.create_token(rt, SYSTEM_PRINCIPAL, ids[slug], "DPO", "docs").secret
        for slug in DEMO_SLUGS
    }
    with TestClient(create_app(rt)) as client:
        yield client, secrets


def _graphql(client: TestClient, secrets: dict[str, str], example: Example) -> None:
    slug = SLUG.search(example.text)
    response = client.post(
        "/graphql",
        json={"query": example.text},
        headers={"Authorization": f"Bearer {secrets[slug.group(1) if slug else 'qualer']}"},
    )
    body = response.json()
    assert "errors" not in body, (str(example), body.get("errors"))
    if "organization" in body["data"]:
        assert body["data"]["organization"] is not None, str(example)
    assert meaningful(body["data"]), (str(example), body["data"])


def _cli(rt: Runtime, example: Example, monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    argv = shlex.split(example.text.split(">")[0])[1:]
    written = None
    if "--out" in argv:  # into the test's own directory
        at = argv.index("--out") + 1
        written = tmp / Path(argv[at]).name
        argv[at] = str(written)
    monkeypatch.setenv("ROPA_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("ROPA_SIGNING_KEY_FILE", str(rt.settings.key_file))
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, (str(example), result.output)
    out = written.read_bytes() if written else result.stdout
    if written:
        assert out, str(example)
    elif "json" in argv:
        body = json.loads(out)
        assert body["asOf"] or "--as-of" not in argv, str(example)
        assert body["checkpoint"]["treeSize"] > 0, str(example)
        assert body["controllerRecord"] or body["processorRecord"], str(example)
    else:
        assert out.strip(), str(example)
        assert len(out.splitlines()) > 1 + sum(line.startswith("#") for line in out.splitlines())


def _http(client: TestClient, secrets: dict[str, str], example: Example) -> None:
    url = urlsplit(example.text)
    params = dict(parse_qsl(url.query))
    response = client.get(
        url.path, params=params, headers={"Authorization": f"Bearer {secrets[params['slug']]}"}
    )
    assert response.status_code == 200, (str(example), response.text[:300])
    assert int(response.headers["x-ledger-tree-size"]) > 0, str(example)
    assert response.content, str(example)


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_every_example_in_the_docs_answers_on_the_demo(
    rt: Runtime,
    demo: tuple[TestClient, dict[str, str]],
    example: Example,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    client, secrets = demo
    if example.kind == "graphql":
        _graphql(client, secrets, example)
    elif example.kind == "cli":
        _cli(rt, example, monkeypatch, tmp_path)
    else:
        _http(client, secrets, example)
