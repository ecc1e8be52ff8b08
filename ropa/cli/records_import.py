"""`ropa import`: an existing register brought in as signed ledger entries (Art. 30 records).

The file holds one change a line (JSON Lines): `{"op": "registerProcessor", "data": {...}}`
for a new record (optionally with `"newId"`), `{"op": "updateProcessor", "id": "...",
"data": {...}}` for a change. Each line passes the same rules as the use case it names and
becomes its own signed entry (LEDGER-SPEC §2); a batch of lines is one transaction with
one checkpoint. Every line is read and checked for its shape before anything is written.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from ropa.cli.common import fail, runtime, system_in
from ropa.errors import RopaError

if TYPE_CHECKING:
    from ropa.services.imports import Step


def import_records(
    file: Annotated[Path, typer.Argument(help="JSON Lines: one change a line.")],
    org: Annotated[str, typer.Option(help="Organisation slug.")],
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="Lines per transaction (one checkpoint each).")
    ] = 1000,
    from_line: Annotated[
        int, typer.Option(min=1, help="Start at this line (resume after a refused batch).")
    ] = 1,
) -> None:
    """Import changes from a JSON Lines file through the write path, in signed batches."""
    from ropa.services.imports import ImportFailure, import_lines

    # a first pass checks every line's shape; the import then reads the file again, so a
    # file of millions of lines is never held in memory
    total = sum(1 for _ in _steps(file, from_line))
    if not total:
        fail(f"{file} holds no change to import (one JSON object per line)")
    rt = runtime()
    tty = sys.stderr.isatty()

    def progress(done: int) -> None:
        if tty:
            sys.stderr.write(f"\rimported {done}/{total} lines")
            sys.stderr.flush()

    try:
        principal = system_in(rt, org)
        steps = _steps(file, from_line)
        written = import_lines(rt, principal, steps, batch=batch, progress=progress)
    except ImportFailure as exc:
        if tty:
            sys.stderr.write("\n")
        fail(
            f"{file}:{exc.line}: {exc.cause}; nothing from line {exc.first} on was imported "
            f"({exc.imported} lines before it were): fix the line and run again with "
            f"--from-line {exc.first}"
        )
    except RopaError as exc:
        fail(str(exc))
    if tty:
        sys.stderr.write("\n")
    typer.echo(f"imported {total} lines into {org}: {written} ledger entries")


def _steps(file: Path, from_line: int) -> Iterator[tuple[int, Step]]:
    """The file's changes from `from_line` on, numbered; a bad line ends the command."""
    from ropa.services.imports import step_from_json

    try:
        with file.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if number < from_line or not line.strip():
                    continue
                try:
                    yield number, step_from_json(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    fail(f"{file}:{number}: not JSON ({exc.msg}); fix the line and run again")
                except RopaError as exc:
                    fail(f"{file}:{number}: {exc}; fix the line and run again")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
