"""`ropa ledger export` and `ropa ledger verify` (LEDGER-SPEC §7), with progress on a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ropa.cli.common import fail, runtime, system_in
from ropa.errors import RopaError, VerificationError

_BUNDLE_FILES = ("entries.jsonl", "signatures.jsonl", "checkpoint")

app = typer.Typer(no_args_is_help=True, help="Export and verify signed ledgers.")


def _progress(label: str):  # type: ignore[no-untyped-def]
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int | None = None) -> None:
        tail = f"/{total}" if total else ""
        sys.stderr.write(f"\r{label}: {done}{tail} entries")
        sys.stderr.flush()

    return show


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="A new directory for the bundle.")],
    org: Annotated[str, typer.Option(help="Organisation slug.")],
) -> None:
    """Write the organisation's ledger as an offline bundle an auditor can verify."""
    from ropa.services.ledger_export import write_bundle
    from ropa.services.reads import view_of

    rt = runtime()
    try:
        principal = system_in(rt, org)
        view = view_of(rt, principal, principal.org_id or "")
        write_bundle(rt.db, view, out, _progress("exported"))
    except (RopaError, FileExistsError) as exc:
        fail(str(exc))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    typer.echo(f"exported {view.size} entries to {out}")


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="The exported bundle directory.")],
    key: Annotated[str, typer.Option(help="The first verifier key, from a trusted source.")],
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="A checkpoint kept from before: prove the ledger extends it."),
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Compare the replay with this live database.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Processes for signatures.")] = None,
) -> None:
    """Check every signature, the chain, the Merkle root, the checkpoint and the state."""
    from ropa.ledger.verify import verify_bundle

    live = None
    if not bundle.is_dir():
        fail(
            f"no ledger bundle at {bundle.resolve()}: give the directory `ropa ledger export` wrote"
        )
    if not any((bundle / name).exists() for name in _BUNDLE_FILES):
        fail(
            f"{bundle.resolve()} is not a ledger bundle (it has no entries.jsonl, "
            "signatures.jsonl or checkpoint):"
            " give the directory `ropa ledger export` wrote"
        )
    kept = None
    if checkpoint is not None:
        try:
            kept = checkpoint.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            fail(f"cannot read the kept checkpoint {checkpoint.resolve()}: {reason}")
    try:
        if database:
            from ropa.ledger.checkpoint import parse_checkpoint
            from ropa.ledger.note import parse_note
            from ropa.services.ledger_export import database_state

            found = bundle / "checkpoint"
            if not found.is_file():
                fail(f"{bundle.resolve()} is not a ledger bundle: it has no checkpoint file")
            text, _ = parse_note(found.read_bytes())
            cp = parse_checkpoint(text)
            live = database_state(database, cp.origin, cp.size)
        progress = _progress("verified")
        report = verify_bundle(
            bundle,
            key,
            kept_checkpoint=kept,
            live_state=live,
            workers=workers,
            progress=(lambda n: progress(n)) if progress else None,
        )
    except VerificationError as exc:
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        typer.echo(f"FAILED: {exc}", err=True)
        raise typer.Exit(1) from None
    except (RopaError, OSError, ValueError) as exc:
        fail(str(exc))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    typer.echo(f"OK: {report.size} entries verified, root {report.root.hex()}")
    if report.kept_checkpoint_size is not None:
        typer.echo(
            f"OK: the ledger extends the kept checkpoint of size {report.kept_checkpoint_size}"
            " (consistency proof checked)"
        )
    if report.live_state_checked:
        typer.echo("OK: the live database holds what the entries replay to")
