"""`verify_witnesses` on synthetic bundles: roots, log signatures, cosignatures, the quorum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ropa.errors import VerificationError
from ropa.ledger.checkpoint import sign_checkpoint
from ropa.ledger.cosignature import CosigningKey
from ropa.ledger.keys import SigningKey
from ropa.ledger.merkle import append_nodes, root_from_frontier
from ropa.ledger.note import parse_note
from ropa.ledger.verify import VerifyReport, verify_bundle
from ropa.ledger.verify_witness import WitnessReport, verify_witnesses
from tests.ledger.conftest import ORIGIN, SYNTHETIC_NEW, SYNTHETIC_OLD, MakeLedger

W1 = CosigningKey(name="auditor.test/w1", seed=bytes(range(64, 96)))
W2 = CosigningKey(name="regulator.test/w2", seed=bytes(range(96, 128)))


def root_at(bundle: Path, size: int) -> bytes:
    frontier: list[bytes] = []
    lines = (bundle / "signatures.jsonl").read_bytes().splitlines()
    for seq, line in enumerate(lines[:size]):
        frontier, _ = append_nodes(seq, bytes.fromhex(json.loads(line)["leafHash"]), frontier)
    return root_from_frontier(size, frontier)


def cosigned(
    bundle: Path,
    size: int,
    key: SigningKey,
    witnesses: list[CosigningKey],
    root: bytes | None = None,
) -> str:
    note = sign_checkpoint(ORIGIN, size, root or root_at(bundle, size), [key])
    text, _ = parse_note(note)
    return note + "".join(w.cosign(text, 1_800_000_000 + size).line() for w in witnesses)


def file(bundle: Path, name: str, note: str) -> None:
    (bundle / "checkpoints").mkdir(exist_ok=True)
    (bundle / "checkpoints" / name).write_text(note)


def made(make_ledger: MakeLedger, size: int, **options: int) -> tuple[Path, VerifyReport]:
    """A bundle and its report from `verify_bundle`, before any `checkpoints/` is added:
    these tests are of `verify_witnesses` alone (`verify_bundle` checks the same files'
    roots and log signatures too, see tests/anchors)."""
    bundle = make_ledger(size, **options)
    return bundle, verify_bundle(bundle, SYNTHETIC_OLD.verifier_key, workers=1)


def check(
    bundle: Path,
    report: VerifyReport,
    witnesses: list[CosigningKey],
    quorum: int | None = None,
) -> WitnessReport:
    return verify_witnesses(
        bundle,
        report.origin,
        report.size,
        report.verifier_keys,
        [w.verifier_key for w in witnesses],
        quorum,
    )


def test_cosigned_checkpoints_across_a_rotation_meet_a_quorum_of_two(
    make_ledger: MakeLedger,
) -> None:
    bundle, report = made(make_ledger, 12, rotate_at=6)
    file(bundle, "4", cosigned(bundle, 4, SYNTHETIC_OLD, [W1]))
    file(bundle, "10", cosigned(bundle, 10, SYNTHETIC_NEW, [W1, W2]))
    found = check(bundle, report, [W1, W2])
    assert found.quorum_size == 10
    assert found.cosigned == {
        4: ("auditor.test/w1",),
        10: ("auditor.test/w1", "regulator.test/w2"),
    }


def test_the_newest_cosigned_checkpoint_decides_the_quorum(make_ledger: MakeLedger) -> None:
    bundle, report = made(make_ledger, 8)
    file(bundle, "3", cosigned(bundle, 3, SYNTHETIC_OLD, [W1, W2]))
    file(bundle, "7", cosigned(bundle, 7, SYNTHETIC_OLD, [W1]))
    with pytest.raises(VerificationError, match="quorum not met: checkpoint 7"):
        check(bundle, report, [W1, W2])
    check(bundle, report, [W1, W2], quorum=1)


def test_no_cosignature_at_all_fails_the_quorum(make_ledger: MakeLedger) -> None:
    bundle, report = made(make_ledger, 5)
    with pytest.raises(VerificationError, match="quorum not met: no checkpoint"):
        check(bundle, report, [W1])


def test_a_witnessed_checkpoint_with_another_root_fails(make_ledger: MakeLedger) -> None:
    bundle, report = made(make_ledger, 6)
    file(bundle, "5", cosigned(bundle, 5, SYNTHETIC_OLD, [W1], root=bytes(32)))
    with pytest.raises(VerificationError, match="witnessed checkpoint: checkpoints/5: its root"):
        check(bundle, report, [W1])


def test_a_witnessed_checkpoint_not_signed_by_the_log_fails(make_ledger: MakeLedger) -> None:
    bundle, report = made(make_ledger, 6)
    impostor = SigningKey(SYNTHETIC_OLD.name, bytes(32))
    file(bundle, "5", cosigned(bundle, 5, impostor, [W1]))
    with pytest.raises(VerificationError, match="witnessed checkpoint signature: checkpoints/5"):
        check(bundle, report, [W1])


@pytest.mark.parametrize("name", ["05", "five", "4"])
def test_a_checkpoint_file_must_be_named_by_its_size(make_ledger: MakeLedger, name: str) -> None:
    bundle, report = made(make_ledger, 6)
    file(bundle, name, cosigned(bundle, 5, SYNTHETIC_OLD, [W1]))
    with pytest.raises(VerificationError, match="witnessed checkpoint"):
        check(bundle, report, [W1])


def test_lines_by_unconfigured_witnesses_are_ignored(make_ledger: MakeLedger) -> None:
    bundle, report = made(make_ledger, 6)
    stranger = CosigningKey.generate("stranger.test/w9")
    file(bundle, "5", cosigned(bundle, 5, SYNTHETIC_OLD, [stranger, W1]))
    found = check(bundle, report, [W1])
    assert found.cosigned == {5: ("auditor.test/w1",)}


def test_a_quorum_above_the_witnesses_given_is_refused(make_ledger: MakeLedger) -> None:
    bundle, report = made(make_ledger, 3)
    with pytest.raises(ValueError, match="quorum"):
        check(bundle, report, [W1], quorum=2)


def test_the_whole_verifier_accepts_cosigned_checkpoints_and_rejects_a_rewritten_one(
    make_ledger: MakeLedger,
) -> None:
    bundle = make_ledger(12, rotate_at=6)
    file(bundle, "4", cosigned(bundle, 4, SYNTHETIC_OLD, [W1]))
    file(bundle, "10", cosigned(bundle, 10, SYNTHETIC_NEW, [W1, W2]))
    report = verify_bundle(bundle, SYNTHETIC_OLD.verifier_key, workers=1)
    assert check(bundle, report, [W1, W2]).quorum_size == 10
    file(bundle, "8", cosigned(bundle, 8, SYNTHETIC_NEW, [W1], root=bytes(32)))
    report = verify_bundle(bundle, SYNTHETIC_OLD.verifier_key, workers=1)
    with pytest.raises(VerificationError, match="checkpoints/8"):  # as `verify --witness`
        check(bundle, report, [W1, W2])
