"""Fuzzing /graphql with schemathesis, from the exported SDL, against the running service.

The service runs under uvicorn on a free loopback port, on SQLite with the demo records,
with a DPO token of `qualer`, rate limiting off (the fuzzer is one very busy client). A fuzz
dictionary feeds the arguments real slugs and IDs (the organisation's own and other
organisations'), countries and taxonomy keys, so generated queries and mutations reach the
records instead of stopping at NOT_FOUND. Bounded in time by `ROPA_FUZZ_SECONDS` (60).

Passes when no response is a 5xx, none carries an error masked as INTERNAL_SERVER_ERROR
(the check in `fuzz_checks.py`), and the service logged no internal error.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLObjectType,
    build_schema,
    get_named_type,
    get_nullable_type,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from ropa.api.ids import to_global_id
from ropa.config import Settings
from ropa.demo.loader import DEMO_SLUGS, load_demo
from ropa.ledger.keys import SigningKey
from ropa.services import breaches, reads, tokens
from ropa.services.access import SYSTEM_PRINCIPAL
from ropa.services.runtime import Runtime
from ropa.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("ROPA_FUZZ_SECONDS", "60"))
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo(tmp: Path) -> tuple[dict[str, str], str, dict[str, list[str]]]:
    """The service's environment, a DPO token of qualer, and the IDs to feed the fuzzer."""
    key = tmp / "signing.key"
    SigningKey.generate("ropa.fuzz-20261123").write_to_file(key)
    url = f"sqlite:///{tmp / 'ropa.db'}"
    rt = Runtime(Settings(database_url=url, key_file=key))
    try:
        upgrade(rt.db)
        load_demo(rt)
        ids: dict[str, list[str]] = {}
        token, own = "", ""
        for slug in DEMO_SLUGS:
            view, _ = reads.open_view(rt, SYSTEM_PRINCIPAL, slug)
            if slug == "qualer":
                token = tokens.create_token(rt, SYSTEM_PRINCIPAL, view.org_id, "DPO", "fuzz").secret
                dpo = tokens.authenticate(rt, f"Bearer {token}")
                own = dpo.actor.id  # never fed to revokeToken: the run would end in 401s
                breaches.report_breach(rt, dpo, {
                    "title": "Misdirected e-mail", "discoveredAt": "2026-11-01T09:00:00.000000Z",
                })
                view, _ = reads.open_view(rt, SYSTEM_PRINCIPAL, slug)
            ids.setdefault("Organization", []).append(to_global_id("Organization", view.org_id))
            for kind in ("ProcessingActivity", "Processor", "ProcessorEngagement", "Transfer",
                         "BreachIncident", "PrivacyPolicy", "ApiToken"):
                states = [s for s in reads.all_records(rt, view, kind) if s["id"] != own][:4]
                ids.setdefault(kind, []).extend(to_global_id(kind, s["id"]) for s in states)
    finally:
        rt.db.dispose()
    env = {**os.environ, "ROPA_DATABASE_URL": url, "ROPA_SIGNING_KEY_FILE": str(key),
           "ROPA_RATE_LIMIT": "0"}
    return env, token, ids


# input fields (and arguments) fed from a dictionary, by name: the Node type their IDs are of
ID_FIELDS = {
    "id": "ids", "activityId": "ProcessingActivity", "processorId": "Processor",
    "recipientProcessorId": "Processor", "organizationId": "Organization",
    "affectedActivityIds": "ProcessingActivity", "affectedProcessorIds": "Processor",
}
VALUE_FIELDS = {
    "slug": "slugs", "asOf": "instants", "country": "countries", "fromCountry": "countries",
    "toCountry": "countries", "dataCategories": "categories",
}


def _payload_node(field: GraphQLField) -> str | None:
    payload = get_named_type(field.type)
    for f in getattr(payload, "fields", {}).values():
        named = get_named_type(f.type)
        if isinstance(named, GraphQLObjectType) and any(i.name == "Node" for i in named.interfaces):
            return named.name
    return None


def _bindings() -> dict[str, str]:
    """`<Type>.<field>.<argument path>` of every argument the dictionaries feed, from the SDL."""
    sdl = build_schema((ROOT / "graphql" / "schema.graphql").read_text())
    names = {**ID_FIELDS, **VALUE_FIELDS}
    out: dict[str, str] = {}
    for root in (sdl.query_type, sdl.mutation_type):
        assert root is not None
        for field_name, field in root.fields.items():
            for arg_name, arg in field.args.items():
                prefix = f"{root.name}.{field_name}.{arg_name}"
                if arg_name in names:
                    out[prefix] = names[arg_name]
                named = get_named_type(arg.type)
                if isinstance(named, GraphQLInputObjectType):
                    for name, f in named.fields.items():
                        if name in names:
                            is_list = isinstance(get_nullable_type(f.type), GraphQLList)
                            out[f"{prefix}.{name}" + ("[*]" if is_list else "")] = names[name]
                    if "id" in named.fields:  # the record the payload returns
                        out[f"{prefix}.id"] = _payload_node(field) or "ids"
    return out


def _config(tmp: Path, ids: dict[str, list[str]]) -> Path:
    """schemathesis.toml: dictionaries of real values, bound to the arguments that take them."""
    every = [i for found in ids.values() for i in found]
    dictionaries = {
        "slugs": [*DEMO_SLUGS, "nobody"], "ids": every, "countries": ["DE", "US", "FR", "SG", "IN"],
        "instants": ["2026-11-20T00:00:00Z", "2025-06-01T12:00:00Z", "2026-11-23T08:00:00+01:00"],
        "categories": ["user.contact.email", "user.name", "user.financial"],
        **{kind: found for kind, found in ids.items() if found},
    }
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{name if name in dictionaries else "ids"}", '
              'probability = 0.8 }' for key, name in _bindings().items()]
    path = tmp / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, list[str]], Path]]:
    env, token, ids = _demo(tmp_path)
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "ropa.app:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90  # a loaded CI machine imports slowly
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(
                            f"the service did not start: {log.read_text()[-2000:]}"
                        ) from None
                    time.sleep(0.2)
            yield f"{base}/graphql", token, ids, log
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.mark.slow
def test_fuzzing_the_schema_finds_no_server_error(
    service: tuple[str, str, dict[str, list[str]], Path], tmp_path: Path
) -> None:
    url, token, ids, log = service
    if not SCHEMATHESIS.exists():
        pytest.fail(f"{SCHEMATHESIS} is missing: install the dev extra (scripts/bootstrap)")
    config = _config(tmp_path, ids)
    run = subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(config), "--no-color", "run",
         str(ROOT / "graphql" / "schema.graphql"), "--url", url,
         "--header", f"Authorization: Bearer {token}",
         "--checks", "ropa_no_server_error", "--continue-on-failure",
         "--max-time", str(SECONDS), "--seed", os.environ.get("ROPA_FUZZ_SEED", "20261123"),
         "--generation-database", "none", "--report-dir", str(tmp_path / "report")],
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.security.fuzz_checks",
             "PYTHONPATH": str(ROOT)},
        cwd=tmp_path, capture_output=True, text=True, timeout=SECONDS + 240, check=False,
    )
    output = run.stdout + run.stderr
    generated = re.search(r"(\d+) generated", output)
    print(f"fuzz: {generated.group(1) if generated else '?'} cases in {SECONDS} s")
    if os.environ.get("ROPA_FUZZ_VERBOSE"):
        print(output)
    assert run.returncode == 0, output[-6000:]
    assert generated is not None, output[-2000:]
    assert int(generated.group(1)) > 0
    logged = log.read_text()
    assert "internal error" not in logged.lower(), logged[-4000:]
    assert "Traceback" not in logged, logged[-4000:]


# --- raw bodies: what schemathesis, generating GraphQL documents, never sends --------------

_LEAVES = (
    st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=20)
    | st.sampled_from([2**31, -(2**31) - 1, 2**53, 2**63, 10**30, 1e308, -0.0, "\x00"])
    | st.none() | st.booleans()
)


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@st.composite
def _hostile_bodies(draw: st.DrawFn) -> bytes:
    """A request body: valid JSON with extreme values or deep nesting, or invalid UTF-8
    placed inside an otherwise valid request, or bytes that are no JSON at all."""
    query = draw(st.sampled_from([
        "query($s: String!, $a: String, $f: Int) { organization(slug: $s) "
        "{ name processors(after: $a, first: $f) { totalCount } } }",
        "query($s: String!, $t: DateTime) { organization(slug: $s, asOf: $t) { name } }",
        "mutation($i: RegisterProcessorInput!) { registerProcessor(input: $i) "
        "{ processor { id } } }",
    ]))
    kind = draw(st.sampled_from(["values", "nested", "utf8", "bytes"]))
    if kind == "values":
        variables = draw(st.dictionaries(
            st.sampled_from(["s", "a", "f", "t", "i"]),
            st.recursive(_LEAVES, lambda v: st.lists(v, max_size=3)
                         | st.dictionaries(st.text(max_size=8), v, max_size=3), max_leaves=8),
        ))
        return json.dumps({"query": query, "variables": variables}).encode()
    if kind == "nested":
        depth = draw(st.sampled_from([63, 64, 65, 1023, 1025, 5000, 100_000]))
        return b'{"query":' + json.dumps(query).encode() + b',"variables":{"i":' + (
            _nested(depth) + b"}}")
    if kind == "utf8":
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                                    b"\xe2\x82", b"\\ud800", b"\\udfff\\ud800"]))
        return (b'{"query":' + json.dumps(query).encode() + b',"variables":{"s":"acme'
                + bad + b'"}}')
    return draw(st.binary(max_size=200))


@pytest.mark.slow
def test_raw_hostile_bodies_find_no_server_error(
    service: tuple[str, str, dict[str, list[str]], Path],
) -> None:
    """Invalid UTF-8, deep nesting and extreme values, in bodies sent to the running
    service: each answered 4xx or with coded GraphQL errors, never a 5xx."""
    url, token, _, log = service
    failures: list[str] = []

    @settings(max_examples=int(os.environ.get("ROPA_FUZZ_BODIES", "150")), deadline=None,
              database=None, derandomize=True)
    @given(body=_hostile_bodies())
    def probe(body: bytes) -> None:
        response = httpx.post(url, content=body, timeout=30, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            payload = response.json()
        except ValueError:
            failures.append(f"not JSON: {response.status_code} {body[:80]!r}")
            return
        codes = [(e.get("extensions") or {}).get("code") for e in payload.get("errors") or ()]
        if response.status_code >= 500 or None in codes or "INTERNAL_SERVER_ERROR" in codes:
            failures.append(f"{response.status_code} {codes} for {body[:80]!r}")

    probe()
    assert not failures, failures[:10]
    logged = log.read_text()
    assert "Traceback" not in logged, logged[-4000:]
