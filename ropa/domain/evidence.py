"""A privacy notice's text, its analysis and the evidence records drafted from it cite.

Art. 13 and 14 say what a privacy notice must tell people; Art. 30 what the records must
hold. A notice version keeps its text and the analysis of that text in its state, so both
are signed into the ledger entry that publishes it (LEDGER-SPEC §2: JSON with no floats
and integers below 2^53). A record drafted from a notice keeps `evidence`: the notice
version, what in it the record was drafted from, and the `[start, end)` code-point spans
of the text that say so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ropa.domain.checks import FieldChecks, join

MAX_TEXT_BYTES = 1 << 18  # a notice's text, UTF-8 encoded: 256 KiB bounds the analysis time
MAX_SAFE_INTEGER = (1 << 53) - 1
EVIDENCE_FIELDS = ("policyId", "about", "spans")


def text_sha256(text: str) -> str:
    """The SHA-256 of a notice's text as UTF-8, in lower-case hexadecimal."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_ledger_json(value: Any) -> bool:
    """Whether `value` is JSON the ledger can sign: no floats, integers below 2^53."""
    if value is None or isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if isinstance(value, list):
        return all(is_ledger_json(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and is_ledger_json(v) for k, v in value.items())
    return False


def check_spans(check: FieldChecks, value: Any, path: str) -> list[tuple[int, int]]:
    """`[[start, end], ...]`: code-point offsets, 0 <= start <= end."""
    spans: list[tuple[int, int]] = []
    for index, item in enumerate(check.items(value, path)):
        ok = (
            isinstance(item, list)
            and len(item) == 2
            and all(type(x) is int and 0 <= x <= MAX_SAFE_INTEGER for x in item)
            and item[0] <= item[1]
        )
        if not ok:
            check.fail(join(path, index), "must be [start, end] with 0 <= start <= end")
        else:
            spans.append((item[0], item[1]))
    return spans


def check_evidence(check: FieldChecks, value: Any, path: str = "evidence") -> None:
    """A drafted record's evidence: `{policyId, about, spans}`, or null."""
    evidence = check.shape(value, path, EVIDENCE_FIELDS, nullable=True)
    if evidence is not None:
        check.uuid(evidence.get("policyId"), join(path, "policyId"))
        check.text(evidence.get("about"), join(path, "about"), required=True)
        check_spans(check, evidence.get("spans"), join(path, "spans"))


def check_notice_text(check: FieldChecks, state: Mapping[str, Any]) -> None:
    """A notice version's `text`, `textFormat`, `analysis` and `sha256` agree."""
    text = check.text(state.get("text"), "text")
    text_format = state.get("textFormat")
    analysis = state.get("analysis")
    if text is None:
        if text_format is not None:
            check.fail("textFormat", "is only recorded with the text")
        if analysis is not None:
            check.fail("analysis", "is only recorded with the text")
        return
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        check.fail("text", f"must be at most {MAX_TEXT_BYTES} bytes of UTF-8")
    if text_format is None:
        check.fail("textFormat", "is required with the text: PLAIN, MARKDOWN or HTML")
    if analysis is not None and (not isinstance(analysis, Mapping) or not is_ledger_json(analysis)):
        check.fail("analysis", "must be a JSON object without floats or integers past 2^53")
    digest = state.get("sha256")
    if digest is not None and digest != text_sha256(text):
        check.fail("sha256", "does not match the SHA-256 of the text's UTF-8")
