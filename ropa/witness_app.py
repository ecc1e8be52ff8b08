"""The witness service (`ropa witness serve`): C2SP tlog-witness over HTTP.

    POST /add-checkpoint   the request of tlog-witness; answers as ropa.services.witness
    GET  /healthz          "ok"
    GET  /                 the witness's verifier key, for an operator to copy

The request body is read with a size limit (`MAX_BODY`, else 413) and a time limit
(`READ_TIMEOUT`, else 408), so no client can hold the service. Refusals are plain text;
a 409 is `text/x.tlog.size`. Nothing a client sends can cause a 500: an unexpected
failure is logged and answered 503 without detail.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ropa.ledger.witness_protocol import ADD_CHECKPOINT_PATH, MAX_BODY, SIZE_CONTENT_TYPE
from ropa.services.witness import WitnessConfig, WitnessRefusal, add_checkpoint
from ropa.store.database import Database

log = logging.getLogger("ropa.witness")
READ_TIMEOUT = 10.0
_TEXT = "text/plain; charset=utf-8"


class _TooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise _TooLarge
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise _TooLarge
    return bytes(data)


def create_witness_app(
    db: Database, config: WitnessConfig, read_timeout: float = READ_TIMEOUT
) -> Starlette:
    async def add(request: Request) -> Response:
        try:
            body = await asyncio.wait_for(_read_body(request), read_timeout)
        except _TooLarge:
            return PlainTextResponse(f"the body is over {MAX_BODY} bytes\n", 413)
        except TimeoutError:
            return PlainTextResponse("the body took too long to arrive\n", 408)
        except ClientDisconnect:
            return Response(status_code=400)
        try:
            lines = await run_in_threadpool(add_checkpoint, db, config, body)
        except WitnessRefusal as refusal:
            if refusal.status == 409 and refusal.size is not None:
                # exactly `text/x.tlog.size`, with no charset parameter (tlog-witness)
                return Response(
                    f"{refusal.size}\n", 409, headers={"content-type": SIZE_CONTENT_TYPE}
                )
            return PlainTextResponse(f"{refusal}\n", refusal.status)
        except Exception:  # never a traceback, never a 500
            log.exception("add-checkpoint failed")
            return PlainTextResponse("the witness cannot answer now; retry later\n", 503)
        return Response("".join(lines), 200, media_type=_TEXT)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def index(_: Request) -> Response:
        return PlainTextResponse(config.key.verifier_key + "\n")

    app = Starlette(
        routes=[
            Route(ADD_CHECKPOINT_PATH, add, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/", index),
        ]
    )
    app.state.witness = config
    return app
