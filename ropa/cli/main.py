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

from ropa.cli import anchor as anchor_cli
from ropa.cli import export as export_cli
from ropa.cli import keys as keys_cli
from ropa.cli import ledger as ledger_cli
from ropa.cli import notice as notice_cli
from ropa.cli import records_import
from ropa.cli import serve as serve_cli
from ropa.cli import witness as witness_cli
from ropa.cli.common import INVOCATION, RopaTyper, fail, runtime, system_in
from ropa.errors import NotFoundError, RopaError

app = RopaTyper(
    name="ropa",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="GDPR records of processing activities over GraphQL, with a signed ledger.",
)
app.add_typer(keys_cli.app, name="keys")
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(export_cli.app, name="export")
app.add_typer(anchor_cli.app, name="anchor")
app.add_typer(witness_cli.app, name="witness")
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

    rt = runtime(ready=False)
    with _errors():
        applied = upgrade(rt.db)
    if applied:
        typer.echo(
            f"applied {len(applied)} migration{'s' if len(applied) > 1 else ''}: "
            f"{', '.join(applied)}; {rt.db.where} is up to date"
        )
    else:
        typer.echo(f"{rt.db.where} is already up to date: no migration applied")


app.command()(serve_cli.serve)
app.command("import")(records_import.import_records)


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
        str | None,
        typer.Option(help="Expiry: an RFC 3339 instant (2027-01-01T00:00:00Z) or a date."),
    ] = None,
) -> None:
    """Issue a token; it is printed once and only its hash is stored."""
    from ropa.domain.instants import format_instant, read_instant
    from ropa.services import tokens

    try:
        expires = None if expires_at is None else format_instant(read_instant(expires_at))
    except ValueError as exc:
        fail(f"--expires-at: {exc}")
    rt = runtime()
    with _errors():
        principal = system_in(rt, org)
        issued = tokens.create_token(
            rt, principal, principal.org_id or "", role.upper(), name, expires
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
                f"expires {t['expiresAt'] or 'never'}  last used {t['lastUsedAt'] or 'never'}"
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
        try:
            tokens.revoke_token(rt, principal, principal.org_id or "", token_id)
        except NotFoundError:
            fail(f"{org} has no token {token_id}: `ropa token list --org {org}` lists them")
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


@app.command("access-table")
def access_table() -> None:
    """Print the role table of docs/security.md, as the code enforces it."""
    from ropa.services.access import markdown_table

    typer.echo(markdown_table(), nl=False)


@app.command("export-schema")
def export_schema(
    out: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path(
        "graphql/schema.graphql"
    ),
) -> None:
    """Write the GraphQL schema (SDL) exported from the code."""
    from ropa.api.sdl import schema_sdl

    if not out.parent.is_dir():
        fail(f"no folder {out.parent.resolve()}: run from the repository or pass --out FILE")
    out.write_text(schema_sdl(), encoding="utf-8")
    typer.echo(f"wrote {out}")


def main(argv: list[str] | None = None) -> Callable[..., Any]:
    return app(args=argv if argv is not None else sys.argv[1:])  # type: ignore[no-any-return]
