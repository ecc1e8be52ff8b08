"""The record of processing activities (Art. 30) as a file: XLSX, CSV or JSON.

Every export is taken from one view (the current records, or `asOf` an instant) and states
the ledger checkpoint of that view: the tree size, its RFC 9162 root hash and the signed C2SP
checkpoint of that size. Replaying the organisation's ledger bundle up to that size gives
exactly the records exported, so the file is provably what the records said then.

- XLSX: a `Cover` sheet (organisation, DPO, representative, the checkpoint), `Controller`
  (Art. 30(1)) and `Processor` (Art. 30(2)) sheets in the ICO template's columns
  (`ico_template.py`), header in row 1.
- CSV: one of those two tables, after `#` comment lines that carry the checkpoint.
- JSON: both tables, the record states they were made from, and a `checkpoint` member.

Exporting needs the EXPORT permission (AUDITOR, DPO, ADMIN): an export is a bulk copy that
leaves the service, which a VIEWER's or EDITOR's token may not take (docs/exports.md).
Breaches go into an export only for those who may read them (the DPO, ADMIN).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ropa.errors import FieldError, ValidationError
from ropa.ledger.canonical import format_ts
from ropa.ledger.checkpoint import parse_checkpoint
from ropa.ledger.note import parse_note
from ropa.services import ico_template, reads
from ropa.services.access import Action, Principal, authorize, may_read
from ropa.services.findings import snapshot
from ropa.services.runtime import Runtime
from ropa.store import ledger_store

SOURCE = (
    "Columns of the UK ICO 'Documentation template for controllers' "
    "(gdpr-documentation-controller-template.xlsx, sheet Template, row 9) and the Art. 30(2) "
    "items for processors; see docs/exports.md"
)


class Format(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"
    JSON = "json"


class Table(StrEnum):
    CONTROLLER = "controller"
    PROCESSOR = "processor"


MEDIA_TYPES = {
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.CSV: "text/csv; charset=utf-8",
    Format.JSON: "application/json",
}


@dataclass(frozen=True)
class ExportCheckpoint:
    """The ledger tree the export was taken at."""

    origin: str
    size: int
    root_hash: str  # hex
    note: str | None  # the signed checkpoint of exactly this size (none for a partial commit)

    def as_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "treeSize": self.size, "rootHash": self.root_hash,
                "signedCheckpoint": self.note}


@dataclass(frozen=True)
class RopaExport:
    organization: dict[str, Any]
    as_of: str | None
    taken_at: str
    checkpoint: ExportCheckpoint
    controller: list[ico_template.Row]
    processor: list[ico_template.Row]
    records: dict[str, list[dict[str, Any]]]


def take(rt: Runtime, principal: Principal, slug: str, as_of: str | None = None) -> RopaExport:
    """The organisation's records in `slug` as of `as_of` (None: now), with the checkpoint."""
    view, organization = reads.open_view(rt, principal, slug, as_of)
    authorize(principal, Action.EXPORT, view.org_id)
    records = snapshot(rt, view)
    breaches_visible = may_read(principal, "BreachIncident")
    if not breaches_visible:
        records.breaches = []
    states = {
        "processingActivities": records.activities, "processors": records.processors,
        "processorEngagements": records.engagements, "transfers": records.transfers,
        "privacyPolicies": records.policies,
    }
    if breaches_visible:
        states["breaches"] = records.breaches
    return RopaExport(
        organization=organization, as_of=view.as_of, taken_at=format_ts(datetime.now(UTC)),
        checkpoint=_checkpoint(rt, view),
        controller=ico_template.controller_rows(records, breaches_visible=breaches_visible),
        processor=ico_template.processor_rows(records),
        records=states,
    )


def parse_as_of(text: str, field: str = "asOf") -> str:
    """An ISO 8601 instant with its offset, or a date meaning the end of that day (what the
    records said that day), as a ledger instant."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return format_ts(datetime(day.year, day.month, day.day, 23, 59, 59, 999999, UTC))
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(FieldError(
            field, "an ISO 8601 instant (2024-03-01T00:00:00Z) or date (2024-03-01)"
        )) from None
    if moment.tzinfo is None:
        raise ValidationError(FieldError(field, "needs a time zone, e.g. 2024-03-01T00:00:00Z"))
    try:
        return format_ts(moment)
    except ValueError:
        raise ValidationError(FieldError(
            field, "an instant between 0001-01-01 and 9999-12-31 in UTC"
        )) from None


@dataclass(frozen=True)
class Download:
    data: bytes
    media_type: str
    filename: str
    checkpoint: ExportCheckpoint


def download(
    rt: Runtime, principal: Principal, fmt: str, params: Mapping[str, str]
) -> Download:
    """The file `GET /export/ropa.{fmt}?slug=&asOf=&table=` answers with."""
    slug = params.get("slug")
    if not slug:
        raise ValidationError(FieldError("slug", "name the organisation"))
    try:
        chosen = Format(fmt)
    except ValueError:
        raise ValidationError(FieldError("format", "xlsx, csv or json")) from None
    try:
        table = Table(params.get("table", Table.CONTROLLER))
    except ValueError:
        raise ValidationError(FieldError("table", "controller or processor")) from None
    as_of = params.get("asOf")
    export = take(rt, principal, slug, parse_as_of(as_of) if as_of else None)
    stamp = (export.as_of or export.taken_at)[:10]
    suffix = f"-{table}" if chosen is Format.CSV and table is Table.PROCESSOR else ""
    return Download(
        render(export, chosen, table), MEDIA_TYPES[chosen],
        f"{slug}-ropa-{stamp}-size{export.checkpoint.size}{suffix}.{chosen}", export.checkpoint,
    )


def _checkpoint(rt: Runtime, view: reads.View) -> ExportCheckpoint:
    with rt.db.read() as conn:
        head = ledger_store.read_head(conn, view.org_id)
        assert head is not None, "an organisation always has a ledger"
        root = ledger_store.root_at(conn, view.org_id, view.size).hex()
        note = ledger_store.checkpoint_for(conn, view.org_id, view.size - 1)
    if note is not None:
        text, _ = parse_note(note)
        if parse_checkpoint(text).size != view.size:
            note = None
    return ExportCheckpoint(head.origin, view.size, root, note)


def render(export: RopaExport, fmt: Format, table: Table = Table.CONTROLLER) -> bytes:
    """The export in one format; `table` chooses the CSV's table (XLSX and JSON hold both)."""
    if fmt is Format.XLSX:
        return to_xlsx(export)
    if fmt is Format.CSV:
        return to_csv(export, table).encode("utf-8")
    if fmt is Format.JSON:
        return to_json(export)
    raise ValidationError(FieldError("format", "xlsx, csv or json"))


def _heading(export: RopaExport) -> list[tuple[str, str]]:
    org = export.organization
    cp = export.checkpoint
    return [
        ("Record of processing activities (GDPR Art. 30)", f"{org['name']} ({org['slug']})"),
        ("As of", export.as_of or f"current (exported {export.taken_at})"),
        ("Exported at", export.taken_at),
        ("Ledger origin", cp.origin),
        ("Ledger tree size", str(cp.size)),
        ("Ledger root hash (RFC 9162, hex)", cp.root_hash),
        ("Columns", SOURCE),
    ]


def to_csv(export: RopaExport, table: Table = Table.CONTROLLER) -> str:
    out = io.StringIO()
    for label, value in _heading(export):
        out.write(f"# {label}: {value}\n")
    for line in (export.checkpoint.note or "").splitlines():
        out.write(f"# checkpoint| {line}\n")
    columns, rows = _table(export, table)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _table(export: RopaExport, table: Table) -> tuple[list[str], list[ico_template.Row]]:
    if table is Table.PROCESSOR:
        return [*ico_template.PROCESSOR_COLUMNS, *ico_template.EXTRA_COLUMNS], export.processor
    return [*ico_template.CONTROLLER_COLUMNS, *ico_template.EXTRA_COLUMNS], export.controller


def to_json(export: RopaExport) -> bytes:
    body = {
        "organization": export.organization,
        "asOf": export.as_of,
        "exportedAt": export.taken_at,
        "checkpoint": export.checkpoint.as_json(),
        "columnsSource": SOURCE,
        "controllerRecord": export.controller,
        "processorRecord": export.processor,
        "records": export.records,
    }
    return json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")


def to_xlsx(export: RopaExport) -> bytes:
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Cover"
    for label, value in _heading(export):
        cover.append([label, value])
    cover.append(["Signed checkpoint (C2SP)", export.checkpoint.note or "none of this size"])
    cover.append([])
    cover.append(["Controller / processor (Art. 30(1)(a), 30(2)(a))", ""])
    for label, value in ico_template.contact_block(export.organization):
        cover.append([label, value])
    for row in cover.iter_rows():
        row[0].font = Font(bold=True)
        if len(row) > 1:
            row[1].alignment = Alignment(wrap_text=True, vertical="top")
    cover.column_dimensions["A"].width = 48
    cover.column_dimensions["B"].width = 100
    for title, table in (("Controller", Table.CONTROLLER), ("Processor", Table.PROCESSOR)):
        sheet = book.create_sheet(title)
        columns, rows = _table(export, table)
        sheet.append(columns)
        for record in rows:
            sheet.append([record.get(c, "") for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for index in range(1, len(columns) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 30
        sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
