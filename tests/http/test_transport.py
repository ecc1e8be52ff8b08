"""GraphQL over HTTP as the specification words it: the media type the client asked for,
400 for requests that fail before execution under application/graphql-response+json,
queries only by GET (405 with Allow for a mutation), and 400 for parameters of the wrong
type."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from ropa.api.limits import Limits
from ropa.app import create_app
from ropa.services.runtime import Runtime
from tests.conftest import Org

RESPONSE = "application/graphql-response+json"


@pytest.fixture
def http(rt: Runtime, org: Org) -> Iterator[TestClient]:
    with TestClient(create_app(rt, limits=Limits(rate_per_second=0))) as client:
        client.headers["Authorization"] = f"Bearer {org.tokens['EDITOR']}"
        client.headers["x-graphql-csrf"] = "1"
        yield client


def test_the_graphql_response_media_type_is_used_when_accepted(http: TestClient) -> None:
    answer = http.post("/graphql", json={"query": "{ __typename }"},
                       headers={"Accept": f"{RESPONSE}, application/json;q=0.9"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(RESPONSE)
    assert answer.json() == {"data": {"__typename": "Query"}}


def test_legacy_clients_get_json(http: TestClient) -> None:
    for accept in ("application/json", "*/*", None):
        headers = {"Accept": accept} if accept else {}
        answer = http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        assert answer.headers["content-type"].startswith("application/json")


def test_a_document_that_does_not_validate_is_400_without_data(http: TestClient) -> None:
    strict = http.post("/graphql", json={"query": "{ nope }"}, headers={"Accept": RESPONSE})
    assert strict.status_code == 400
    assert "data" not in strict.json()
    assert strict.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    legacy = http.post("/graphql", json={"query": "{ nope }"},
                       headers={"Accept": "application/json"})
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None


def test_an_execution_error_stays_200(http: TestClient) -> None:
    answer = http.post(
        "/graphql", headers={"Accept": RESPONSE},
        json={"query": 'mutation { retireProcessor(input: {id: "UHJvY2Vzc29yOng="}) '
                       "{ receipt { seq } } }"},
    )
    assert answer.status_code == 200
    assert answer.json()["errors"][0]["path"] == ["retireProcessor"]


def test_a_mutation_by_get_is_405_with_allow(http: TestClient) -> None:
    answer = http.get("/graphql", params={
        "query": 'mutation { retireProcessor(input: {id: "x"}) { receipt { seq } } }'
    })
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"


def test_parameters_of_the_wrong_type_are_400(http: TestClient) -> None:
    for body in ({"query": {"x": 1}}, {"query": "{ __typename }", "variables": "x"},
                 {"query": "{ __typename }", "operationName": 3},
                 {"query": "{ __typename }", "extensions": []}):
        assert http.post("/graphql", json=body).status_code == 400, body
