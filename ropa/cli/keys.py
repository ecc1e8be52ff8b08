"""`ropa keys`: create, show and rotate the ledger signing key (LEDGER-SPEC §4)."""

from __future__ import annotations

from typing import Annotated

import typer

from ropa.cli.common import fail, runtime
from ropa.errors import RopaError

app = typer.Typer(no_args_is_help=True, help="The ledger's signing key.")


@app.command()
def init(
    name: Annotated[
        str | None, typer.Option(help="Key name (default <prefix>-<yyyymmdd>).")
    ] = None,
) -> None:
    """Create a signing key file (mode 0600) at ROPA_SIGNING_KEY_FILE."""
    from ropa.services.signing_keys import init_key_file

    rt = runtime(ready=False)
    try:
        key = init_key_file(rt.settings.key_file, rt.settings.ledger_prefix, name)
    except RopaError as exc:
        fail(str(exc))
    typer.echo(f"created {rt.settings.key_file} (mode 0600); verifier key:")
    typer.echo(key.verifier_key)


@app.command()
def show() -> None:
    """Print the verifier key (public) of the signing key in use."""
    rt = runtime(ready=False)
    try:
        typer.echo(rt.signing_key().verifier_key)
    except RopaError as exc:
        fail(str(exc))


@app.command()
def rotate(
    name: Annotated[str | None, typer.Option(help="Name of the new key.")] = None,
) -> None:
    """Rotate to a new key: every ledger records the new verifier key, signed by the old."""
    from ropa.services.access import SYSTEM_PRINCIPAL
    from ropa.services.signing_keys import rotate as rotate_key

    rt = runtime()
    try:
        receipts = rotate_key(rt, SYSTEM_PRINCIPAL, name)
    except RopaError as exc:
        fail(str(exc))
    typer.echo(f"rotated {len(receipts)} ledgers; new key in {rt.settings.key_file}")
    if rt.settings.key_env:
        typer.echo(
            f"ROPA_SIGNING_KEY is set: replace it with the contents of {rt.settings.key_file}"
        )
    typer.echo(rt.signing_key().verifier_key)
