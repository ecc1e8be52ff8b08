"""Anchoring settings (ROPA_TSA and the durations) and `ropa anchor run` in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ropa.config import Settings, TsaConfig, parse_tsas
from ropa.domain.durations import to_seconds
from ropa.errors import ConfigurationError
from ropa.services.runtime import Runtime
from ropa.store import anchor_store
from tests.anchors.tsa import Authority, TsaServer
from tests.conftest import Org


def test_tsas_are_name_url_certfile_items_and_a_url_may_hold_equals_signs() -> None:
    assert parse_tsas(" a=https://tsa.example/?x=1=/etc/a.pem ;\nb.2-c=http://h=/b.pem;") == (
        TsaConfig("a", "https://tsa.example/?x=1", Path("/etc/a.pem")),
        TsaConfig("b.2-c", "http://h", Path("/b.pem")),
    )
    assert parse_tsas("") == ()


@pytest.mark.parametrize(
    "text",
    ["bad name=http://h=/c.pem", "a=http://h", "a=ftp://h=/c.pem", "a=http://h=/c;a=http://i=/d"],
)
def test_a_malformed_tsa_setting_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ConfigurationError, match="ROPA_TSA"):
        parse_tsas(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), ("PT1H", 3600),
     ("P1DT12H", 129600), ("P1W", 604800)],
)  # fmt: skip
def test_durations_read_as_seconds(text: str, seconds: float) -> None:
    assert to_seconds(text) == seconds


@pytest.mark.parametrize("text", ["P1Y", "P2M", "1 hour", "-5s", ""])
def test_durations_without_a_fixed_length_or_malformed_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        to_seconds(text)


def test_settings_read_the_anchor_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROPA_TSA", "t=http://127.0.0.1:1/=/tmp/ca.pem")
    monkeypatch.setenv("ROPA_ANCHOR_INTERVAL", "PT2M")
    monkeypatch.setenv("ROPA_ANCHOR_ALERT_AFTER", "30m")
    settings = Settings.from_env()
    assert [t.name for t in settings.tsas] == ["t"]
    assert (settings.anchor_interval, settings.anchor_timeout) == (120.0, 10.0)
    assert settings.anchor_alert_after == 1800.0
    monkeypatch.setenv("ROPA_ANCHOR_INTERVAL", "0s")
    with pytest.raises(ConfigurationError, match="ROPA_ANCHOR_INTERVAL"):
        Settings.from_env()


def _run(rt: Runtime, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ROPA_")}
    base.update(
        ROPA_DATABASE_URL=rt.settings.database_url,
        ROPA_SIGNING_KEY_FILE=str(rt.settings.key_file),
        **env,
    )
    ropa = str(Path(sys.executable).parent / "ropa")
    return subprocess.run(
        [ropa, "anchor", "run", *args], env=base, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_anchor_run_once_stamps_and_prints_one_line(
    rt: Runtime, org: Org, tsa: TsaServer, authority: Authority
) -> None:
    env = {"ROPA_TSA": f"{authority.name}={tsa.url}={authority.ca_cert}"}
    result = _run(rt, env, "--once")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "anchors: stamped 1, failed 0"
    with rt.db.read() as conn:
        assert len(anchor_store.anchors(conn, org.id)) == 1
    tsa.mode = "garbage"
    failed = _run(rt, env | {"ROPA_TSA": env["ROPA_TSA"]}, "--once")
    assert failed.returncode == 0  # nothing moved: nothing asked
    assert failed.stdout.strip() == "anchors: stamped 0, failed 0"


def test_anchor_run_once_exits_1_when_a_tsa_fails(
    rt: Runtime, org: Org, tsa: TsaServer, authority: Authority
) -> None:
    tsa.mode = "garbage"
    result = _run(rt, {"ROPA_TSA": f"{authority.name}={tsa.url}={authority.ca_cert}"}, "--once")
    assert result.returncode == 1
    assert result.stdout.startswith("anchors: stamped 0, failed 1; test-tsa: invalid answer")


def test_anchor_run_without_a_tsa_says_what_to_set(rt: Runtime) -> None:
    result = _run(rt, {}, "--once")
    assert result.returncode == 1
    assert result.stderr.startswith("error: no TSA configured: set ROPA_TSA=")


def test_a_malformed_tsa_setting_is_one_line_not_a_traceback(rt: Runtime) -> None:
    result = _run(rt, {"ROPA_TSA": "no url here"}, "--once")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ROPA_TSA:") and "Traceback" not in result.stderr
