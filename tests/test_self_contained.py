"""The repository stands on its own: nothing it ships points at the project's shared
folder beside it, and the tests that read that folder all go through one helper, which
fails under CI=true when the folder is missing instead of skipping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = [
    "README.md",
    "pyproject.toml",
    "docs",
    "ropa",
    "scripts",
    "docker",
    "migrations",
    "graphql",
    "bench",
]
# the notice-quality benchmark reads notice texts from a folder, by default the seed notices
# beside the repository: texts the repository must never hold (docs/notices.md)
MAY_NAME_THE_SEEDS = {"bench/notices.py"}
OUTSIDE = re.compile(r"\.\./shared|/work/shared|/work/wt|\bshared/(?:LEDGER-SPEC|seeds|DESIGN)")
# a path into the shared folder built in a test: `... / "shared"`, or the variable's name
SHARED_IN_TESTS = re.compile(r"/\s*[\"']shared[\"']|\.\./shared|/work/shared|ROPA_SHARED_DIR")
TEXT = {
    ".py",
    ".md",
    ".json",
    ".graphql",
    ".toml",
    ".yaml",
    ".yml",
    ".sh",
    ".txt",
    ".ini",
    ".cfg",
    "",
}


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return [
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix in TEXT
        and "static" not in p.parts
        and "__pycache__" not in p.parts
    ]


def test_nothing_the_repository_ships_refers_to_the_shared_folder() -> None:
    found = []
    for name in SHIPPED:
        for path in _files(REPO / name):
            if str(path.relative_to(REPO)) in MAY_NAME_THE_SEEDS:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for match in OUTSIDE.finditer(text):
                found.append(f"{path.relative_to(REPO)}: {match.group(0)}")
    assert not found, "\n".join(found)


def test_tests_reach_the_shared_folder_only_through_shared_path() -> None:
    mine = {REPO / "tests" / "conftest.py", Path(__file__).resolve()}
    found = [
        str(path.relative_to(REPO))
        for path in (REPO / "tests").rglob("*.py")
        if path.resolve() not in mine and SHARED_IN_TESTS.search(path.read_text(encoding="utf-8"))
    ]
    assert not found, f"use tests.conftest.shared_path in {found}"


def test_a_missing_shared_file_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        shared_path("no-such-file")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="missing under CI=true"):
        shared_path("no-such-file")
