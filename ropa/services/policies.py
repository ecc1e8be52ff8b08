"""Publishing privacy-notice versions (Art. 13, 14): a new version never overwrites the old one.

A version may carry the notice's text, in a `TextFormat`. Its SHA-256 is computed here from
the text's UTF-8 (a caller's own `sha256` must match it), and the text is analysed
(`ropa.notices.analyze`: vendors, countries, categories, bases, retention, contacts): the
text and the analysis are part of the version's state, so the ledger entry that publishes
the version signs both. Versions without text stay valid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ropa.domain.evidence import is_ledger_json, text_sha256
from ropa.domain.vocabulary import TextFormat
from ropa.errors import ConflictError, FieldError, ValidationError
from ropa.services.access import Action, Principal, authorize
from ropa.services.changes import Change, new_state, open_transaction, single
from ropa.services.runtime import Runtime
from ropa.store.tables import PrivacyPolicy

Analyzer = Callable[[str, str], dict[str, Any]]

MEDIA_TYPES = {
    TextFormat.PLAIN: "text/plain",
    TextFormat.MARKDOWN: "text/markdown",
    TextFormat.HTML: "text/html",
}


def default_analyzer(text: str, media_type: str) -> dict[str, Any]:
    from ropa.notices import analyze

    return analyze(text, media_type)


def publish_privacy_policy(
    rt: Runtime,
    principal: Principal,
    data: dict[str, Any],
    text: str | None = None,
    text_format: str | None = None,
    *,
    analyzer: Analyzer | None = None,
) -> Change:
    """A new version; with its `text`, the text's SHA-256 and analysis are kept with it."""
    org_id = principal.org_id or ""
    authorize(principal, Action.WRITE_RECORDS, org_id)
    data = {**data, **_text_fields(data, text, text_format, analyzer or default_analyzer)}
    state = new_state("PrivacyPolicy", data)
    with open_transaction(rt, principal, org_id) as tx:
        if tx.current_where(PrivacyPolicy, version=state["version"]):
            raise ConflictError(
                f"privacy policy version {state['version']!r} is already published; "
                "publish a new version instead"
            )
        tx.create(PrivacyPolicy, "publishPrivacyPolicy", state)
        receipts = tx.commit()
    return Change(state, single(receipts, state["id"]), "PrivacyPolicy")


def _text_fields(
    data: dict[str, Any], text: str | None, text_format: str | None, analyzer: Analyzer
) -> dict[str, Any]:
    if text is None:
        if text_format is not None:
            raise ValidationError(FieldError("textFormat", "is only given with the text"))
        return {}
    digest = text_sha256(text)
    given = data.get("sha256")
    if given is not None and given != digest:
        raise ValidationError(
            FieldError("sha256", f"does not match the SHA-256 of the text's UTF-8 ({digest})")
        )
    fmt = TextFormat(text_format) if text_format is not None else TextFormat.PLAIN
    fields: dict[str, Any] = {"sha256": digest, "text": text, "textFormat": fmt.value}
    # validate size before analysing: an oversized text is refused without the work
    new_state("PrivacyPolicy", {**data, **fields})
    analysis = analyzer(text, MEDIA_TYPES[fmt])
    if not is_ledger_json(analysis):
        raise ValueError("the notice analysis is not JSON the ledger can sign")
    return {**fields, "analysis": analysis}
