"""`ropa import`: a register brought in line by line, in signed batches, resumable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ropa.cli.main import app

PROCESSOR = "11111111-1111-4111-8111-111111111111"
ACTIVITY = "22222222-2222-4222-8222-222222222222"


@pytest.fixture(autouse=True)
def acme(cli: CliRunner) -> None:
    """A signing key and the organisation the imports go to."""
    for args in (["keys", "init"],
                 ["org", "create", "--slug", "acme", "--name", "Acme", "--country", "DE"]):
        result = cli.invoke(app, args)
        assert result.exit_code == 0, result.output


def _file(tmp_path: Path, lines: list[dict[str, Any]]) -> str:
    path = tmp_path / "changes.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def _ledger(cli: CliRunner, tmp_path: Path) -> list[dict[str, Any]]:
    out = tmp_path / f"bundle-{len(list(tmp_path.glob('bundle-*')))}"
    result = cli.invoke(app, ["ledger", "export", str(out), "--org", "acme"])
    assert result.exit_code == 0, result.output
    key = cli.invoke(app, ["keys", "show"]).output.strip()
    verified = cli.invoke(app, ["ledger", "verify", str(out), "--key", key])
    assert verified.exit_code == 0, verified.output
    return [json.loads(line) for line in (out / "entries.jsonl").read_text().splitlines()]


GOOD = [
    {"op": "registerProcessor", "newId": PROCESSOR, "data": {"name": "Hosting Co",
                                                             "country": "DE"}},
    {"op": "createProcessingActivity", "newId": ACTIVITY,
     "data": {"name": "Payroll", "purposes": ["payroll"]}},
    {"op": "engageProcessor", "data": {"activityId": ACTIVITY, "processorId": PROCESSOR,
                                       "purpose": "hosting"}},
    {"op": "updateProcessor", "id": PROCESSOR, "data": {"dpaReference": "DPA-1"}},
]


def test_every_line_becomes_a_signed_entry_in_batches(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["import", _file(tmp_path, GOOD), "--org", "acme", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert "imported 4 lines into acme: 4 ledger entries" in result.output
    entries = _ledger(cli, tmp_path)
    ops = [e["op"] for e in entries if e["actor"]["role"] == "SYSTEM"]
    assert ops[-4:] == ["registerProcessor", "createProcessingActivity", "engageProcessor",
                        "updateProcessor"]
    assert entries[-1]["before"]["dpaReference"] is None
    assert entries[-1]["after"]["dpaReference"] == "DPA-1"


def test_a_refused_line_names_itself_keeps_earlier_batches_and_the_run_resumes(
    cli: CliRunner, tmp_path: Path
) -> None:
    missing = "33333333-3333-4333-8333-333333333333"
    lines = [*GOOD[:2], {"op": "updateProcessor", "id": missing, "data": {"name": "X"}},
             GOOD[2]]
    path = _file(tmp_path, lines)
    before = len(_ledger(cli, tmp_path))
    result = cli.invoke(app, ["import", path, "--org", "acme", "--batch", "2"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output  # one line that says what to do
    assert ":3: Processor not found" in result.output
    assert "--from-line 3" in result.output
    # the first batch (lines 1-2) committed; the refused one (lines 3-4) left no trace
    assert len(_ledger(cli, tmp_path)) == before + 2

    lines[2] = GOOD[3]  # fixed
    path = _file(tmp_path, lines)
    resumed = cli.invoke(app, ["import", path, "--org", "acme", "--from-line", "3"])
    assert resumed.exit_code == 0, resumed.output
    assert len(_ledger(cli, tmp_path)) == before + 4


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("not json", ":1: not JSON"),
        ('{"op": "dropTable"}', ":1: op: one of registerProcessor"),
        ('{"op": "updateProcessor", "data": {}}', ":1: id: updateProcessor names the record"),
        ('{"op": "registerProcessor", "data": [], "extra": 1}', ":1: extra: unknown member"),
    ],
)
def test_a_malformed_file_is_refused_before_anything_is_written(
    cli: CliRunner, tmp_path: Path, line: str, says: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    before = len(_ledger(cli, tmp_path))
    result = cli.invoke(app, ["import", str(path), "--org", "acme"])
    assert result.exit_code == 1
    assert says in result.output, result.output
    assert len(_ledger(cli, tmp_path)) == before
