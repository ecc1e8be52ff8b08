"""One rule for instants in every door: GraphQL, the HTTP export and the CLI agree.

A date alone is the end of that day (UTC); a time without an offset is refused; a view of
the future is refused rather than echoed back (ropa.domain.instants).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from ropa.app import create_app
from ropa.ledger.canonical import format_ts
from ropa.services import processors
from ropa.services.runtime import Runtime
from tests.api.conftest import GraphQLClient, error_codes
from tests.conftest import Org

AS_OF = 'query($t: DateTime) { organization(slug: "acme", asOf: $t) { asOf } }'
CHANGES = (
    'query($f: DateTime!, $t: DateTime!) { organization(slug: "acme") '
    "{ changes(from: $f, to: $t) { entityType } } }"
)


def test_a_date_alone_means_the_end_of_that_day_in_utc(gql: GraphQLClient, org: Org) -> None:
    today = datetime.now(UTC).date().isoformat()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    body = gql(AS_OF, {"t": yesterday}, org.tokens["VIEWER"], expect_errors=True)
    # the organisation was created today: at the end of yesterday it did not exist
    assert error_codes(body) == ["NOT_FOUND"]
    body = gql(AS_OF, {"t": f"{yesterday}T23:59:59Z"}, org.tokens["VIEWER"], expect_errors=True)
    assert error_codes(body) == ["NOT_FOUND"]
    now = gql(AS_OF, {"t": format_ts(datetime.now(UTC))}, org.tokens["VIEWER"])
    assert now["data"]["organization"]["asOf"].startswith(today)


@pytest.mark.parametrize("value", ["2024-03-01T00:00:00", "2024-03-01 00:00", "soon"])
def test_a_time_without_an_offset_is_refused_not_taken_as_utc(
    gql: GraphQLClient, org: Org, value: str
) -> None:
    body = gql(AS_OF, {"t": value}, org.tokens["VIEWER"], expect_errors=True)
    assert body.get("data") is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "DateTime" in body["errors"][0]["message"]


def test_a_view_of_the_future_is_refused_in_graphql_changes_and_exports(
    rt: Runtime, gql: GraphQLClient, org: Org
) -> None:
    future = format_ts(datetime.now(UTC) + timedelta(days=1))
    body = gql(AS_OF, {"t": "2099-01-01T00:00:00Z"}, org.tokens["VIEWER"], expect_errors=True)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "future" in body["errors"][0]["message"]
    body = gql(CHANGES, {"f": "2024-01-01", "t": future}, org.tokens["VIEWER"], expect_errors=True)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    with TestClient(create_app(rt)) as client:
        refused = client.get(
            "/export/ropa.json",
            params={"slug": org.slug, "asOf": "2099-01-01"},
            headers={"Authorization": f"Bearer {org.tokens['AUDITOR']}"},
        )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_export_reads_a_date_as_the_end_of_that_day_as_graphql_does(
    rt: Runtime, org: Org
) -> None:
    processors.register_processor(rt, org.as_role("EDITOR"), {"name": "Dropbox", "country": "US"})
    today = datetime.now(UTC).date().isoformat()
    with TestClient(create_app(rt)) as client:
        found = client.get(
            "/export/ropa.json",
            params={"slug": org.slug, "asOf": today},
            headers={"Authorization": f"Bearer {org.tokens['AUDITOR']}"},
        )
    assert found.status_code == 200, found.text
    assert found.json()["asOf"].startswith(today)  # today has not ended: it is now
