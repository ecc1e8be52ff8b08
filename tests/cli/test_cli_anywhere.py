"""Every `ropa` command, run as a newcomer runs it: a real process, from a folder that is
not the repository, with no `ROPA_*` settings.

The commands are enumerated from the typer app, so a new command is covered as soon as it
exists (and this test asks for a sample value of any new required parameter). Whatever a
command does there, it prints no traceback; when it fails, it says what to do in one line
and exits non-zero; and no command but `migrate` leaves a `ropa.db` behind.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main

from ropa.cli.main import app

ROPA = Path(sys.executable).parent / "ropa"
VERIFIER_KEY = "ropa.local-20261101+b439fbc3+AX7TBodCWYQ7UC06iv+ZtqBDEbTX8xbVwnm5sL05ji/e"
# a value for every required parameter, by its name
SAMPLES = {
    "org": "acme",
    "role": "DPO",
    "slug": "acme",
    "name": "Acme",
    "country": "DE",
    "token_id": "00000000-0000-4000-8000-000000000000",
    "key": VERIFIER_KEY,
    "out": "bundle",
    "bundle": "bundle",
    "key_file": "witness.key",
    "file": "notice.txt",
}
# the same commands with the options a newcomer tries next
VARIANTS = (
    ("ledger", "verify", "bundle", "--key", VERIFIER_KEY, "--checkpoint", "kept"),
    ("ledger", "verify", ".", "--key", VERIFIER_KEY, "--database", "sqlite:///nonexistent.db"),
    ("export", "ropa", "--org", "acme", "--format", "json", "--out", "ropa.json"),
    ("migrate",),
)


def commands(busy_port: int) -> Iterator[tuple[str, ...]]:
    """Every leaf command of the app, with its required parameters filled in; a command
    that listens (has `--port`) is given a port that is in use, so it cannot serve here."""

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            for name, sub in sorted(command.commands.items()):
                yield from walk(sub, (*path, name))
            return
        args: list[str] = []
        for param in command.params:
            if not param.required:
                continue
            assert param.name in SAMPLES, f"add a sample value for {param.name!r} of {path}"
            if param.param_type_name == "argument":
                args.append(SAMPLES[param.name])
            else:
                args += [param.opts[0], SAMPLES[param.name]]
        if any("--port" in param.opts for param in command.params):
            args += ["--port", str(busy_port)]
        yield (*path, *args)

    yield from walk(typer.main.get_command(app), ())


@dataclass
class Run:
    args: tuple[str, ...]
    folder: Path
    code: int
    out: str
    err: str


def newcomer_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROPA_")}
    env["HOME"] = str(home)
    env.pop("CI", None)
    return env


def run(args: tuple[str, ...], folder: Path, env: dict[str, str]) -> Run:
    try:
        done = subprocess.run(
            [str(ROPA), *args],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # killed: reported by check()
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return Run(args, folder, -9, out, "did not end within 120 s\n(still running)")
    return Run(args, folder, done.returncode, done.stdout, done.stderr)


def check(r: Run) -> list[str]:
    """What is wrong with how the command ended, if anything."""
    said = f"`ropa {' '.join(r.args)}` (exit {r.code}):\n{r.out}{r.err}"
    problems = []
    if "Traceback" in r.out + r.err:
        problems.append(f"printed a traceback: {said}")
    if r.code != 0:
        lines = [line for line in r.err.splitlines() if line.strip()]
        if len(lines) != 1 or not lines[0].startswith(("error: ", "FAILED: ")):
            problems.append(f"failed without one line saying what to do: {said}")
    return problems


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def run_all(cases: list[tuple[str, ...]], make_folder: object, env: dict[str, str]) -> list[Run]:
    def one(i_args: tuple[int, tuple[str, ...]]) -> Run:
        i, args = i_args
        folder = make_folder(i)  # type: ignore[operator]
        return run(args, folder, env)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, enumerate(cases)))


def test_every_command_from_a_foreign_folder_without_a_database_fails_in_one_line_and_makes_no_database(  # noqa: E501
    tmp_path: Path, busy_port: int
) -> None:
    cases = [c for c in commands(busy_port) if c != ("migrate",)] + list(VARIANTS[:-1])
    assert ("token", "list", "--org", "acme") in cases and ("keys", "rotate") in cases

    def folder(i: int) -> Path:
        path = tmp_path / f"run-{i}"
        path.mkdir()
        return path

    runs = run_all(cases, folder, newcomer_env(tmp_path))
    problems = [p for r in runs for p in check(r)]
    for r in runs:
        if (r.folder / "ropa.db").exists():
            problems.append(f"`ropa {' '.join(r.args)}` created {r.folder / 'ropa.db'}")
    assert not problems, "\n\n".join(problems)
    by_args = {r.args[:2]: r for r in runs}
    assert "no ropa database at" in by_args["token", "list"].err
    assert "ropa migrate" in by_args["token", "list"].err
    assert str(tmp_path) in by_args["export", "ropa"].err  # the absolute path, not ./ropa.db
    serve = next(r for r in runs if r.args[0] == "serve")
    assert serve.code != 0
    assert serve.err.strip() == (
        f"error: port {busy_port} is in use: stop the other process or pass --port N"
    )
    kept = next(r for r in runs if "--checkpoint" in r.args)
    assert "bundle" in kept.err  # the missing bundle is named
    live = next(r for r in runs if "--database" in r.args)
    assert "checkpoint" in live.err


def test_every_command_in_a_migrated_folder_ends_without_a_traceback(
    tmp_path: Path, busy_port: int
) -> None:
    env = newcomer_env(tmp_path)
    base = tmp_path / "base"
    base.mkdir()
    first = run(("migrate",), base, env)
    assert first.code == 0, first.err
    assert first.out.startswith("applied ") and "migrations: 0001" in first.out
    again = run(("migrate",), base, env)
    assert again.code == 0 and "already up to date" in again.out, again.out
    assert run(("keys", "init"), base, env).code == 0

    cases = [c for c in commands(busy_port) if c[:2] != ("keys", "init")] + list(VARIANTS)

    def folder(i: int) -> Path:
        path = tmp_path / f"run-{i}"
        shutil.copytree(base, path)
        return path

    runs = run_all(cases, folder, env)
    problems = [p for r in runs for p in check(r)]
    assert not problems, "\n\n".join(problems)
    by_args = {r.args[:2]: r for r in runs}
    assert "no organisation 'acme'" in by_args["token", "list"].err
    assert by_args["org", "create"].code == 0
