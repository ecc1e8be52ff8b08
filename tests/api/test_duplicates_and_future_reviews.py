"""No silent duplicates and no impossible review dates, through GraphQL on both databases.

Registering a vendor the register already has (same name or legal name, ignoring case,
spacing and punctuation) is a CONFLICT naming the existing record, unless the caller says
it is intended; a `lastReviewedAt` in the future is BAD_USER_INPUT naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ropa.errors import DuplicateError
from ropa.services import processors
from ropa.services.runtime import Runtime
from tests.api.conftest import GraphQLClient, error_codes
from tests.conftest import Org

REGISTER = """
mutation($input: RegisterProcessorInput!) {
  registerProcessor(input: $input) { processor { id name } }
}
"""
RETIRE = """
mutation($id: ID!) { retireProcessor(input: {id: $id}) { processor { id status } } }
"""
CREATE_ACTIVITY = """
mutation($input: CreateProcessingActivityInput!) {
  createProcessingActivity(input: $input) { processingActivity { id lastReviewedAt } }
}
"""
UPDATE_ACTIVITY = """
mutation($input: UpdateProcessingActivityInput!) {
  updateProcessingActivity(input: $input) { processingActivity { id lastReviewedAt } }
}
"""
COUNT = """query($slug: String!) { organization(slug: $slug) { processors { totalCount } } }"""


def _register(gql: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    data = {"country": "US", "services": ["CRM"], **fields}
    return gql(REGISTER, {"input": data}, token, expect_errors=True)


def _count(gql: GraphQLClient, org: Org) -> int:
    body = gql(COUNT, {"slug": org.slug}, org.tokens["VIEWER"])
    return int(body["data"]["organization"]["processors"]["totalCount"])


@pytest.mark.parametrize(
    "second",
    [
        {"name": "HubSpot"},
        {"name": "hubspot"},
        {"name": "Hub Spot"},
        {"name": "HUBSPOT."},
        {"name": "HubSpot CRM", "legalName": "Hubspot Inc"},  # the legal name matches
        {"name": "HubSpot, Inc."},  # the name is the other's legal name
    ],
)
def test_a_likely_duplicate_vendor_is_refused_naming_the_existing_record(
    gql: GraphQLClient, org: Org, second: dict[str, Any]
) -> None:
    token = org.tokens["EDITOR"]
    first = _register(gql, token, name="HubSpot", legalName="HubSpot, Inc.")
    existing = first["data"]["registerProcessor"]["processor"]
    body = _register(gql, token, **second)
    assert error_codes(body) == ["CONFLICT"]
    error = body["errors"][0]
    assert error["extensions"]["existing"] == {"id": existing["id"], "name": "HubSpot"}
    assert existing["id"] in error["message"]
    assert '"HubSpot"' in error["message"]
    assert _count(gql, org) == 1


def test_an_intended_duplicate_is_registered_when_the_caller_says_so(
    gql: GraphQLClient, org: Org
) -> None:
    token = org.tokens["EDITOR"]
    _register(gql, token, name="HubSpot")
    body = _register(gql, token, name="HubSpot", allowDuplicate=True)
    assert "errors" not in body
    assert _count(gql, org) == 2


def test_different_vendors_and_retired_ones_are_no_duplicates(gql: GraphQLClient, org: Org) -> None:
    token = org.tokens["DPO"]
    old = _register(gql, token, name="Dropbox")["data"]["registerProcessor"]["processor"]
    assert "errors" not in _register(gql, token, name="Dropbox Sign")
    assert "errors" not in _register(gql, token, name="Drop", legalName=None)
    gql(RETIRE, {"id": old["id"]}, token)
    assert "errors" not in _register(gql, token, name="Dropbox")
    assert _count(gql, org) == 4


def test_the_service_names_the_record_id_for_the_cli(rt: Runtime, org: Org) -> None:
    editor = org.as_role("EDITOR")
    first = processors.register_processor(rt, editor, {"name": "Salesforce", "country": "US"})
    with pytest.raises(DuplicateError) as caught:
        processors.register_processor(rt, editor, {"name": " salesforce ", "country": "US"})
    assert first.record["id"] in str(caught.value)


def _activity(**overrides: Any) -> dict[str, Any]:
    return {"name": "Payroll", "purposes": ["paying staff"], **overrides}


def _instant(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("ahead", [timedelta(days=1), timedelta(days=365 * 30)])
def test_a_review_in_the_future_is_refused_naming_the_field(
    gql: GraphQLClient, org: Org, ahead: timedelta
) -> None:
    token = org.tokens["EDITOR"]
    body = gql(
        CREATE_ACTIVITY,
        {"input": _activity(lastReviewedAt=_instant(ahead))},
        token,
        expect_errors=True,
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert [f["field"] for f in body["errors"][0]["extensions"]["fields"]] == ["lastReviewedAt"]
    # and on an update of an existing activity
    made = gql(CREATE_ACTIVITY, {"input": _activity()}, token)
    activity_id = made["data"]["createProcessingActivity"]["processingActivity"]["id"]
    body = gql(
        UPDATE_ACTIVITY,
        {"input": {"id": activity_id, "lastReviewedAt": _instant(ahead)}},
        token,
        expect_errors=True,
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "lastReviewedAt" in body["errors"][0]["message"]


def test_a_review_now_or_within_the_clock_skew_is_accepted(gql: GraphQLClient, org: Org) -> None:
    token = org.tokens["EDITOR"]
    for delta in (timedelta(days=-30), timedelta(0), timedelta(minutes=2)):
        body = gql(
            CREATE_ACTIVITY,
            {"input": _activity(name=f"A {delta}", lastReviewedAt=_instant(delta))},
            token,
        )
        assert body["data"]["createProcessingActivity"]["processingActivity"]["lastReviewedAt"]
