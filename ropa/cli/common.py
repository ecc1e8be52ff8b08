"""What the CLI commands share: settings, the runtime, failing with a useful message.

A failure is one line on stderr that says what to do, and exit status 1: the commands
fail with `fail()`, and `RopaTyper` turns anything unforeseen into such a line too
(`ROPA_DEBUG=1` shows the traceback instead).
"""

from __future__ import annotations

import os
import sys
from contextvars import ContextVar
from typing import Any, NoReturn

import typer
from sqlalchemy.exc import DBAPIError

from ropa.config import Settings
from ropa.errors import ConfigurationError, NotFoundError, RopaError
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.reads import open_view
from ropa.services.runtime import Runtime
from ropa.store.migrate import schema_problem

# the invocation's context, set by the top-level callback (ropa.cli.main)
INVOCATION: ContextVar[typer.Context | None] = ContextVar("invocation", default=None)


def runtime(*, ready: bool = True) -> Runtime:
    """The runtime of this invocation; its connections close when the command ends.

    With `ready` (every command but `migrate`, `serve` and the key file commands), a
    database that is missing or not migrated ends the command with a line saying so,
    before anything is read or written; a missing SQLite file is never created.
    """
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        fail(str(exc))
    rt = Runtime(settings)
    ctx = INVOCATION.get()
    if ctx is not None:
        ctx.call_on_close(rt.db.dispose)
    if ready:
        problem = schema_problem(rt.db)
        if problem is not None:
            rt.db.dispose()
            fail(problem)
    return rt


def fail(message: str) -> NoReturn:
    first = " ".join(message.split())  # always one line
    typer.echo(f"error: {first}", err=True)
    raise typer.Exit(1)


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only (a database error carries its SQL below)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class RopaTyper(typer.Typer):
    """A Typer app whose unforeseen failures are one line on stderr, never a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except KeyboardInterrupt:
            sys.stderr.write("error: interrupted\n")
            raise SystemExit(130) from None
        except RopaError as exc:
            sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")
            raise SystemExit(1) from None
        except DBAPIError as exc:
            _fail_unforeseen(
                exc,
                f"the database refused: {first_line(exc)}; check ROPA_DATABASE_URL, "
                "that the database is running, and `ropa migrate`",
            )
        except OSError as exc:
            _fail_unforeseen(exc, first_line(exc))
        except Exception as exc:  # noqa: BLE001  (re-raised under ROPA_DEBUG, else one line)
            _fail_unforeseen(
                exc,
                f"unexpected {type(exc).__name__}: {first_line(exc)} "
                "(ROPA_DEBUG=1 shows the traceback; please report it)",
            )


def _fail_unforeseen(exc: BaseException, message: str) -> NoReturn:
    """One line on stderr and exit 1; with ROPA_DEBUG set, the traceback instead."""
    if os.environ.get("ROPA_DEBUG"):
        raise exc
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(1) from None


def system_in(rt: Runtime, slug: str) -> Principal:
    """The system (CLI) acting in organisation `slug`."""
    try:
        view, _ = open_view(rt, SYSTEM_PRINCIPAL, slug)
    except NotFoundError:
        fail(f"no organisation {slug!r}: create it with `ropa org create` or `ropa demo load`")
    return Principal(SYSTEM_PRINCIPAL.actor, view.org_id)
