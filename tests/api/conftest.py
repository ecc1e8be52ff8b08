"""A GraphQL client over the real ASGI app, on each test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ropa.app import create_app
from ropa.services.runtime import Runtime

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"


class GraphQLClient:
    def __init__(self, client: TestClient) -> None:
        self.http = client

    def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        *,
        expect_errors: bool = False,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        if not expect_errors:
            assert "errors" not in body, body.get("errors")
        return body

    def operation(
        self,
        name: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        return self((OPERATIONS / f"{name}.graphql").read_text(), variables, token, **kw)


@pytest.fixture
def gql(rt: Runtime) -> Iterator[GraphQLClient]:
    with TestClient(create_app(rt)) as client:
        yield GraphQLClient(client)


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]
