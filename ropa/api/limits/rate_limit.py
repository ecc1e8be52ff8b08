"""Per-token rate limiting: a token bucket per API token, refused with 429 and Retry-After.

Each token may send `rate_per_second` requests a second on average and `rate_burst` at
once. Buckets live in the process: with N workers a token gets up to N times the rate,
which the defaults (50/s, bursts of 500) leave far above any dashboard or sync tool. Runs
after authentication, so it counts only requests with a valid token; requests without one
are refused (401) before costing anything but a hash lookup.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from ropa.api.limits.error import send_error

ASGIApp = Any
PRINCIPAL_KEY = "ropa.principal"


class TokenBuckets:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """0 if the request may go, else the seconds until it may."""
        now = self.clock()
        tokens, at = self.buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate


class RateLimit:
    def __init__(self, app: ASGIApp, rate: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        principal = scope.get(PRINCIPAL_KEY)
        if self.buckets is not None and principal is not None:
            wait = self.buckets.take(principal.actor.id)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                await send_error(
                    send, 429, "RATE_LIMITED",
                    f"Too many requests for this token; retry after {retry} s.",
                    headers={"Retry-After": str(retry)}, retryAfter=retry,
                )
                return
        await self.app(scope, receive, send)
