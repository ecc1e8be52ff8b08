"""`ropa witness`: run a C2SP tlog-witness for ropa ledgers (or any Ed25519 checkpoint log).

    ropa witness keygen --name auditor.example/w1 --out witness.key
    ropa witness serve --key-file witness.key --logs-file logs.txt --database URL

The logs file (or repeated `--log`) holds `<origin> <log verifier key>` per line; see
docs/witnesses.md. The private key stays in its file (mode 0600): never logged, never
in the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ropa.cli.common import fail
from ropa.errors import RopaError

app = typer.Typer(no_args_is_help=True, help="Run a witness that cosigns ledger checkpoints.")


@app.command()
def keygen(
    name: Annotated[str, typer.Option(help="The witness name, e.g. auditor.example/w1.")],
    out: Annotated[Path, typer.Option(help="A new file for the private key (mode 0600).")],
) -> None:
    """Create a witness key; prints its verifier key, for the logs that will use it."""
    from ropa.ledger.cosignature import CosigningKey

    try:
        key = CosigningKey.generate(name)
    except ValueError as exc:
        fail(str(exc))
    try:
        key.write_to_file(out)
    except FileExistsError:
        fail(f"{out} already exists; choose another path (a key is never overwritten)")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}")
    typer.echo(f"created {out} (mode 0600); witness verifier key:")
    typer.echo(key.verifier_key)


@app.command()
def serve(
    key_file: Annotated[
        Path, typer.Option(envvar="ROPA_WITNESS_KEY_FILE", help="The witness's private key.")
    ],
    database: Annotated[
        str,
        typer.Option(envvar="ROPA_WITNESS_DATABASE_URL", help="Where the witness keeps state."),
    ] = "sqlite:///witness.db",
    logs_file: Annotated[
        Path | None,
        typer.Option(envvar="ROPA_WITNESS_LOGS_FILE", help="`<origin> <verifier key>` lines."),
    ] = None,
    log: Annotated[
        list[str] | None, typer.Option(help="A trusted log: '<origin> <verifier key>'.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8010,
) -> None:
    """Answer add-checkpoint requests (C2SP tlog-witness) for the configured logs."""
    import uvicorn

    from ropa.ledger.cosignature import CosigningKey
    from ropa.observability import logging_config
    from ropa.services.witness import WitnessConfig, load_logs, parse_logs
    from ropa.store.database import Database
    from ropa.store.migrate import is_current, upgrade
    from ropa.witness_app import create_witness_app

    db = Database(database)
    try:
        key = CosigningKey.load_from_file(key_file)
        logs = load_logs(logs_file) if logs_file else {}
        for origin, keys in parse_logs(log or []).items():
            logs[origin] = logs.get(origin, ()) + keys
        if not logs:
            fail("no log to witness: give --logs-file or --log '<origin> <verifier key>'")
        if db.is_sqlite:
            upgrade(db)  # the embedded database migrates itself
        elif not is_current(db):
            fail(
                "the witness database is not migrated: "
                "run `ROPA_DATABASE_URL=<its URL> ropa migrate`"
            )
    except RopaError as exc:
        fail(str(exc))
    typer.echo(f"witness {key.name}: {key.verifier_key}")
    typer.echo(f"witnessing {len(logs)} logs on http://{host}:{port}/add-checkpoint")
    uvicorn.run(
        create_witness_app(db, WitnessConfig(key, logs)),
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=10,
        timeout_keep_alive=5,
        log_config=logging_config(),
    )
