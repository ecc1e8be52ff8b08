"""The `ropa` command: serve, migrate, demo data, tokens, organisations, schema export.

Ledger and key commands live in `ropa.cli.ledger` and `ropa.cli.keys`. Every command
reads its settings from the environment (`ROPA_DATABASE_URL`, `ROPA_SIGNING_KEY_FILE`,
...); errors the user can fix end with exit status 1 and a line that says what to do.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ropa.cli import export as export_cli
from ropa.cli import keys as keys_cli
from ropa.cli import ledger as ledger_cli
from ropa.cli import notice as notice_cli
from ropa.cli.common import INVOCATION, fail, runtime, system_in
from ropa.errors import RopaError

app = typer.Typer(
    name="ropa",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="GDPR records of processing activities over GraphQL, with a signed ledger.",
)
app.add_typer(keys_cli.app, name="keys")
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(export_cli.app, name="export")
app.add_typer(notice_cli.app, name="notice")
token_app = typer.Typer(no_args_is_help=True, help="API tokens (shown once, stored as hashes).")
app.add_typer(token_app, name="token")
demo_app = typer.Typer(no_args_is_help=True, help="The demo organisations.")
app.add_typer(demo_app, name="demo")
org_app = typer.Typer(no_args_is_help=True, help="Organisations (tenants).")
app.add_typer(org_app, name="org")


@app.callback()
def _invocation(ctx: typer.Context) -> None:
    """GDPR records of processing activities over GraphQL, with a signed ledger."""
    INVOCATION.set(ctx)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except RopaError as exc:
        fail(str(exc))


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic migrations)."""
    from ropa.store.migrate import upgrade

    rt = runtime()
    with _errors():
        upgrade(rt.db)
    typer.echo(f"database is at the newest schema ({rt.db.dialect})")


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option(help="Load the demo organisations and print a token.")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the GraphQL service (GraphiQL at /graphql)."""
    import uvicorn

    from ropa.services import tokens
    from ropa.store.migrate import upgrade

    rt = runtime()
    with _errors():
        if rt.db.is_sqlite:
            upgrade(rt.db)  # the embedded database migrates itself
        if demo:
            _ensure_key(rt)
            _load_demo(rt)
            principal = system_in(rt, "qualer")
            issued = tokens.create_token(
                rt, principal, principal.org_id or "", "DPO", "demo dashboard"
            )
        elif not rt.has_signing_key():
            typer.echo(
                "warning: no signing key, so writes are refused; run `ropa keys init`", err=True
            )
    url = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}/graphql"  # noqa: S104
    typer.echo(f"GraphiQL: {url}")
    if demo:
        typer.echo("Demo organisations: qualer, qwiqi, webengage, qiscus, qwasi")
        typer.echo(f"DPO token for qualer: {issued.secret}")
        typer.echo(f'In GraphiQL\'s Headers tab: {{"Authorization": "Bearer {issued.secret}"}}')
        typer.echo('Try: { organization(slug: "qualer") { name findings { code message } } }')
    from ropa.observability import logging_config

    logs = logging_config()  # JSON lines with the request id; never a header or a body
    if workers > 1:
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
    else:
        from ropa.app import create_app

        uvicorn.run(
            create_app(rt),
            host=host,
            port=port,
            log_level="info",
            timeout_graceful_shutdown=30,
            log_config=logs,
        )


def _ensure_key(rt: Any) -> None:
    from ropa.services.signing_keys import init_key_file

    if rt.settings.key_env or rt.settings.key_file.exists():
        return
    key = init_key_file(rt.settings.key_file, rt.settings.ledger_prefix)
    typer.echo(f"created signing key {key.name} in {rt.settings.key_file} (mode 0600)")


def _load_demo(rt: Any) -> None:
    from ropa.demo.loader import load_demo

    def said(slug: str) -> None:
        typer.echo(f"loaded demo organisation {slug}")

    load_demo(rt, progress=said)


@demo_app.command("load")
def demo_load() -> None:
    """Load the five demo organisations through the write path (skips loaded ones)."""
    rt = runtime()
    with _errors():
        _load_demo(rt)
    typer.echo("demo organisations are loaded")


@token_app.command("create")
def token_create(
    org: Annotated[str, typer.Option(help="Organisation slug.")],
    role: Annotated[str, typer.Option(help="VIEWER, AUDITOR, EDITOR, DPO or ADMIN.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    expires_at: Annotated[
        str | None, typer.Option(help="Expiry instant, e.g. 2027-01-01T00:00:00.000000Z.")
    ] = None,
) -> None:
    """Issue a token; it is printed once and only its hash is stored."""
    from ropa.services import tokens

    rt = runtime()
    with _errors():
        principal = system_in(rt, org)
        issued = tokens.create_token(
            rt, principal, principal.org_id or "", role.upper(), name, expires_at
        )
    typer.echo(issued.secret)
    typer.echo(f"(role {role.upper()} in {org}; shown once, keep it safe)", err=True)


@token_app.command("list")
def token_list(org: Annotated[str, typer.Option(help="Organisation slug.")]) -> None:
    """List an organisation's tokens (never their secrets)."""
    from ropa.services import tokens

    rt = runtime()
    with _errors():
        principal = system_in(rt, org)
        for t in tokens.list_tokens(rt, principal, principal.org_id or ""):
            status = "revoked" if t["revokedAt"] else "active"
            typer.echo(
                f"{t['id']}  {t['role']:8} {status:8} {t['name']}  "
                f"last used {t['lastUsedAt'] or 'never'}"
            )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `ropa token list`).")],
    org: Annotated[str, typer.Option(help="Organisation slug.")],
) -> None:
    """Revoke a token; it stops working at once."""
    from ropa.services import tokens

    rt = runtime()
    with _errors():
        principal = system_in(rt, org)
        tokens.revoke_token(rt, principal, principal.org_id or "", token_id)
    typer.echo(f"revoked {token_id}")


@org_app.command("create")
def org_create(
    slug: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code of establishment.")],
    role: Annotated[list[str], typer.Option(help="CONTROLLER and/or PROCESSOR.")] = ["CONTROLLER"],  # noqa: B006
    contact_email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an organisation, and with it its ledger."""
    from ropa.services import organizations
    from ropa.services.access import SYSTEM_PRINCIPAL

    rt = runtime()
    with _errors():
        change = organizations.create_organization(
            rt,
            SYSTEM_PRINCIPAL,
            {
                "slug": slug,
                "name": name,
                "country": country.upper(),
                "roles": [r.upper() for r in role],
                "contactEmail": contact_email,
            },
        )
    assert change.state is not None
    typer.echo(f"created {slug} ({change.state['id']})")


@app.command("export-schema")
def export_schema(
    out: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path(
        "graphql/schema.graphql"
    ),
) -> None:
    """Write the GraphQL schema (SDL) exported from the code."""
    from ropa.api.sdl import schema_sdl

    out.write_text(schema_sdl(), encoding="utf-8")
    typer.echo(f"wrote {out}")


def main(argv: list[str] | None = None) -> Callable[..., Any]:
    return app(args=argv if argv is not None else sys.argv[1:])  # type: ignore[no-any-return]
