"""`ropa notice analyze`: what a privacy notice discloses (GDPR Art. 13/14), without a server.

Reads a notice file, runs `ropa.notices.analyze` and prints the result: `--format json`
is the analyser's JSON exactly (indented, UTF-8, keys in the documented order), `--format
text` a report that quotes each piece of evidence in its context. The media type is taken
from the file's extension (`.html`/`.htm`, `.md`/`.markdown`, anything else plain text)
unless `--media-type` says otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

app = typer.Typer(no_args_is_help=True, help="Privacy notices (Art. 13/14).")

_BY_SUFFIX = {".html": "text/html", ".htm": "text/html", ".md": "text/markdown",
              ".markdown": "text/markdown"}  # fmt: skip
_LABELS = {
    "thirdParties": "Named third parties (recipients)",
    "countries": "Countries where data is stored, processed or sent",
    "regions": "Regions",
    "dataCategories": "Data categories",
    "dataUses": "Data uses (purposes)",
    "legalBases": "Lawful bases (Art. 6(1))",
    "transferMechanisms": "Transfer mechanisms (Chapter V)",
    "retention": "Retention periods",
    "contacts": "Contacts",
}


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@app.command("analyze")
def analyze_notice(
    file: Annotated[Path, typer.Argument(help="The notice: plain text, Markdown or HTML.")],
    fmt: Annotated[str, typer.Option("--format", help="json or text.")] = "json",
    media_type: Annotated[
        str | None,
        typer.Option(help="text/plain, text/markdown or text/html (default: by extension)."),
    ] = None,
) -> None:
    """Print the recipients, countries, data, purposes, bases, transfers, retention, contacts."""
    from ropa.notices import analyze
    from ropa.notices.text import MEDIA_TYPES

    if fmt not in {"json", "text"}:
        _fail("--format is json or text")
    kind = media_type or _BY_SUFFIX.get(file.suffix.lower(), "text/plain")
    if kind not in MEDIA_TYPES:
        _fail(f"--media-type is one of {', '.join(MEDIA_TYPES)}")
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        _fail(f"{file}: no such file; give the path of a notice")
    except IsADirectoryError:
        _fail(f"{file} is a folder; give the path of a notice file")
    except OSError as exc:
        _fail(f"{file}: cannot read it ({exc.strerror}); check its permissions")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _fail(f"{file} is not UTF-8 (byte {exc.start}); convert it, e.g. with iconv -t UTF-8")
    try:
        result = analyze(text, kind)
    except ValueError as exc:
        _fail(str(exc))
    if fmt == "json":
        typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(report(text, result, str(file)))


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _quote(text: str, start: int, end: int, context: int = 40) -> str:
    before, after = text[max(0, start - context) : start], text[end : end + context]
    return f"...{_flat(before)}[{_flat(text[start:end])}]{_flat(after)}..."


def _title(field: str, item: dict[str, Any]) -> str:
    if field == "thirdParties":
        canonical = item["canonical"]
        return (
            f"{item['name']} ({canonical})"
            if canonical
            else f"{item['name']} (not in the gazetteer)"
        )
    if field == "countries":
        return str(item["code"])
    if field == "regions":
        return str(item["name"])
    if field in {"dataCategories", "dataUses"}:
        return str(item["key"])
    if field == "legalBases":
        return str(item["article"])
    if field == "transferMechanisms":
        return str(item["mechanism"])
    if field == "retention":
        return f"{item['period']} ({item['text']})"
    return f"{item['kind']}: {item['email']}"


def report(text: str, result: dict[str, list[dict[str, Any]]], name: str) -> str:
    """A readable report quoting each evidence span, field by field."""
    lines = [f"Notice: {name}"]
    for field, items in result.items():
        lines.append("")
        lines.append(f"{_LABELS.get(field, field)}: {len(items) or 'none found'}")
        for item in items:
            lines.append(f"  - {_title(field, item)}")
            for start, end in item["spans"]:
                lines.append(f"      {start}-{end}: {_quote(text, start, end)}")
    return "\n".join(lines)
