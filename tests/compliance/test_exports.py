"""The ROPA as a file: XLSX in the ICO template's columns, CSV and JSON with the records'
contents, each stating the ledger checkpoint it was taken at; from the CLI and over HTTP.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient
from typer.testing import CliRunner

from ropa.cli.main import app
from ropa.services.runtime import Runtime
from tests.api.conftest import GraphQLClient
from tests.compliance.conftest import clean_activity
from tests.conftest import Org

# The ICO "Documentation template for controllers", sheet Template, row 9, columns A-AD.
ICO_CONTROLLER_COLUMNS = [
    "Business function",
    "Purpose of processing",
    "Name and contact details of joint controller (if applicable)",
    "Categories of individuals",
    "Categories of personal data",
    "Categories of recipients",
    "Link to contract with processor",
    "Names of third countries or international organisations that personal data are "
    "transferred to (if applicable)",
    "Safeguards for exceptional transfers of personal data to third countries or "
    "international organisations (if applicable)",
    "Retention schedule (if possible)",
    "General description of technical and organisational security measures (if possible)",
    "Article 6 lawful basis for processing personal data",
    "Article 9 condition for processing special category data",
    "Legitimate interests for the processing (if applicable)",
    "Link to record of legitimate interests assessment (if applicable)",
    "Rights available to individuals",
    "Existence of automated decision-making, including profiling (if applicable)",
    "The source of the personal data (if applicable)",
    "Link to record of consent",
    "Location of personal data",
    "Data Protection Impact Assessment required?",
    "Data Protection Impact Assessment progress",
    "Link to Data Protection Impact Assessment",
    "Has a personal data breach occurred?",
    "Link to record of personal data breach",
    "Data Protection Act 2018 Schedule 1 Condition for processing",
    "GDPR Article 6 lawful basis for processing",
    "Link to retention and erasure policy document",
    "Is personal data retained and erased in accordance with the policy document?",
    "Reasons for not adhering to policy document (if applicable)",
]
LEDGER = """query($slug: String!) { organization(slug: $slug) {
  ledger { size rootHash checkpoint } } }"""
UPDATE = """mutation($i: UpdateProcessingActivityInput!) {
  updateProcessingActivity(input: $i) { processingActivity { id } } }"""
CREATE = """mutation($i: CreateProcessingActivityInput!) {
  createProcessingActivity(input: $i) { processingActivity { id } } }"""


def _records(gql: GraphQLClient, org: Org) -> dict[str, str]:
    """Two controller activities (one with a US transfer to a processor) and one as processor."""
    token = org.tokens["DPO"]
    vendor = gql.operation("RegisterProcessor", {"input": {
        "name": "HubSpot", "legalName": "HubSpot, Inc.", "country": "US", "dpf": True,
        "dpaSignedOn": "2025-05-01", "dpaReference": "DPA-9"}}, token)
    vendor_id = vendor["data"]["registerProcessor"]["processor"]["id"]
    ids = {}
    for name, extra in (
        ("Marketing", {"legalBases": [{"article": "ART6_1_F", "purpose": "newsletters",
                                       "lia": "LIA-2025-3"}]}),
        ("Payroll", {}),
        ("Hosting for clients", {"role": "PROCESSOR", "legalBases": [], "retention": None,
                                 "controller": {"name": "Client GmbH", "country": "DE"}}),
    ):
        body = gql(CREATE, {"i": clean_activity(name=name, **extra)}, token)
        ids[name] = body["data"]["createProcessingActivity"]["processingActivity"]["id"]
    gql.operation("EngageProcessor", {"input": {
        "activityId": ids["Marketing"], "processorId": vendor_id, "locations": ["US"]}}, token)
    gql.operation("RecordTransfer", {"input": {
        "activityId": ids["Marketing"], "recipientProcessorId": vendor_id, "fromCountry": "DE",
        "toCountry": "US", "mechanism": "DPF"}}, token)
    return ids


def _get(http: TestClient, path: str, token: str | None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(path, params=params, headers=headers)


def _csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    comments = [line for line in text.splitlines() if line.startswith("#")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return comments, list(csv.DictReader(io.StringIO(body)))


def test_xlsx_opens_with_the_ico_columns_in_order_and_states_its_checkpoint(
    http: TestClient, gql: GraphQLClient, org: Org
) -> None:
    _records(gql, org)
    response = _get(http, "/export/ropa.xlsx", org.tokens["AUDITOR"], slug=org.slug)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Cover", "Controller", "Processor"]

    controller = list(book["Controller"].iter_rows(values_only=True))
    assert list(controller[0][:30]) == ICO_CONTROLLER_COLUMNS
    rows = [dict(zip(controller[0], r, strict=True)) for r in controller[1:]]
    assert [r["Business function"] for r in rows] == ["Marketing", "Payroll"]
    marketing = rows[0]
    assert marketing["Names of third countries or international organisations that personal "
                     "data are transferred to (if applicable)"] == "United States (US)"
    assert "Art. 45 EU-US Data Privacy Framework" in marketing[
        "Safeguards for exceptional transfers of personal data to third countries or "
        "international organisations (if applicable)"]
    assert marketing["Link to contract with processor"] == "HubSpot: DPA signed 2025-05-01, DPA-9"
    assert marketing["Link to record of legitimate interests assessment (if applicable)"] == (
        "LIA-2025-3")
    assert marketing["Rights available to individuals"] == (
        "access, rectification, restriction, erasure, object")

    processor = list(book["Processor"].iter_rows(values_only=True))
    assert processor[0][0] == "Name and contact details of controller"
    assert [r[:2] for r in processor[1:]] == [("Client GmbH, Germany", (
        "Hosting for clients; paying staff; user.contact.email"))]

    cover = {r[0]: r[1] for r in book["Cover"].iter_rows(values_only=True) if r[0]}
    ledger = gql(LEDGER, {"slug": org.slug}, org.tokens["AUDITOR"])["data"]["organization"][
        "ledger"]
    assert cover["Ledger tree size"] == str(ledger["size"])
    assert cover["Ledger root hash (RFC 9162, hex)"] == ledger["rootHash"]
    assert cover["Signed checkpoint (C2SP)"] == ledger["checkpoint"]
    assert response.headers["x-ledger-root-hash"] == ledger["rootHash"]


def test_json_and_csv_hold_what_the_records_say(
    http: TestClient, gql: GraphQLClient, org: Org
) -> None:
    ids = _records(gql, org)
    token = org.tokens["DPO"]
    body = _get(http, "/export/ropa.json", token, slug=org.slug).json()
    ledger = gql(LEDGER, {"slug": org.slug}, token)["data"]["organization"]["ledger"]
    assert body["checkpoint"]["treeSize"] == ledger["size"]
    assert body["checkpoint"]["rootHash"] == ledger["rootHash"]
    assert body["checkpoint"]["signedCheckpoint"] == ledger["checkpoint"]
    assert body["organization"]["slug"] == org.slug
    states = {a["name"]: a for a in body["records"]["processingActivities"]}
    assert set(states) == set(ids)
    assert states["Marketing"]["legalBases"][0]["lia"] == "LIA-2025-3"
    assert [t["toCountry"] for t in body["records"]["transfers"]] == ["US"]
    assert [r["Record ID"] for r in body["controllerRecord"]] == [
        states["Marketing"]["id"], states["Payroll"]["id"]]
    assert [r["Record ID"] for r in body["processorRecord"]] == [
        states["Hosting for clients"]["id"]]

    text = _get(http, "/export/ropa.csv", token, slug=org.slug).text
    comments, rows = _csv_rows(text)
    assert f"# Ledger tree size: {ledger['size']}" in comments
    assert f"# Ledger root hash (RFC 9162, hex): {ledger['rootHash']}" in comments
    assert list(rows[0])[:30] == ICO_CONTROLLER_COLUMNS
    assert rows == body["controllerRecord"]
    _, processor_rows = _csv_rows(
        _get(http, "/export/ropa.csv", token, slug=org.slug, table="processor").text)
    assert processor_rows == body["processorRecord"]


def test_an_export_as_of_an_instant_is_what_the_records_said_then(
    http: TestClient, gql: GraphQLClient, org: Org
) -> None:
    ids = _records(gql, org)
    token = org.tokens["AUDITOR"]
    time.sleep(0.002)
    before = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.002)
    then = gql(LEDGER, {"slug": org.slug}, token)["data"]["organization"]["ledger"]
    gql(UPDATE, {"i": {"id": ids["Payroll"], "retention": {"period": "P10Y"}}},
        org.tokens["DPO"])

    old = _get(http, "/export/ropa.json", token, slug=org.slug, asOf=before).json()
    new = _get(http, "/export/ropa.json", token, slug=org.slug).json()
    column = "Retention schedule (if possible)"
    assert [r[column] for r in old["controllerRecord"]][1] == "P6Y, after employment ends"
    assert [r[column] for r in new["controllerRecord"]][1] == "P10Y"
    assert old["asOf"] == before
    assert old["checkpoint"]["treeSize"] == then["size"]
    assert old["checkpoint"]["rootHash"] == then["rootHash"]
    assert old["checkpoint"]["signedCheckpoint"] == then["checkpoint"]
    assert new["checkpoint"]["treeSize"] == then["size"] + 1


def test_downloads_need_a_role_that_may_export_and_refuse_the_rest(
    http: TestClient, org: Org, other_org: Org
) -> None:
    for role, status in (("AUDITOR", 200), ("DPO", 200), ("ADMIN", 200), ("VIEWER", 403),
                         ("EDITOR", 403)):
        response = _get(http, "/export/ropa.csv", org.tokens[role], slug=org.slug)
        assert (role, response.status_code) == (role, status)
        if status == 403:
            assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    token = org.tokens["AUDITOR"]
    missing = _get(http, "/export/ropa.xlsx", None, slug=org.slug)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert _get(http, "/export/ropa.xlsx", token, slug=other_org.slug).status_code == 404
    for path, params, field in (
        ("/export/ropa.pdf", {"slug": org.slug}, "format"),
        ("/export/ropa.json", {}, "slug"),
        ("/export/ropa.json", {"slug": org.slug, "asOf": "yesterday"}, "asOf"),
        ("/export/ropa.csv", {"slug": org.slug, "table": "joint"}, "table"),
    ):
        response = _get(http, path, token, **params)
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["fields"][0]["field"] == field


def test_the_cli_writes_each_format(
    rt: Runtime, gql: GraphQLClient, org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _records(gql, org)
    monkeypatch.setenv("ROPA_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("ROPA_SIGNING_KEY_FILE", str(rt.settings.key_file))
    runner = CliRunner()
    out = tmp_path / "ropa.xlsx"
    result = runner.invoke(app, ["export", "ropa", "--org", org.slug, "--format", "xlsx",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert list(next(load_workbook(out)["Controller"].iter_rows(values_only=True)))[:30] == (
        ICO_CONTROLLER_COLUMNS)
    result = runner.invoke(app, ["export", "ropa", "--org", org.slug, "--format", "json",
                                 "--as-of", "2000-01-01"])
    assert result.exit_code == 1  # the organisation did not exist yet
    result = runner.invoke(app, ["export", "ropa", "--org", org.slug, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [r["Business function"] for r in json.loads(result.stdout)["controllerRecord"]] == [
        "Marketing", "Payroll"]
    result = runner.invoke(app, ["export", "ropa", "--org", org.slug, "--format", "csv",
                                 "--table", "processor"])
    assert result.exit_code == 0
    assert _csv_rows(result.stdout)[1][0]["Name and contact details of controller"] == (
        "Client GmbH, Germany")
    result = runner.invoke(app, ["export", "ropa", "--org", org.slug, "--format", "pdf"])
    assert result.exit_code == 1


def test_breaches_are_exported_only_to_roles_that_may_read_them(
    http: TestClient, gql: GraphQLClient, org: Org
) -> None:
    ids = _records(gql, org)
    gql("""mutation($i: ReportBreachInput!) { reportBreach(input: $i) { breach { id } } }""",
        {"i": {"title": "Phishing", "discoveredAt": "2026-03-01T08:00:00Z",
               "affectedActivityIds": [ids["Marketing"]]}}, org.tokens["DPO"])
    column = "Has a personal data breach occurred?"
    dpo = _get(http, "/export/ropa.json", org.tokens["DPO"], slug=org.slug).json()
    assert [b["title"] for b in dpo["records"]["breaches"]] == ["Phishing"]
    assert [r[column] for r in dpo["controllerRecord"]] == ["Yes (1)", "No"]
    assert dpo["controllerRecord"][0]["Link to record of personal data breach"] == (
        "Phishing (discovered 2026-03-01, OPEN)")
    auditor = _get(http, "/export/ropa.json", org.tokens["AUDITOR"], slug=org.slug).json()
    assert "breaches" not in auditor["records"]
    assert {r[column] for r in auditor["controllerRecord"]} == {
        "not shown: reading breaches needs the DPO role"}


def _adequate_destinations(rt: Runtime) -> None:
    """An organisation since 2020 with one activity sending data to JP, CH, GB and IN."""
    from ropa.services import activities, organizations, transfers
    from ropa.services.access import SYSTEM_PRINCIPAL, Principal
    from ropa.services.changes import recorded_at

    with recorded_at("2020-03-02T09:00:00.000000Z"):
        org = organizations.create_organization(rt, SYSTEM_PRINCIPAL, {
            "slug": "adequate", "name": "Adequate", "roles": ["CONTROLLER"], "country": "DE"})
        system = Principal(SYSTEM_PRINCIPAL.actor, org.record["id"])
        activity = activities.create_processing_activity(
            rt, system, {"name": "Support", "purposes": ["customer support"]})
        for country in ("JP", "CH", "GB", "IN"):
            transfers.record_transfer(rt, system, {
                "activityId": activity.record["id"], "recipientName": f"Office {country}",
                "fromCountry": "DE", "toCountry": country})


def test_transfers_to_adequate_countries_name_the_decision_not_a_gap(rt: Runtime) -> None:
    from ropa.services import ropa_export
    from ropa.services.access import SYSTEM_PRINCIPAL

    _adequate_destinations(rt)
    column = ICO_CONTROLLER_COLUMNS[8]
    assert column.startswith("Safeguards")
    now = ropa_export.take(rt, SYSTEM_PRINCIPAL, "adequate").controller[0][column]
    assert "JP (Office JP): adequacy decision of 2019-01-23 (" in now  # (EU) 2019/419
    assert "CH (Office CH): adequacy decision of 2000-07-26 (" in now
    assert "GB (Office GB): adequacy decision of 2025-12-19 (" in now  # the renewal
    assert "IN (Office IN): no mechanism recorded" in now  # a real gap stays one
    assert now.count("no mechanism recorded") == 1
    # as of the export's instant: before the UK decision of 28 June 2021, no adequacy
    then = ropa_export.take(rt, SYSTEM_PRINCIPAL, "adequate", "2021-01-01T00:00:00.000000Z")
    cell = then.controller[0][column]
    assert "GB (Office GB): no mechanism recorded" in cell
    assert "JP (Office JP): adequacy decision of 2019-01-23" in cell
