"""The GraphQL-over-HTTP specification's conformance audits (the `graphql-http` package's
`auditServer`) all pass against the running service.

Node and the npm packages are needed: the packages are installed once into a cache
directory (`ROPA_NODE_CACHE`, default ~/.cache/ropa/graphql-http). Without node the test
is skipped, except under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.http.conftest import Running, required_in_ci

pytestmark = pytest.mark.slow

AUDIT = Path(__file__).with_name("audit.mjs")
CACHE = Path(os.environ.get("ROPA_NODE_CACHE", Path.home() / ".cache" / "ropa" / "graphql-http"))
PACKAGES = ("graphql-http@^1.22", "graphql@^16")


def node_modules() -> Path:
    if not (CACHE / "node_modules" / "graphql-http").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        if not (CACHE / "package.json").exists():
            (CACHE / "package.json").write_text('{"name": "ropa-audit", "private": true}\n')
        subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", *PACKAGES],
            cwd=CACHE, check=True, capture_output=True, timeout=300,
        )
    return CACHE


def test_the_graphql_over_http_audit_passes_every_audit(running: Running) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        required_in_ci("node")
    cwd = node_modules()
    done = subprocess.run(
        ["node", str(AUDIT), running.server.url, running.token],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=True,
    )
    results = json.loads(done.stdout)
    counts = Counter(r["status"] for r in results)
    print(f"\ngraphql-http audit: {counts['ok']} of {len(results)} ok ({dict(counts)})")
    failed = [
        f"{r['id']} {r['name']}: {r['reason']} (HTTP {r.get('httpStatus')}: {r.get('body')})"
        for r in results if r["status"] != "ok"
    ]
    assert not failed, "\n".join(failed)
    assert len(results) >= 61
