"""The floor for a cached answer: a bare Starlette route that returns fixed bytes.

    python -m uvicorn bench.bare:app   (BENCH_BARE_BODY names the file it serves)

`bench.dashboard` serves the dashboard's cached answer from here, under the same uvicorn,
to compare ropa's cache hit with the least any Starlette app can do for the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

BODY = Path(os.environ.get("BENCH_BARE_BODY", "/dev/null")).read_bytes()


async def answer(_: Request) -> Response:
    return Response(BODY, media_type="application/json")


async def healthz(_: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/graphql", answer, methods=["POST"]), Route("/healthz", healthz)])
