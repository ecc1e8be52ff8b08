"""Anchoring tests: a real openssl TSA on loopback and a runtime configured to use it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from ropa.config import TsaConfig
from ropa.services.runtime import Runtime
from tests.anchors.tsa import Authority, TsaServer, make_authority, openssl_available
from tests.http.conftest import required_in_ci


@pytest.fixture(scope="session")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    if not openssl_available():
        required_in_ci("the openssl command")
    return make_authority(tmp_path_factory.mktemp("tsa"), "test-tsa")


@pytest.fixture(scope="session")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    """Another CA and TSA, which the deployment does not trust."""
    if not openssl_available():
        required_in_ci("the openssl command")
    return make_authority(tmp_path_factory.mktemp("stranger"), "stranger-tsa")


@pytest.fixture
def tsa(authority: Authority) -> Iterator[TsaServer]:
    server = TsaServer(authority).start()
    yield server
    server.stop()


def with_tsas(rt: Runtime, *tsas: TsaConfig, **settings: float) -> Runtime:
    """A runtime on the same database and key, with TSAs configured."""
    options = {"anchor_interval": 0.05, "anchor_timeout": 1.0, **settings}
    changed = dataclasses.replace(rt.settings, tsas=tsas, **options)  # type: ignore[arg-type]
    anchored = Runtime(changed, db=rt.db)
    anchored.set_signing_key(rt.signing_key())
    return anchored


@pytest.fixture
def art(rt: Runtime, tsa: TsaServer, authority: Authority) -> Runtime:
    """The test runtime, anchoring with the loopback TSA (interval 50 ms, timeout 1 s)."""
    return with_tsas(rt, TsaConfig(authority.name, tsa.url, authority.ca_cert))


def config_of(authority: Authority, server: TsaServer) -> TsaConfig:
    return TsaConfig(authority.name, server.url, authority.ca_cert)
