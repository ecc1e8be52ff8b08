"""Every parser of outside input, given anything, answers a value or a refusal with a code:
never another exception (which would be a 500 or an INTERNAL_SERVER_ERROR).

Property tests (hypothesis) for cursor decoding, ledger-entry cursors, instants (`asOf`,
DateTime arguments), the canonical encoder, the request body and query string; then the
HTTP layer itself, with arbitrary bytes as the body and as variables.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from ropa.api.inputs import instant
from ropa.api.request_input import BadRequest, read_get, read_post
from ropa.app import create_app
from ropa.config import Settings
from ropa.errors import UserError, ValidationError
from ropa.ledger.canonical import NotUnicodeError, canonical, format_ts
from ropa.ledger.keys import SigningKey
from ropa.services import ledger_queries, reads
from ropa.services.ropa_export import parse_as_of
from ropa.services.runtime import Runtime
from tests.conftest import Org, make_org

# any code point, lone surrogates included: what a JSON `\ud800` escape decodes to
ANY_TEXT = st.text(
    st.characters(codec=None, categories=None) | st.sampled_from(["\ud800", "\udfff", "\x00"]),
    max_size=40,
)
JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | ANY_TEXT
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=20,
)
OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@given(
    st.text(max_size=200)
    | JSON_VALUES.map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode())
)
def test_a_connection_cursor_decodes_to_two_strings_or_is_bad_user_input(cursor: str) -> None:
    try:
        value, record_id = reads._decode_cursor(cursor)
    except ValidationError:
        return
    assert isinstance(value, str)
    assert isinstance(record_id, str)
    value.encode("utf-8")  # something a database can compare


@pytest.mark.parametrize(
    "cursor",
    [
        [10**30, "x"],
        [{"a": 1}, "x"],
        [None, "x"],
        [[1], "x"],
        ["\ud800", "x"],
        ["a", "\x00"],
    ],
)
def test_foreign_cursors_found_by_attack_are_bad_user_input(cursor: list[Any]) -> None:
    encoded = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()
    with pytest.raises(ValidationError):
        reads._decode_cursor(encoded)


@given(st.text(max_size=40))
def test_a_ledger_entry_cursor_is_a_seq_or_bad_user_input(after: str) -> None:
    try:
        seq = ledger_queries.entry_cursor(after)
    except ValidationError:
        return
    assert seq is not None
    assert 0 <= seq <= ledger_queries.MAX_SEQ


@given(st.text(max_size=40) | st.datetimes(timezones=OFFSETS).map(datetime.isoformat))
def test_an_as_of_parameter_is_a_ledger_instant_or_bad_user_input(text: str) -> None:
    try:
        found = parse_as_of(text)
    except ValidationError:
        return
    assert len(found) == len("2026-11-22T10:04:05.123456Z")


@given(st.datetimes(timezones=OFFSETS) | st.datetimes())
def test_a_datetime_argument_is_a_ledger_instant_or_bad_user_input(moment: datetime) -> None:
    try:
        found = instant(moment, "asOf")
    except ValidationError as exc:
        refused = exc
    else:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        assert found == format_ts(aware)
        return
    assert refused.errors[0].field == "asOf"


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_instants_at_the_ends_of_the_range_are_bad_user_input(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_as_of(text)
    with pytest.raises(ValidationError):
        instant(datetime.fromisoformat(text), "asOf")


@given(JSON_VALUES)
def test_the_canonical_encoder_encodes_or_refuses_with_a_value_error(value: Any) -> None:
    try:
        out = canonical(value)
    except NotUnicodeError:
        return
    except (ValueError, TypeError):
        return  # floats and unsafe integers: refused by the ledger's rules
    assert json.loads(out) == value


def test_a_lone_surrogate_is_not_unicode_for_the_canonical_encoder() -> None:
    with pytest.raises(NotUnicodeError):
        canonical({"name": "a\ud800b"})


@given(st.binary(max_size=300) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_a_request_body_is_parameters_or_a_bad_request(body: bytes) -> None:
    try:
        fields = read_post(body)
    except BadRequest:
        return
    assert isinstance(fields, dict)
    assert fields["query"] is not None


@given(st.binary(max_size=200))
def test_a_query_string_is_parameters_or_a_bad_request(query_string: bytes) -> None:
    try:
        fields = read_get(query_string)
    except BadRequest:
        return
    assert set(fields) >= {"query", "operationName"}


# --- the HTTP layer -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, signing_key: SigningKey
) -> Iterator[tuple[TestClient, Org]]:
    root = tmp_path_factory.mktemp("parsers")
    shutil.copy(sqlite_template, root / "ropa.db")
    key_file = root / "signing.key"
    signing_key.write_to_file(key_file)
    rt = Runtime(Settings(database_url=f"sqlite:///{root / 'ropa.db'}", key_file=key_file))
    org = make_org(rt, "acme")
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        yield client, org
    rt.db.dispose()


def _answered_with_a_code(response: Any) -> None:
    assert response.status_code < 500, response.text[:300]
    body = response.json()
    for error in body.get("errors") or []:
        assert (error.get("extensions") or {}).get("code"), error
        assert (error.get("extensions") or {}).get("code") != "INTERNAL_SERVER_ERROR", error


HTTP_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HTTP_SETTINGS
@given(body=st.binary(max_size=400))
def test_arbitrary_bytes_as_a_body_are_never_a_500(
    served: tuple[TestClient, Org], body: bytes
) -> None:
    client, org = served
    response = client.post(
        "/graphql",
        content=body,
        headers={
            "Authorization": f"Bearer {org.tokens['DPO']}",
            "Content-Type": "application/json",
        },
    )
    _answered_with_a_code(response)


@HTTP_SETTINGS
@given(variables=st.binary(max_size=200) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bytes_as_variables_are_never_a_500(
    served: tuple[TestClient, Org], variables: bytes
) -> None:
    client, org = served
    query = (
        b'"query($s: String!, $a: String, $f: Int) { organization(slug: $s) '
        b'{ name processors(after: $a, first: $f) { totalCount } } }"'
    )
    response = client.post(
        "/graphql",
        content=b'{"query":' + query + b',"variables":' + variables + b"}",
        headers={
            "Authorization": f"Bearer {org.tokens['DPO']}",
            "Content-Type": "application/json",
        },
    )
    _answered_with_a_code(response)


@HTTP_SETTINGS
@given(as_of=st.text(max_size=40) | st.datetimes(timezones=OFFSETS).map(datetime.isoformat))
def test_any_as_of_on_the_export_route_is_never_a_500(
    served: tuple[TestClient, Org], as_of: str
) -> None:
    client, org = served
    response = client.get(
        "/export/ropa.json",
        params={"slug": org.slug, "asOf": as_of},
        headers={"Authorization": f"Bearer {org.tokens['DPO']}"},
    )
    assert response.status_code < 500, response.text[:300]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        (
            "variables nested 200,000 deep",
            b'{"query":"{__typename}","variables":{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}}",
        ),
        ("a body nested 300,000 deep", b"[" * 300_000 + b"]" * 300_000),
        ("invalid UTF-8 in the body", b'{"query":"{__typename}\xff"}'),
        ("invalid UTF-8 in a variable", b'{"query":"{__typename}","variables":{"a":"\xc3\x28"}}'),
        ("a lone surrogate in a variable", b'{"query":"{__typename}","variables":{"a":"\\ud800"}}'),
        ("not JSON", b"hello"),
        ("a batch", b'[{"query":"{__typename}"}]'),
        ("no query", b'{"variables":{}}'),
    ],
)
def test_malformed_bodies_are_bad_requests_in_graphqls_error_shape(
    served: tuple[TestClient, Org], name: str, body: bytes
) -> None:
    client, org = served
    response = client.post(
        "/graphql",
        content=body,
        headers={
            "Authorization": f"Bearer {org.tokens['DPO']}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400, name
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_extreme_instants_are_bad_user_input_on_every_path(
    served: tuple[TestClient, Org], as_of: str
) -> None:
    client, org = served
    auth = {"Authorization": f"Bearer {org.tokens['DPO']}"}
    export = client.get("/export/ropa.json", params={"slug": org.slug, "asOf": as_of}, headers=auth)
    assert export.status_code == 400
    assert export.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for query in (
        "query($s: String!, $t: DateTime!) { organization(slug: $s, asOf: $t) { name } }",
        "query($s: String!, $t: DateTime!) { organization(slug: $s) "
        "{ changes(from: $t, to: $t) { entityType } } }",
    ):
        body = client.post(
            "/graphql",
            json={"query": query, "variables": {"s": org.slug, "t": as_of}},
            headers=auth,
        ).json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body


@pytest.mark.parametrize("after", ["²", "99999999999999999999999", "-1", "1e3"])
def test_foreign_ledger_cursors_are_bad_user_input(
    served: tuple[TestClient, Org], after: str
) -> None:
    client, org = served
    body = client.post(
        "/graphql",
        json={
            "query": "query($s: String!, $a: String) { organization(slug: $s) "
            "{ ledger { entries(after: $a) { edges { cursor } } } } }",
            "variables": {"s": org.slug, "a": after},
        },
        headers={"Authorization": f"Bearer {org.tokens['DPO']}"},
    ).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body


def test_a_lone_surrogate_in_a_record_is_bad_user_input(served: tuple[TestClient, Org]) -> None:
    from ropa.services import processors

    client, org = served
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with pytest.raises(UserError) as refused:
        processors.register_processor(
            runtime, org.as_role("DPO"), {"name": "a\ud800b", "country": "US"}
        )
    assert refused.value.code == "BAD_USER_INPUT"
