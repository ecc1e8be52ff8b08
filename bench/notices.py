"""How well `ropa.notices.analyze` reads privacy notices: precision and recall, speed, memory.

    .venv/bin/python -m bench.notices [FOLDER ...] [--details tune|all]

Reads every notice text (`*.txt`, `*.md`, `*.html`, `*.htm`) in the FOLDERs (default:
`../shared/seeds` beside the repository; notice texts are never kept in the repository),
finds its annotation in `bench/notice_annotations/` by the SHA-256 of its bytes, analyses
it, and prints precision and recall per field, separately for the notices used to tune the
phrase lists ("tune") and for those held out ("heldout", never looked at while tuning).
Fields are compared as sets per notice and summed over the notices of a split
(micro-average):

- thirdParties by canonical legal entity, or by name when the analyser has no canonical;
- countries by ISO code; legalBases, transferMechanisms, retention periods as given;
- dataCategories and dataUses at the second level of the Fides taxonomy (`user.contact`,
  `essential.service`); contacts by e-mail address.

Then the speed (median milliseconds to analyse a 20 KB notice after warm-up, one core) and
the process's peak resident memory. docs/notices.md has the annotation rules.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANNOTATIONS = ROOT / "bench" / "notice_annotations"
DEFAULT_FOLDER = ROOT.parent / "shared" / "seeds"
SPLITS = ("tune", "heldout")
SUFFIXES = {".txt": "text/plain", ".md": "text/markdown", ".html": "text/html",
            ".htm": "text/html"}  # fmt: skip
SIZE = 20 * 1024
FIELDS = (
    "thirdParties", "countries", "dataCategories", "dataUses", "legalBases",
    "transferMechanisms", "retention", "contacts",
)  # fmt: skip
TARGETS = {"thirdParties": (0.95, 0.90), "countries": (0.95, 0.95), "dataCategories": (0.85, 0.80)}


_LEGAL_FORM = re.compile(
    r"[,\s]+(inc|ltd|limited|llc|l\.l\.c|gmbh|corp|corporation|plc|pbc|s\.a|sa|sas|b\.v|bv|"
    r"n\.v|ag|ab|pty|pte)\.?$"
)


def party(name: str) -> str:
    """A recipient's name compared without case or a trailing legal form."""
    folded = name.casefold().strip()
    while (shorter := _LEGAL_FORM.sub("", folded)) != folded:
        folded = shorter
    return folded


def _two_levels(key: str) -> str:
    return ".".join(key.split(".")[:2])


def predicted_set(result: dict[str, list[dict[str, Any]]], field: str) -> set[str]:
    items = result[field]
    if field == "thirdParties":
        return {party(str(i["canonical"] or i["name"])) for i in items}
    if field == "countries":
        return {i["code"] for i in items}
    if field in {"dataCategories", "dataUses"}:
        return {_two_levels(i["key"]) for i in items}
    if field == "legalBases":
        return {i["article"] for i in items}
    if field == "transferMechanisms":
        return {i["mechanism"] for i in items}
    if field == "retention":
        return {i["period"] for i in items}
    return {str(i["email"]).lower() for i in items}  # contacts


def expected_set(annotation: dict[str, Any], field: str) -> set[str]:
    items = annotation.get(field, [])
    if field == "thirdParties":
        return {party(str(i["party"])) for i in items}
    if field == "countries":
        return {i["code"] for i in items}
    if field in {"dataCategories", "dataUses"}:
        return {_two_levels(i) for i in items}
    if field == "legalBases":
        return {i["article"] for i in items}
    if field == "transferMechanisms":
        return {i["mechanism"] for i in items}
    if field == "retention":
        return {i["period"] for i in items}
    return {str(i["email"]).lower() for i in items}


def load_annotations(folder: Path = ANNOTATIONS) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("split") not in SPLITS:
            raise SystemExit(f"{path.name}: split must be one of {SPLITS}")
        out[str(data["sha256"])] = data
    return out


def notices(folders: list[Path]) -> list[tuple[Path, str, str]]:
    """(path, media type, sha256) of each notice text in `folders`."""
    found = []
    for path in sorted(p for folder in folders for p in folder.iterdir()):
        media_type = SUFFIXES.get(path.suffix.lower())
        if media_type is not None and path.is_file():
            found.append((path, media_type, hashlib.sha256(path.read_bytes()).hexdigest()))
    return found


class Counts:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0

    def add(self, predicted: set[str], expected: set[str]) -> None:
        self.tp += len(predicted & expected)
        self.fp += len(predicted - expected)
        self.fn += len(expected - predicted)

    def precision(self) -> float | None:
        total = self.tp + self.fp
        return self.tp / total if total else None

    def recall(self) -> float | None:
        total = self.tp + self.fn
        return self.tp / total if total else None


def score(folders: list[Path]) -> dict[str, Any]:
    """Per split and field, the counts; per notice, the misses; which notices were read."""
    from ropa.notices import analyze

    annotations = load_annotations()
    counts = {split: {field: Counts() for field in FIELDS} for split in SPLITS}
    read: dict[str, list[str]] = {split: [] for split in SPLITS}
    misses: dict[str, dict[str, Any]] = {}
    skipped = []
    for path, media_type, sha in notices(folders):
        annotation = annotations.get(sha)
        if annotation is None:
            skipped.append(path.name)
            continue
        split = annotation["split"]
        read[split].append(path.name)
        result = analyze(path.read_text(encoding="utf-8"), media_type)
        misses[path.name] = {"split": split}
        for field in FIELDS:
            predicted, expected = predicted_set(result, field), expected_set(annotation, field)
            counts[split][field].add(predicted, expected)
            misses[path.name][field] = {
                "false positives": sorted(predicted - expected),
                "missed": sorted(expected - predicted),
            }
    return {"counts": counts, "read": read, "misses": misses, "skipped": skipped}


def speed(folders: list[Path], repeat: int = 15) -> tuple[float, float]:
    """Median CPU and wall milliseconds to analyse a 20 KB notice (each repeated to 20 KB).

    CPU time is the analyser's own on one core; wall time adds whatever else the machine runs.
    """
    from ropa.notices import analyze

    texts = []
    for path, media_type, _ in notices(folders):
        text = path.read_text(encoding="utf-8")
        if text:
            texts.append(((text * (SIZE // max(len(text), 1) + 1))[:SIZE], media_type))
    for text, media_type in texts:  # warm-up
        analyze(text, media_type)
    cpu, wall = [], []
    for _ in range(repeat):
        for text, media_type in texts:
            started, started_cpu = time.perf_counter(), time.process_time()
            analyze(text, media_type)
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
    if not cpu:
        return float("nan"), float("nan")
    return statistics.median(cpu), statistics.median(wall)


def _fmt(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.2f}"


def report(scored: dict[str, Any]) -> str:
    lines = []
    for split in SPLITS:
        names = ", ".join(scored["read"][split]) or "none"
        lines.append(f"{split}: {names}")
    header = f"{'field':<20}" + "".join(
        f" | {split + ' P':>10} {'R':>6} {'tp/fp/fn':>9}" for split in SPLITS
    )
    lines += ["", header, "-" * len(header)]
    for field in FIELDS:
        row = f"{field:<20}"
        for split in SPLITS:
            c = scored["counts"][split][field]
            row += f" | {_fmt(c.precision()):>10} {_fmt(c.recall()):>6} "
            row += f"{f'{c.tp}/{c.fp}/{c.fn}':>9}"
        lines.append(row)
    lines.append("")
    for field, (p_target, r_target) in TARGETS.items():
        c = scored["counts"]["heldout"][field]
        p, r = c.precision(), c.recall()
        if p is None and r is None:
            verdict = "not measured (the held-out notices name none)"
        else:
            met = (p is None or p >= p_target) and (r is None or r >= r_target)
            verdict = "met" if met else "missed"
        lines.append(
            f"held-out target {field}: P >= {p_target}, R >= {r_target}: "
            f"{verdict} (P {_fmt(p).strip()}, R {_fmt(r).strip()})"
        )
    if scored["skipped"]:
        lines.append(f"not annotated (skipped): {', '.join(scored['skipped'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[DEFAULT_FOLDER])
    parser.add_argument("--details", choices=["none", "tune", "all"], default="none",
                        help="print each notice's false positives and misses")  # fmt: skip
    args = parser.parse_args(argv)
    for folder in args.folders:
        if not folder.is_dir():
            print(f"error: {folder} is not a folder of notice texts", file=sys.stderr)
            return 1
    load = os.getloadavg()
    print(f"machine load (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{os.cpu_count()} cores")  # fmt: skip
    scored = score(args.folders)
    print(report(scored))
    if args.details != "none":
        for name, by_field in scored["misses"].items():
            if args.details == "tune" and by_field["split"] != "tune":
                continue
            print(f"\n{name} ({by_field['split']})")
            for field in FIELDS:
                if by_field[field]["false positives"] or by_field[field]["missed"]:
                    print(f"  {field}: {json.dumps(by_field[field])}")
    cpu_ms, wall_ms = speed(args.folders)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nspeed: {cpu_ms:.1f} ms CPU ({wall_ms:.1f} ms wall) per 20 KB notice "
        "(median, after warm-up, one core; target <= 100 ms)"
    )
    print(f"peak memory (RSS) of this process: {peak_mb:.0f} MB (target < 150 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
