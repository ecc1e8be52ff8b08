"""Request body size: refused with 413 past `max_body_bytes`, whatever Content-Length says.

A declared length over the limit is refused before reading; a body that streams past it
(chunked, or lying about its length) is cut off as soon as it does.
"""

from __future__ import annotations

from typing import Any

from ropa.api.limits.error import CODE, send_error

ASGIApp = Any


class BodySizeLimit:
    def __init__(self, app: ASGIApp, maximum: int) -> None:
        self.app = app
        self.maximum = maximum

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.maximum):
            await self._refuse(send)
            return
        # read the whole (bounded) body here, then replay it to the app
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.maximum:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            message: dict[str, Any] = await receive()
            return message

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any) -> None:
        await send_error(
            send, 413, CODE,
            f"The request body is larger than {self.maximum} bytes (request size limit).",
            limit={"name": "bodySize", "max": self.maximum},
        )
