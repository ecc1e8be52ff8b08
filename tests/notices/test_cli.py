"""`ropa notice analyze` prints the analysis of a file, in a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIELDS = [
    "thirdParties", "countries", "regions", "dataCategories", "dataUses", "legalBases",
    "transferMechanisms", "retention", "contacts",
]  # fmt: skip


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from ropa.cli.main import app; app()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def test_json_output_has_exactly_the_documented_shape(tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    text = (
        "We use HubSpot, Inc. for e-mail marketing. Data is stored in the United States "
        "under Standard Contractual Clauses, with your consent, and kept for 2 years. "
        "Our Data Protection Officer: dpo@example.com."
    )
    notice.write_text(text, encoding="utf-8")
    done = _run("notice", "analyze", str(notice))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert list(result) == FIELDS
    assert result["thirdParties"] == [
        {"name": "HubSpot", "canonical": "HubSpot, Inc.", "spans": [[7, 14]]}
    ]
    assert [c["code"] for c in result["countries"]] == ["US"]
    assert result["transferMechanisms"][0]["mechanism"] == "SCC"
    assert result["retention"][0]["period"] == "P2Y"
    at = text.index("dpo@example.com")
    assert result["contacts"] == [
        {"kind": "DPO", "email": "dpo@example.com", "spans": [[at, at + len("dpo@example.com")]]}
    ]


def test_media_type_is_taken_from_the_extension(tmp_path: Path) -> None:
    notice = tmp_path / "notice.html"
    raw = "<p>Hosted by <b>Cloudflare</b></p>"
    notice.write_text(raw, encoding="utf-8")
    done = _run("notice", "analyze", str(notice))
    assert done.returncode == 0, done.stderr
    (party,) = json.loads(done.stdout)["thirdParties"]
    assert raw[slice(*party["spans"][0])] == "Cloudflare"


def test_text_report_quotes_the_evidence(tmp_path: Path) -> None:
    notice = tmp_path / "notice.md"
    notice.write_text("We use **Mixpanel** for analytics.\n", encoding="utf-8")
    done = _run("notice", "analyze", str(notice), "--format", "text")
    assert done.returncode == 0, done.stderr
    assert "Mixpanel (Mixpanel, Inc.)" in done.stdout
    assert "[Mixpanel]" in done.stdout


def test_missing_unreadable_and_non_utf8_files_fail_with_one_line(tmp_path: Path) -> None:
    missing = _run("notice", "analyze", str(tmp_path / "absent.txt"))
    binary = tmp_path / "latin1.txt"
    binary.write_bytes("caf\xe9".encode("latin-1"))
    not_utf8 = _run("notice", "analyze", str(binary))
    folder = _run("notice", "analyze", str(tmp_path))
    for done in (missing, not_utf8, folder):
        assert done.returncode == 1
        assert done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1
        assert done.stderr.startswith("error: ")
    assert "UTF-8" in not_utf8.stderr


def test_an_unknown_format_or_media_type_fails_with_one_line(tmp_path: Path) -> None:
    notice = tmp_path / "n.txt"
    notice.write_text("x", encoding="utf-8")
    for args in (["--format", "xml"], ["--media-type", "application/pdf"]):
        done = _run("notice", "analyze", str(notice), *args)
        assert done.returncode == 1
        assert len(done.stderr.strip().splitlines()) == 1
