"""`ropa serve`: the GraphQL service, and with `--demo` the demo organisations and a token.

The port is bound before anything else happens, so a busy port is one line and no
database, key or token is made for a start that cannot serve. What a person needs (the
address, the demo token and the GraphiQL link carrying it) is printed only once the
service answers on the bound socket.

The demo's DPO token is named `demo` and expires after `DEMO_TOKEN_DAYS`; as tokens are
stored hashed, its secret is kept beside the signing key (`.ropa/demo-token`, mode 0600)
and reused while it is valid, and older demo tokens are revoked when a new one is issued.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from ropa.cli.common import fail, runtime, system_in
from ropa.errors import RopaError, UnauthenticatedError
from ropa.services.runtime import Runtime

DEMO_SLUG = "qualer"
DEMO_SLUGS = ("qualer", "qwiqi", "webengage", "qiscus", "qwasi")
DEMO_TOKEN_NAME = "demo"  # noqa: S105  (a token's name, not a secret)
DEMO_TOKEN_DAYS = 30
# a kept token with less than this left is replaced rather than shown
DEMO_TOKEN_MIN_LEFT = timedelta(days=1)
# token names older demo runs used: revoked when a new demo token is issued
_OLD_DEMO_NAMES = frozenset({DEMO_TOKEN_NAME, "demo dashboard"})


def serve(
    demo: Annotated[
        bool, typer.Option(help="Load the demo organisations and print a token.")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the GraphQL service (GraphiQL at /graphql)."""
    from ropa.store.migrate import schema_problem, upgrade

    sock = bind(host, port)
    rt = runtime(ready=False)
    lines: list[str] = []
    try:
        if rt.settings.tsas:
            from ropa.services.anchorer import load_tsas

            load_tsas(rt.settings.tsas)  # an unreadable TSA certificate: one line, now
        if rt.db.is_sqlite:
            upgrade(rt.db)  # the embedded database migrates itself
        problem = schema_problem(rt.db)
        if problem is not None:
            if demo:
                fail(problem)
            typer.echo(
                f"warning: {problem}; until then every request answers SERVICE_UNAVAILABLE",
                err=True,
            )
        if demo:
            lines = _prepare_demo(rt, _public_url(host, port))
        elif not rt.has_signing_key():
            typer.echo(
                "warning: no signing key, so writes are refused; run `ropa keys init`", err=True
            )
    except RopaError as exc:
        sock.close()
        fail(str(exc))
    if not lines and workers > 1:
        lines = [
            f"ropa is starting {workers} workers for {_public_url(host, port)} "
            "(/readyz answers once they serve)"
        ]
    elif not lines:
        lines = [f"ropa is serving GraphQL and GraphiQL at {_public_url(host, port)}"]
    if not demo:
        from ropa.cli.anchor import serving_line
        from ropa.services import witnessing

        lines += [serving_line(rt.settings), witnessing.serving_line(rt)]
    _run(rt, sock, host, port, workers, lambda: _say(lines))


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or a one-line failure naming what to do."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host!r}: {exc.strerror}; pass --host with an address")
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(f"port {port} is in use: stop the other process or pass --port N")
        if exc.errno == errno.EACCES:
            fail(f"port {port} needs privileges: pass --port N with N above 1023")
        fail(f"cannot listen on {host}:{port}: {exc.strerror}")
    sock.set_inheritable(True)
    return sock


def _public_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/graphql"


def _say(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


def _run(
    rt: Runtime,
    sock: socket.socket,
    host: str,
    port: int,
    workers: int,
    on_serving: Callable[[], None],
) -> None:
    import gc
    import sys

    import uvicorn

    from ropa.observability import logging_config

    # CPU work runs in worker threads (parsing, validation, planning): hand the GIL back to
    # the event loop every millisecond instead of every 5, so health checks and small
    # requests are answered promptly while a large document is validated
    sys.setswitchinterval(0.001)
    logs = logging_config()  # JSON lines with the request id; never a header or a body
    if workers > 1:
        # the workers bind for themselves: the port was free a moment ago (`bind`)
        sock.close()
        on_serving()
        uvicorn.run(
            "ropa.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            timeout_graceful_shutdown=30,
            log_config=logs,
        )
        return

    from ropa.app import create_app

    app = create_app(rt)
    # what lives as long as the process (schema, app, modules) is never scanned again by
    # the garbage collector: its pauses stay short while large requests are answered
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=30,
        log_config=logs,
    )
    _announcing_server(config, on_serving).run(sockets=[sock])


def _announcing_server(config: Any, on_serving: Callable[[], None]) -> Any:
    """uvicorn's server, calling `on_serving` once it accepts connections."""
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and not self.should_exit:
                on_serving()

    return AnnouncingServer(config)


def _prepare_demo(rt: Runtime, url: str) -> list[str]:
    """Key, demo data and token; returns the lines to print once the service is up."""
    from ropa.demo.loader import load_demo
    from ropa.services.signing_keys import init_key_file

    if not rt.settings.key_env and not rt.settings.key_file.exists():
        key = init_key_file(rt.settings.key_file, rt.settings.ledger_prefix)
        typer.echo(f"created signing key {key.name} in {rt.settings.key_file} (mode 0600)")
    load_demo(rt, progress=lambda slug: typer.echo(f"loaded demo organisation {slug}"))
    secret, expires, kept = demo_token(rt)
    return [
        f"ropa demo is serving {url} (database {rt.db.where})",
        f"Open GraphiQL as {DEMO_SLUG}'s DPO: {url}#token={secret}",
        f"DPO token for {DEMO_SLUG} (valid until {expires[:10]}, kept in {kept}): {secret}",
        f"Demo organisations: {', '.join(DEMO_SLUGS)}",
        "Anchors (trusted timestamps, witnesses) are not configured in the demo, so its "
        "backdated history is unanchored.",
        f'Try: {{ organization(slug: "{DEMO_SLUG}") {{ name findings {{ code message }} }} }}',
        "Stop with Ctrl-C.",
    ]


def demo_token(rt: Runtime) -> tuple[str, str, Path]:
    """The demo DPO token of `qualer`: (secret, expiry, file it is kept in).

    Reuses the kept secret while it authenticates as qualer's DPO with at least a day
    left; otherwise issues a new one, keeps it (mode 0600) and revokes older demo tokens.
    """
    from ropa.ledger.canonical import format_ts
    from ropa.services import tokens

    principal = system_in(rt, DEMO_SLUG)
    org_id = principal.org_id or ""
    kept = rt.settings.key_file.parent / "demo-token"
    soon = format_ts(datetime.now(UTC) + DEMO_TOKEN_MIN_LEFT)
    if kept.is_file():
        secret = kept.read_text(encoding="utf-8").strip()
        try:
            found = tokens.authenticate(rt, f"Bearer {secret}")
        except UnauthenticatedError:
            found = None
        if found is not None and found.org_id == org_id and found.role == "DPO":
            mine = [
                t for t in tokens.list_tokens(rt, principal, org_id) if t["id"] == found.actor.id
            ]
            expires = mine[0]["expiresAt"] if mine else None
            if expires is not None and expires > soon:
                return secret, expires, kept
    expires = format_ts(datetime.now(UTC) + timedelta(days=DEMO_TOKEN_DAYS))
    older = [
        t["id"]
        for t in tokens.list_tokens(rt, principal, org_id)
        if t["name"] in _OLD_DEMO_NAMES and not t["revokedAt"]
    ]
    issued = tokens.create_token(rt, principal, org_id, "DPO", DEMO_TOKEN_NAME, expires)
    _keep(kept, issued.secret)
    for token_id in older:
        tokens.revoke_token(rt, principal, org_id, token_id)
    return issued.secret, expires, kept


def _keep(path: Path, secret: str) -> None:
    """Write `secret` to `path`, readable by its owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")
    os.chmod(staged, 0o600)
    os.replace(staged, path)
