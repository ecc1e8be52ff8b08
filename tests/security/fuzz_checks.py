"""Schemathesis checks for ropa (loaded with SCHEMATHESIS_HOOKS by the fuzz test).

Schemathesis counts every GraphQL error with a `path` as a server failure; here NOT_FOUND,
FORBIDDEN and CONFLICT are answers the design asks for (another organisation's slug is
NOT_FOUND, not null). A real failure is a 5xx, or an error the API had to mask as
INTERNAL_SERVER_ERROR, or a response that is not GraphQL's JSON shape.
"""

from __future__ import annotations

from typing import Any

import schemathesis


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
