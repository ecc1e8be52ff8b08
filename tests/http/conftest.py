"""A running service on loopback (a real `ropa serve` process on SQLite) for the HTTP tests
that need one: the GraphQL-over-HTTP audit and the browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.harness import Deployment, Server
from ropa.ledger.keys import SigningKey


def required_in_ci(what: str) -> None:
    """Skip for lack of a tool on a developer's machine; under CI=true, fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing under CI=true")
    pytest.skip(f"{what} is missing")


@dataclass
class Running:
    server: Server
    token: str
    slug: str


@pytest.fixture
def running(tmp_path: Path, signing_key: SigningKey) -> Iterator[Running]:
    deployment = Deployment.create(tmp_path, key=signing_key)
    token = deployment.make_org("acme")
    server = deployment.server().start()
    yield Running(server, token, "acme")
    server.stop()
    deployment.close()
