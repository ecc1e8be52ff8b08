"""Vendors known by name: the recipients a privacy notice names (GDPR Art. 13(1)(e), 14(1)(e)).

The built-in list is `vendors/*.toml` beside this module; users add their own files (same
format) in the folder named by `ROPA_VENDOR_DIR`. Each vendor has a `name`, its
`legal_entity` (reported as `canonical`), the `country` of its seat, `aliases` (products and
other names, matched case-insensitively) and `exact` names that are also common words
("Stripe", "Segment"), matched only in that case and never as a sentence's first word.
An entry with `recipient = false` names products that contain a vendor's name but receive
nothing ("Google Chrome"): they are matched, so the shorter name is not, and never reported.

Matching is one pass of an Aho-Corasick automaton (pyahocorasick) over the lower-cased text,
keeping whole-word hits and, of overlapping hits, the longest.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from ropa.domain.countries import is_country

BUILTIN_DIR = Path(__file__).parent / "vendors"


@dataclass(frozen=True)
class Vendor:
    name: str
    legal_entity: str
    country: str | None
    services: tuple[str, ...]
    recipient: bool = True  # False: a product name to step over ("Google Chrome")


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    vendor: Vendor
    exact: bool  # matched as a common word: only valid mid-sentence


def _load_file(path: Path) -> list[tuple[Vendor, list[str], list[str]]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"vendor file {path}: {exc}") from exc
    out = []
    for entry in data.get("vendor", []):
        name = str(entry["name"])
        country = entry.get("country")
        if country is not None and not is_country(str(country)):
            raise ValueError(f"vendor file {path}: {name}: not an ISO 3166-1 code: {country!r}")
        vendor = Vendor(
            name=name,
            legal_entity=str(entry.get("legal_entity") or name),
            country=str(country) if country else None,
            services=tuple(str(s) for s in entry.get("services", [])),
            recipient=bool(entry.get("recipient", True)),
        )
        exact = [str(a) for a in entry.get("exact", [])]
        loose = [str(a) for a in entry.get("aliases", [])]
        if entry.get("match_name", True) and name not in exact:
            loose.insert(0, name)
        out.append((vendor, loose, exact))
    return out


def vendor_files(extra_dir: str | None = None) -> list[Path]:
    """The built-in vendor files, then those of `extra_dir` (default: `ROPA_VENDOR_DIR`)."""
    files = sorted(BUILTIN_DIR.glob("*.toml"))
    folder = extra_dir if extra_dir is not None else os.environ.get("ROPA_VENDOR_DIR")
    if folder:
        path = Path(folder)
        if not path.is_dir():
            raise ValueError(f"ROPA_VENDOR_DIR {folder!r} is not a folder of vendor .toml files")
        files += sorted(path.glob("*.toml"))
    return files


class Gazetteer:
    """An automaton over every vendor name; later files override earlier ones per name."""

    def __init__(self, files: list[Path]) -> None:
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, tuple[Vendor, bool, str]] = {}
        for path in files:
            for vendor, loose, exact in _load_file(path):
                for alias in loose:
                    entries[alias.lower()] = (vendor, False, alias)
                for alias in exact:
                    entries[alias.lower()] = (vendor, True, alias)
        for key, value in entries.items():
            self._automaton.add_word(key, (len(key), *value))
        self.size = len(entries)
        if entries:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Hit]:
        if self.size == 0:
            return []
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters lower-case to two code points
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        hits: list[Hit] = []
        for last, (length, vendor, exact, alias) in self._automaton.iter(lowered):
            start, end = last + 1 - length, last + 1
            if start > 0 and _word_char(text[start - 1]):
                continue
            if end < len(text) and _word_char(text[end]):
                continue
            if exact and text[start:end] != alias:
                continue
            hits.append(Hit(start, end, vendor, exact))
        hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
        kept: list[Hit] = []
        for hit in hits:
            if kept and hit.start < kept[-1].end:
                continue
            kept.append(hit)
        return kept


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"
