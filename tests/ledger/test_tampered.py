"""Every tampered bundle in tests/assets/tampered/ is caught by the right check at the right seq."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ropa.errors import VerificationError
from ropa.ledger.verify import Check, verify_bundle

TAMPERED = Path(__file__).resolve().parent.parent / "assets" / "tampered"

# case: (check, seq) it must fail with on its own
CAUGHT_ALONE: dict[str, tuple[Check, int | None]] = {
    "edited-entry": (Check.LEAF_HASH, 4),
    "edited-entry-rehashed": (Check.SIGNATURE, 4),
    "deleted-entry": (Check.SEQ, 3),
    "swapped-entries": (Check.SEQ, 1),
    "forged-signature": (Check.SIGNATURE, 5),
    "bit-flipped-signature": (Check.SIGNATURE, 2),
    "unknown-key-id": (Check.SIGNATURE, 8),
    "edited-state": (Check.STATE, None),
    "non-canonical-line": (Check.CANONICAL, 3),
    "retired-key": (Check.SIGNATURE, 8),
    "rotation-signed-by-new-key": (Check.SIGNATURE, 6),
    "stale-checkpoint": (Check.ROOT, None),
    "checkpoint-signed-by-retired-key": (Check.CHECKPOINT_SIGNATURE, None),
    "ts-backwards": (Check.TS, 8),
    "broken-chain": (Check.CHAIN, 4),
    "changed-origin": (Check.ORIGIN, 2),
}

# cases that verify on their own and are caught only against the auditor's kept checkpoint
CAUGHT_BY_KEPT_CHECKPOINT = ["truncated-tail", "rewritten-history"]


def _first_key() -> str:
    vectors = TAMPERED.parent / "ledger-vectors"
    return (vectors / "keys.txt").read_text().splitlines()[0]


@pytest.mark.parametrize(("case", "expected"), CAUGHT_ALONE.items(), ids=list(CAUGHT_ALONE))
@pytest.mark.parametrize("workers", [1, 2])
def test_tampered_bundle_fails_with_the_expected_check_and_seq(
    case: str, expected: tuple[Check, int | None], workers: int
) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_bundle(TAMPERED / case, _first_key(), workers=workers, chunk_size=2)
    assert (caught.value.check, caught.value.seq) == expected, str(caught.value)


@pytest.mark.parametrize("case", CAUGHT_BY_KEPT_CHECKPOINT)
def test_truncated_or_rewritten_history_passes_alone_but_fails_against_a_kept_checkpoint(
    case: str,
) -> None:
    bundle = TAMPERED / case
    report = verify_bundle(bundle, _first_key())
    assert report.size in (8, 10)
    with pytest.raises(VerificationError) as caught:
        verify_bundle(
            bundle, _first_key(), kept_checkpoint=(bundle / "kept-checkpoint").read_text()
        )
    assert (caught.value.check, caught.value.seq) == (Check.CONSISTENCY, None)


def test_every_tampered_asset_has_a_stated_expectation() -> None:
    cases = {p.name for p in TAMPERED.iterdir() if p.is_dir()}
    assert cases == set(CAUGHT_ALONE) | set(CAUGHT_BY_KEPT_CHECKPOINT)


def test_the_checked_in_assets_are_exactly_what_make_tampered_makes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_tampered", TAMPERED.parent / "make_tampered.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    made = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    checked_in = {
        p.relative_to(TAMPERED): p.read_bytes() for p in TAMPERED.rglob("*") if p.is_file()
    }
    assert made.keys() == checked_in.keys()
    for name, data in made.items():
        assert checked_in[name] == data, name
