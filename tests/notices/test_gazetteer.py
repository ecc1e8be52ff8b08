"""The vendor gazetteer: built-in vendors, user files from ROPA_VENDOR_DIR, whole words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ropa.notices.gazetteer import BUILTIN_DIR, Gazetteer, vendor_files

CUSTOM = """
[[vendor]]
name = "Quokka Mail"
legal_entity = "Quokka Mail Pty Ltd"
country = "AU"
aliases = ["QuokkaMail"]
services = ["email delivery"]
"""


def test_every_vendor_named_by_the_task_is_built_in() -> None:
    gazetteer = Gazetteer(vendor_files(extra_dir=""))
    text = ", ".join(
        [
            "AWS",
            "Google Analytics",
            "Google Cloud",
            "Google Ads",
            "Firebase",
            "Microsoft Azure",
            "Salesforce",
            "HubSpot",
            "Freshdesk",
            "Zendesk",
            "Intercom",
            "Mailchimp",
            "PayPal",
            "Twilio",
            "SendGrid",
            "Mixpanel",
            "Hotjar",
            "Facebook",
            "LinkedIn",
            "Twitter",
            "Cloudflare",
            "Akamai",
            "Atlassian",
            "Zoom",
            "DigitalOcean",
            "Alibaba Cloud",
            "Tencent",
            "Xendit",
            "Midtrans",
            "Dropbox",
            "SharePoint",
            "OneDrive",
        ]
    )
    found = {hit.vendor.name for hit in gazetteer.find(text)}
    assert {"Amazon Web Services", "Google", "Microsoft", "Freshworks", "Meta", "X",
            "Alibaba Cloud", "Xendit", "Midtrans", "Dropbox"} <= found  # fmt: skip
    assert len(found) >= 27


def test_hits_are_whole_words_and_the_longest_name_wins() -> None:
    gazetteer = Gazetteer(vendor_files(extra_dir=""))
    hits = gazetteer.find("Ask Google Cloud Platform, not SAWS or awsome tools.")
    assert [
        (h.vendor.name, "Ask Google Cloud Platform, not SAWS or awsome tools."[h.start : h.end])
        for h in hits
    ] == [("Google", "Google Cloud Platform")]


def test_a_users_vendor_folder_adds_vendors(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(CUSTOM, encoding="utf-8")
    gazetteer = Gazetteer(vendor_files(extra_dir=str(tmp_path)))
    (hit,) = gazetteer.find("Receipts are sent by quokkamail.")
    assert hit.vendor.legal_entity == "Quokka Mail Pty Ltd"
    assert hit.vendor.country == "AU"


def test_a_vendor_file_with_a_bad_country_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(CUSTOM.replace('"AU"', '"Australia"'), encoding="utf-8")
    with pytest.raises(ValueError, match="ISO 3166-1"):
        Gazetteer(vendor_files(extra_dir=str(tmp_path)))


def test_a_missing_vendor_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ROPA_VENDOR_DIR"):
        vendor_files(extra_dir=str(tmp_path / "absent"))


def test_the_built_in_list_is_shipped_with_the_package() -> None:
    assert (BUILTIN_DIR / "builtin.toml").is_file()


def test_ropa_vendor_dir_reaches_the_cli(tmp_path: Path) -> None:
    folder = tmp_path / "vendors"
    folder.mkdir()
    (folder / "mine.toml").write_text(CUSTOM, encoding="utf-8")
    notice = tmp_path / "n.txt"
    notice.write_text("We send receipts with Quokka Mail.", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", "from ropa.cli.main import app; app()", "notice", "analyze",
         str(notice)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "ROPA_VENDOR_DIR": str(folder)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (party,) = json.loads(done.stdout)["thirdParties"]
    assert party["canonical"] == "Quokka Mail Pty Ltd"
