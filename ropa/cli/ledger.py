"""`ropa ledger export` and `ropa ledger verify` (LEDGER-SPEC §7, anchors §9), with progress
on a terminal."""

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
    tsa_cert: Annotated[
        list[Path] | None,
        typer.Option(
            "--tsa-cert",
            help="A TSA's root certificate (PEM) the anchors must chain to; repeatable.",
        ),
    ] = None,
    max_anchor_lag: Annotated[
        str | None,
        typer.Option(
            help="Fail entries whose ts is further than this from the genTime of their "
            "first anchor: seconds, 90s, 15m, 1h or ISO 8601 (PT1H). Needs --tsa-cert."
        ),
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(help="A witness's verifier key: check its cosignatures (repeatable)."),
    ] = None,
    quorum: Annotated[
        int | None,
        typer.Option(help="Distinct witnesses the newest cosigned checkpoint needs (all)."),
    ] = None,
) -> None:
    """Check every signature, the chain, the Merkle root, the checkpoint, the state and,
    when the bundle holds them, the anchors (RFC 3161 timestamps, docs/anchors.md); with
    --witness, the witnesses' cosignatures on the bundle's checkpoints (docs/witnesses.md)."""
    from ropa.domain.durations import to_seconds
    from ropa.ledger.timestamp import load_trusted
    from ropa.ledger.verify import verify_bundle
    from ropa.ledger.verify_witness import verify_witnesses

    if quorum is not None and not witness:
        fail("--quorum needs the witnesses' keys: give --witness VERIFIER_KEY")

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
        roots = [c for path in tsa_cert or [] for c in load_trusted(path)]
        lag = to_seconds(max_anchor_lag) if max_anchor_lag is not None else None
        if lag is not None and not roots:
            fail("--max-anchor-lag needs --tsa-cert: a genTime counts only once verified")
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
            tsa_roots=roots or None,
            max_anchor_lag=lag,
        )
        witnessed = None
        if witness:
            witnessed = verify_witnesses(
                bundle,
                report.origin,
                report.size,
                report.verifier_keys,
                witness,
                quorum,
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
    if witnessed is not None and witnessed.quorum_size is not None:
        names = ", ".join(witnessed.cosigned[witnessed.quorum_size])
        typer.echo(
            f"witnesses: checkpoint {witnessed.quorum_size} cosigned by {names} "
            f"(quorum {witnessed.quorum})"
        )
    if report.anchors is not None:
        for line in report.anchors.lines():
            typer.echo(line)
