"""A small load driver for one fixed request: N keep-alive connections, raw HTTP/1.1.

    rate = requests_per_second(url, body, headers, connections=8, seconds=3)

One Python client with httpx spends more time on each request than the server does on a
304, so it measures itself. Here the request's bytes are built once and each connection
(one asyncio task on a raw socket) writes them, reads the status line and headers, skips
`Content-Length` bytes of body, and goes again; no pipelining. Every answer must have the
expected status, or the run stops with an error.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import orjson


def request_bytes(url: str, body: dict[str, Any], headers: dict[str, str]) -> bytes:
    """One POST of `body` as JSON to `url`, keep-alive, as sent on the wire (with httpx's
    `Accept: */*` unless `headers` say otherwise: the same answer, the same ETag)."""
    parts = urlsplit(url)
    payload = orjson.dumps(body)
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        *(f"{name}: {value}" for name, value in {"Accept": "*/*", **headers}.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


async def _connection(
    host: str, port: int, request: bytes, status: int, deadline: float, counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    wanted = f" {status} ".encode()
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            first, _, rest = head.partition(b"\r\n")
            if wanted not in first:
                raise RuntimeError(f"expected {status}, got {first.decode('latin-1')!r}")
            length = 0
            for line in rest.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            counts.append(1)
    finally:
        writer.close()


async def _run(url: str, request: bytes, status: int, connections: int, seconds: float) -> float:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    counts: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(
        _connection(host, port, request, status, deadline, counts) for _ in range(connections)
    ))
    return len(counts) / (time.perf_counter() - started)


def requests_per_second(
    url: str, body: dict[str, Any], headers: dict[str, str], *, status: int = 200,
    connections: int = 8, seconds: float = 3.0,
) -> float:
    """Answers per second to the same POST over `connections` keep-alive connections."""
    request = request_bytes(url, body, headers)
    return asyncio.run(_run(url, request, status, connections, seconds))
