"""`ropa anchor run`: stamp moved checkpoints with the configured TSAs (RFC 3161, spec §9).

The same loop `ropa serve` runs in the background, in the foreground with one line of
progress per pass; `--once` makes one pass and exits 1 if a TSA failed.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ropa.cli.common import fail, runtime
from ropa.config import Settings
from ropa.errors import RopaError

app = typer.Typer(no_args_is_help=True, help="Trusted timestamps of the ledgers (RFC 3161).")


def serving_line(settings: Settings) -> str:
    """What `ropa serve` says about anchors at start, in one line."""
    if not settings.tsas:
        return (
            "anchors: none configured — checkpoints get no trusted timestamp; "
            "set ROPA_TSA=name=URL=CERTFILE (docs/anchors.md)"
        )
    names = ", ".join(t.name for t in settings.tsas)
    return f"anchors: stamping moved checkpoints with {names} every {settings.anchor_interval:g}s"


@app.command()
def run(
    once: Annotated[bool, typer.Option(help="One pass, then exit (1 if a TSA failed).")] = False,
) -> None:
    """Stamp every organisation's moved checkpoint with each TSA, every interval."""
    from ropa.services.anchorer import Anchorer, Cycle

    rt = runtime()
    if not rt.settings.tsas:
        fail("no TSA configured: set ROPA_TSA=name=URL=CERTFILE (see docs/anchors.md)")
    try:
        anchorer = Anchorer(rt)
        if once:
            cycle = anchorer.run_once()
            typer.echo(cycle.line())
            if cycle.failed:
                raise typer.Exit(1)
            return
    except RopaError as exc:
        fail(str(exc))

    def show(cycle: Cycle) -> None:
        typer.echo(cycle.line())

    typer.echo(serving_line(rt.settings) + " (Ctrl-C stops)")
    try:
        anchorer.run(show)
    except KeyboardInterrupt:
        anchorer.stop()
