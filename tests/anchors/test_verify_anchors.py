"""Anchors in the export bundle and their offline checks (spec §9): a real openssl TSA's
tokens verify, and every way of faking them fails, naming the check."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from ropa.errors import VerificationError
from ropa.ledger.bundle import BundleWriter
from ropa.ledger.canonical import format_ts, parse_ts
from ropa.ledger.checkpoint import checkpoint_body, sign_checkpoint
from ropa.ledger.entry import sign
from ropa.ledger.merkle import append_nodes, root_from_frontier
from ropa.ledger.timestamp import load_trusted, stamp_request
from ropa.ledger.verify import Check, VerifyReport, verify_bundle
from ropa.services import processors
from ropa.services.anchorer import Anchorer
from ropa.services.ledger_export import write_bundle
from ropa.services.reads import view_of
from ropa.services.runtime import Runtime
from tests.anchors.tsa import Authority, reply
from tests.conftest import Org, make_org
from tests.ledger.conftest import SYNTHETIC_OLD, write_ledger

STEPS = 3  # anchored sizes in the bundle


def _anchored_ledger(art: Runtime, org: Org) -> None:
    anchorer = Anchorer(art)
    for step in range(STEPS):
        data = {"name": f"Vendor {step}", "country": "DE"}
        processors.register_processor(art, org.as_role("EDITOR"), data)
        assert anchorer.run_once().stamped >= 1


def _export(art: Runtime, org: Org, out: Path) -> Path:
    return write_bundle(art.db, view_of(art, org.as_role("DPO"), org.id), out)


@pytest.fixture
def bundle(art: Runtime, org: Org, tmp_path: Path) -> Path:
    _anchored_ledger(art, org)
    return _export(art, org, tmp_path / "bundle")


def _key(art: Runtime) -> str:
    return art.signing_key().verifier_key


def _verify(art: Runtime, bundle: Path, authority: Authority, **kw: object) -> VerifyReport:
    return verify_bundle(bundle, _key(art), tsa_roots=load_trusted(authority.ca_cert), **kw)  # type: ignore[arg-type]


def _failure(art: Runtime, bundle: Path, authority: Authority, **kw: object) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        _verify(art, bundle, authority, **kw)
    return caught.value


def _tokens(bundle: Path) -> list[Path]:
    return sorted((bundle / "anchors").iterdir(), key=lambda p: int(p.name.split(".")[0]))


def test_the_bundle_holds_each_token_as_received_and_its_checkpoint(
    bundle: Path, authority: Authority
) -> None:
    tokens = _tokens(bundle)
    assert len(tokens) == STEPS
    for token in tokens:
        size = token.name.split(".")[0]
        assert token.name == f"{size}.{authority.name}.tsr"
        note = (bundle / "checkpoints" / size).read_text()
        assert note.startswith("ropa.local/") and f"\n{size}\n" in note


def test_a_bundle_with_anchors_verifies_with_the_tsa_root(
    art: Runtime, bundle: Path, authority: Authority
) -> None:
    report = _verify(art, bundle, authority, max_anchor_lag=3600)
    assert report.anchors is not None
    assert (report.anchors.tokens, report.anchors.trusted) == (STEPS, True)
    assert report.anchors.entries_anchored == report.size
    assert report.anchors.max_lag_seconds is not None
    assert report.anchors.max_lag_seconds < 120


def test_without_tsa_roots_the_report_says_the_tokens_were_not_verified(
    art: Runtime, bundle: Path
) -> None:
    report = verify_bundle(bundle, _key(art))
    assert report.anchors is not None and not report.anchors.trusted
    assert "NOT verified" in report.anchors.lines()[0]


def test_a_tampered_token_fails_its_signature_check(
    art: Runtime, bundle: Path, authority: Authority
) -> None:
    token = _tokens(bundle)[0]
    data = bytearray(token.read_bytes())
    data[-5] ^= 0x01  # inside the CMS signature
    token.write_bytes(bytes(data))
    failure = _failure(art, bundle, authority)
    assert failure.check == Check.ANCHOR_SIGNATURE
    assert token.name in failure.message


def test_a_token_of_a_tsa_the_auditor_does_not_trust_fails(
    art: Runtime, bundle: Path, stranger: Authority
) -> None:
    failure = _failure(art, bundle, stranger)
    assert failure.check == Check.ANCHOR_SIGNATURE


def test_a_token_moved_to_another_size_fails_its_imprint(
    art: Runtime, bundle: Path, authority: Authority
) -> None:
    first, second = _tokens(bundle)[:2]
    second.write_bytes(first.read_bytes())
    failure = _failure(art, bundle, authority)
    assert failure.check == Check.ANCHOR_IMPRINT
    assert second.name in failure.message


def test_another_organisations_token_fails_its_imprint(
    art: Runtime, org: Org, bundle: Path, authority: Authority, tmp_path: Path
) -> None:
    other = make_org(art, "globex")
    Anchorer(art).run_once()
    theirs = _export(art, other, tmp_path / "theirs")
    their_token = _tokens(theirs)[-1]
    mine = _tokens(bundle)[0]
    mine.write_bytes(their_token.read_bytes())
    assert _failure(art, bundle, authority).check == Check.ANCHOR_IMPRINT


def test_another_organisations_checkpoint_with_its_token_fails_the_origin_check(
    art: Runtime, org: Org, bundle: Path, authority: Authority, tmp_path: Path
) -> None:
    other = make_org(art, "globex")
    Anchorer(art).run_once()
    theirs = _export(art, other, tmp_path / "theirs")
    their_token = _tokens(theirs)[-1]
    size = their_token.name.split(".")[0]
    shutil.copy(theirs / "checkpoints" / size, bundle / "checkpoints" / size)
    shutil.copy(their_token, bundle / "anchors" / their_token.name)
    failure = _failure(art, bundle, authority)
    assert failure.check == Check.ANCHOR_ORIGIN


def _resign_backdated(art: Runtime, bundle: Path, out: Path, days: int) -> Path:
    """The same entries with every ts moved `days` back, re-signed with the real key."""
    key = art.signing_key()
    entries = [json.loads(line) for line in (bundle / "entries.jsonl").read_text().splitlines()]
    frontier: list[bytes] = []
    with BundleWriter(out) as writer:
        for entry in entries:
            entry["ts"] = format_ts(parse_ts(entry["ts"]) - timedelta(days=days))
            signed = sign(entry, key)
            writer.add(signed)
            frontier, _ = append_nodes(signed.seq, signed.leaf_hash, frontier)
        size = len(entries)
        tree = root_from_frontier(size, frontier)
        note = sign_checkpoint(entries[0]["origin"], size, tree, [key])
        state = json.loads((bundle / "state.json").read_text())
        writer.finish(note, [key.verifier_key], state)
    return out


def test_entries_re_signed_with_backdated_ts_no_longer_match_the_anchored_roots(
    art: Runtime, bundle: Path, authority: Authority, tmp_path: Path
) -> None:
    forged = _resign_backdated(art, bundle, tmp_path / "forged", days=30)
    verify_bundle(forged, _key(art))  # without its old anchors, the forgery is consistent
    shutil.copytree(bundle / "checkpoints", forged / "checkpoints")
    shutil.copytree(bundle / "anchors", forged / "anchors")
    failure = _failure(art, forged, authority)
    assert failure.check == Check.ANCHOR_ROOT
    assert "rewritten" in failure.message


def test_re_signed_checkpoints_under_old_tokens_fail_the_imprint(
    art: Runtime, bundle: Path, authority: Authority, tmp_path: Path
) -> None:
    forged = _resign_backdated(art, bundle, tmp_path / "forged", days=30)
    (forged / "checkpoints").mkdir()
    key = art.signing_key()
    entries = (forged / "entries.jsonl").read_bytes().splitlines()
    from ropa.ledger.merkle import leaf_hash, root

    for token in _tokens(bundle):
        size = int(token.name.split(".")[0])
        leaves = [leaf_hash(line) for line in entries[:size]]
        origin = json.loads(entries[0])["origin"]
        note = sign_checkpoint(origin, size, root(leaves), [key])
        (forged / "checkpoints" / str(size)).write_text(note)
    shutil.copytree(bundle / "anchors", forged / "anchors")
    assert _failure(art, forged, authority).check == Check.ANCHOR_IMPRINT


def _backdated_at_write(tmp_path: Path, authority: Authority) -> Path:
    """A ledger whose entries claim January 2026, anchored by the TSA only now."""
    out = write_ledger(tmp_path / "backdated", 5)
    note = (out / "checkpoint").read_text()
    (out / "checkpoints").mkdir()
    (out / "checkpoints" / "5").write_text(note)
    (out / "anchors").mkdir()
    request = stamp_request(checkpoint_body(note))
    (out / "anchors" / f"5.{authority.name}.tsr").write_bytes(reply(authority, request.der))
    return out


def test_max_anchor_lag_fails_entries_dated_long_before_their_first_anchor(
    tmp_path: Path, authority: Authority
) -> None:
    bundle = _backdated_at_write(tmp_path, authority)
    roots = load_trusted(authority.ca_cert)
    report = verify_bundle(bundle, SYNTHETIC_OLD.verifier_key, tsa_roots=roots)
    assert report.anchors is not None and report.anchors.max_lag_seconds is not None
    assert report.anchors.max_lag_seconds > 86400  # reported, not failed, without a maximum
    with pytest.raises(VerificationError) as caught:
        verify_bundle(bundle, SYNTHETIC_OLD.verifier_key, tsa_roots=roots, max_anchor_lag=3600)
    assert (caught.value.check, caught.value.seq) == (Check.ANCHOR_LAG, 0)


def test_a_maximum_lag_without_tsa_roots_is_refused(tmp_path: Path, authority: Authority) -> None:
    bundle = _backdated_at_write(tmp_path, authority)
    with pytest.raises(VerificationError) as caught:
        verify_bundle(bundle, SYNTHETIC_OLD.verifier_key, max_anchor_lag=3600)
    assert caught.value.check == Check.ANCHOR_LAG


def test_the_cli_verifies_anchors_and_names_a_failed_check(
    art: Runtime, bundle: Path, authority: Authority, stranger: Authority
) -> None:
    ropa = str(Path(sys.executable).parent / "ropa")
    base = [ropa, "ledger", "verify", str(bundle)]
    base += ["--key", _key(art)]
    ok = subprocess.run(
        [*base, "--tsa-cert", str(authority.ca_cert), "--max-anchor-lag", "PT1H"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert f"anchors: {STEPS} tokens from {authority.name}" in ok.stdout
    bad = subprocess.run(
        [*base, "--tsa-cert", str(stranger.ca_cert)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "anchor signature" in bad.stderr


def test_openssl_alone_verifies_an_exported_token_against_its_checkpoint_body(
    bundle: Path, authority: Authority, tmp_path: Path
) -> None:
    token = _tokens(bundle)[-1]
    size = token.name.split(".")[0]
    # docs/anchors.md: the body is the checkpoint's lines up to the empty line
    body = tmp_path / "body"
    subprocess.run(f"sed '/^$/,$d' {bundle}/checkpoints/{size} > {body}", shell=True, check=True)
    assert body.read_bytes() == checkpoint_body((bundle / "checkpoints" / size).read_text())
    result = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(body), "-in", str(token),
         "-CAfile", str(authority.ca_cert)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Verification: OK" in result.stdout, result.stderr
    digest = hashlib.sha256(body.read_bytes()).hexdigest()
    other = subprocess.run(
        ["openssl", "ts", "-verify", "-digest", digest[::-1], "-in", str(token),
         "-CAfile", str(authority.ca_cert)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Verification: OK" not in other.stdout
