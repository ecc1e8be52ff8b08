"""Any text, in any media type, yields the documented shape with spans inside the input."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ropa.notices import analyze

FIELDS = {
    "thirdParties": {"name": str, "canonical": (str, type(None))},
    "countries": {"code": str},
    "regions": {"name": str},
    "dataCategories": {"key": str},
    "dataUses": {"key": str},
    "legalBases": {"article": str},
    "transferMechanisms": {"mechanism": str},
    "retention": {"text": str, "period": str},
    "contacts": {"kind": str, "email": str},
}

# text that looks like notices often enough for the matchers to fire, mixed with anything
WORDS = st.sampled_from(
    [
        "We",
        "use",
        "HubSpot",
        "Stripe",
        "Inc.",
        "stored",
        "in",
        "Germany",
        "EEA",
        "consent",
        "email address",
        "for",
        "two",
        "years",
        "dpo@example.com",
        "Data Protection Officer",
        "such as",
        "Acme",
        ",",
        ".",
        "\n",
        "<p>",
        "</p>",
        "&amp;",
        "**",
        "#",
        "[x](y)",
        " ",
    ]
)
TEXTS = st.one_of(st.text(), st.lists(st.one_of(WORDS, st.text(max_size=3))).map(" ".join))


def _check(text: str, result: dict[str, list[dict[str, Any]]]) -> None:
    assert list(result) == list(FIELDS)
    for field, attrs in FIELDS.items():
        for item in result[field]:
            assert set(item) == {*attrs, "spans"}
            for attr, kind in attrs.items():
                assert isinstance(item[attr], kind)
            assert item["spans"], "an item without evidence"
            for start, end in item["spans"]:
                assert isinstance(start, int) and isinstance(end, int)
                assert 0 <= start < end <= len(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, media_type=st.sampled_from(["text/plain", "text/markdown", "text/html"]))
def test_any_text_yields_a_valid_shape_with_spans_inside_it(text: str, media_type: str) -> None:
    _check(text, analyze(text, media_type))
