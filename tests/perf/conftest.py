"""The GraphQL client over the real ASGI app (tests/api/conftest.py), for the cache tests."""

from tests.api.conftest import gql

__all__ = ["gql"]
