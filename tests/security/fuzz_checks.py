"""Schemathesis checks for ropa (loaded with SCHEMATHESIS_HOOKS by the fuzz test).

Schemathesis counts every GraphQL error with a `path` as a server failure; here NOT_FOUND,
FORBIDDEN and CONFLICT are answers the design asks for (another organisation's slug is
NOT_FOUND, not null). A real failure is a 5xx, or an error the API had to mask as
INTERNAL_SERVER_ERROR, or a response that is not GraphQL's JSON shape. DateTime arguments
are drawn from extreme instants too (below).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes


@schemathesis.check
def ropa_no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, and no error masked as INTERNAL_SERVER_ERROR."""
    assert response.status_code < 500, f"HTTP {response.status_code}: {response.text[:500]}"
    try:
        payload = response.json()
    except ValueError:
        raise AssertionError(
            f"not JSON (HTTP {response.status_code}): {response.text[:200]}"
        ) from None
    assert isinstance(payload, dict), "a GraphQL response is a JSON object"
    for error in payload.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert code, f"an error without extensions.code: {error}"
        assert code != "INTERNAL_SERVER_ERROR", f"masked internal error: {error}"
    return None


# Instants at and past the ends of the range, with any offset, and text that is no instant:
# `asOf`, `from`, `to` and every DateTime input must answer BAD_USER_INPUT, never a 500.
_OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
_EXTREME_INSTANTS = [
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T00:00:00-23:59",
    "2026-02-30T00:00:00Z",
    "2026-11-23T25:00:00Z",
    "",
    "0",
    "-1",
    "²⁰²⁶-01-01",
]
schemathesis.graphql.scalar(
    "DateTime",
    (
        st.sampled_from(_EXTREME_INSTANTS)
        | st.datetimes(timezones=_OFFSETS).map(datetime.isoformat)
        | st.text(max_size=30)
    ).map(nodes.String),
)
