"""Abuse limits: what one request may ask of the service, and their defaults.

Each limit is one module (as strawberry keeps one extension per file): the document limits
are schema extensions (`extensions()`), the transport limits ASGI middleware wrapped around
`/graphql` by `ropa.api.http`. Defaults follow graphql-armor's, loosened only where the
operations in `graphql/operations/` need it (depth 7 instead of 6: the dashboard reaches an
engaged processor's name); `docs/security.md` lists them. Every one can be set through the
environment (`ROPA_MAX_*`, `ROPA_RATE_*`); a limit refused answers with what was exceeded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    max_depth: int = 7  # graphql-armor: 6
    max_aliases: int = 15
    max_tokens: int = 1000
    max_root_fields: int = 5
    max_directives: int = 50
    max_cost: int = 5000
    max_body_bytes: int = 1 << 20  # privacy-policy texts are sent whole, to be hashed
    rate_per_second: float = 50.0  # per token; 0 turns rate limiting off
    rate_burst: int = 500
    max_expanded_fields: int = 2000  # fields once every fragment is spread in place
    request_timeout: float = 10.0  # seconds; 0 turns the time limit off

    @classmethod
    def from_env(cls) -> Limits:
        def get(name: str, default: Any, kind: Callable[[str], Any] = int) -> Any:
            value = os.environ.get(name)
            return default if value is None or value == "" else kind(value)

        d = cls()
        return cls(
            max_depth=get("ROPA_MAX_DEPTH", d.max_depth),
            max_aliases=get("ROPA_MAX_ALIASES", d.max_aliases),
            max_tokens=get("ROPA_MAX_TOKENS", d.max_tokens),
            max_root_fields=get("ROPA_MAX_ROOT_FIELDS", d.max_root_fields),
            max_directives=get("ROPA_MAX_DIRECTIVES", d.max_directives),
            max_cost=get("ROPA_MAX_COST", d.max_cost),
            max_body_bytes=get("ROPA_MAX_BODY_BYTES", d.max_body_bytes),
            rate_per_second=get("ROPA_RATE_LIMIT", d.rate_per_second, float),
            rate_burst=get("ROPA_RATE_BURST", d.rate_burst),
            max_expanded_fields=get("ROPA_MAX_EXPANDED_FIELDS", d.max_expanded_fields),
            request_timeout=get("ROPA_REQUEST_TIMEOUT", d.request_timeout, float),
        )


def extensions(limits: Limits, *, introspection: bool) -> list[Any]:
    """The schema extensions enforcing `limits` on every document, in the order they act."""
    from ropa.api.limits.aliases import MaxAliases
    from ropa.api.limits.cost import CostLimit
    from ropa.api.limits.depth import MaxDepth
    from ropa.api.limits.directives import MaxDirectives
    from ropa.api.limits.expansion import MaxExpandedFields
    from ropa.api.limits.introspection import HideSuggestions, NoIntrospection
    from ropa.api.limits.page_size import PageSizeLimit
    from ropa.api.limits.root_fields import MaxRootFields
    from ropa.api.limits.tokens import MaxTokens

    found: list[Any] = [
        lambda: MaxTokens(limits.max_tokens),
        lambda: MaxDepth(limits.max_depth),
        lambda: MaxExpandedFields(limits.max_expanded_fields),
        lambda: MaxAliases(limits.max_aliases),
        lambda: MaxRootFields(limits.max_root_fields),
        lambda: MaxDirectives(limits.max_directives),
        PageSizeLimit,
        lambda: CostLimit(limits.max_cost),
    ]
    if not introspection:
        found += [NoIntrospection, HideSuggestions]
    return found
