"""What the CLI commands share: settings, the runtime, failing with a useful message."""

from __future__ import annotations

from contextvars import ContextVar
from typing import NoReturn

import typer

from ropa.config import Settings
from ropa.errors import ConfigurationError, NotFoundError
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.reads import open_view
from ropa.services.runtime import Runtime

# the invocation's context, set by the top-level callback (ropa.cli.main)
INVOCATION: ContextVar[typer.Context | None] = ContextVar("invocation", default=None)


def runtime() -> Runtime:
    """The runtime of this invocation; its connections close when the command ends."""
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        fail(str(exc))
    rt = Runtime(settings)
    ctx = INVOCATION.get()
    if ctx is not None:
        ctx.call_on_close(rt.db.dispose)
    return rt


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def system_in(rt: Runtime, slug: str) -> Principal:
    """The system (CLI) acting in organisation `slug`."""
    try:
        view, _ = open_view(rt, SYSTEM_PRINCIPAL, slug)
    except NotFoundError:
        fail(f"no organisation {slug!r}: create it with `ropa org create` or `ropa demo load`")
    return Principal(SYSTEM_PRINCIPAL.actor, view.org_id)
