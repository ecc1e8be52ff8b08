"""`ropa export ropa`: the record of processing activities as XLSX, CSV or JSON (Art. 30).

The file states the ledger checkpoint it was taken at (docs/exports.md), so it can be
checked against an exported ledger bundle.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ropa.cli.common import fail, runtime, system_in
from ropa.errors import RopaError

app = typer.Typer(no_args_is_help=True, help="Export the records for a DPO or an authority.")


@app.command("ropa")
def export_ropa(
    org: Annotated[str, typer.Option(help="Organisation slug.")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx, csv or json.")] = "xlsx",
    as_of: Annotated[
        str | None, typer.Option(help="The records as they stood then (instant or date).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="The file to write (default: stdout).")] = None,
    table: Annotated[
        str, typer.Option(help="For CSV: the controller (Art. 30(1)) or processor table.")
    ] = "controller",
) -> None:
    """Write the organisation's ROPA in the ICO template's columns, with its checkpoint."""
    from ropa.services import ropa_export

    try:
        chosen = ropa_export.Format(fmt.lower())
        which = ropa_export.Table(table.lower())
    except ValueError:
        fail("--format is xlsx, csv or json; --table is controller or processor")
    if out is None and chosen is ropa_export.Format.XLSX and sys.stdout.isatty():
        fail("an XLSX file is binary: give --out FILE (or redirect stdout)")
    rt = runtime()
    try:
        principal = system_in(rt, org)
        when = ropa_export.parse_as_of(as_of, "--as-of") if as_of else None
        export = ropa_export.take(rt, principal, org, when)
        data = ropa_export.render(export, chosen, which)
    except RopaError as exc:
        fail(str(exc))
    finally:
        rt.db.dispose()
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    out.write_bytes(data)
    cp = export.checkpoint
    typer.echo(
        f"wrote {out}: {len(export.controller)} controller and {len(export.processor)} "
        f"processor records at ledger size {cp.size}, root {cp.root_hash}",
        err=True,
    )
