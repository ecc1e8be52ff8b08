"""HTML and Markdown notices are read as prose, with spans into the raw input."""

from __future__ import annotations

from ropa.notices import analyze
from ropa.notices.text import readable


def _evidence(raw: str, item: dict[str, object]) -> list[str]:
    spans = item["spans"]
    assert isinstance(spans, list)
    return [raw[start:end] for start, end in spans]


def test_html_markup_scripts_and_styles_are_not_prose() -> None:
    raw = (
        "<html><head><title>Notice</title><style>p{color:red}</style></head><body>"
        "<script>var HubSpot = 1;</script><h1>Privacy</h1><p>We use <b>Zendesk</b>.</p>"
        "</body></html>"
    )
    prose = readable(raw, "text/html")
    assert "color" not in prose.text and "var" not in prose.text
    assert "Privacy\nWe use Zendesk." in prose.text


def test_html_spans_point_into_the_raw_markup() -> None:
    raw = (
        '<div class="x"><p>Data is stored in the <em>United&nbsp;Kingdom</em> and sent to '
        "<a href='https://x.example'>Twilio</a>.</p><p>Contact dpo@example.org, our DPO.</p></div>"
    )
    result = analyze(raw, "text/html")
    assert _evidence(raw, result["countries"][0]) == ["United&nbsp;Kingdom"]
    assert _evidence(raw, result["thirdParties"][0]) == ["Twilio"]
    assert _evidence(raw, result["contacts"][0]) == ["dpo@example.org"]


def test_html_character_references_map_to_their_whole_reference() -> None:
    raw = "<p>We keep data for two&#32;years &amp; delete it.</p>"
    prose = readable(raw, "text/html")
    assert prose.text == "We keep data for two years & delete it.\n" or prose.text.startswith(
        "We keep data for two years & delete it."
    )
    amp = prose.text.index("&")
    assert raw[slice(*prose.span(amp, amp + 1))] == "&amp;"
    (item,) = analyze(raw, "text/html")["retention"]
    assert _evidence(raw, item) == ["two&#32;years"]


def test_html_block_elements_end_sentences() -> None:
    raw = "<ul><li>Stored in France</li><li>Governed by the laws of Spain</li></ul>"
    result = analyze(raw, "text/html")
    assert [c["code"] for c in result["countries"]] == ["FR"]


def test_markdown_markup_is_dropped_and_spans_point_into_the_source() -> None:
    raw = (
        "# Privacy notice\n\n"
        "We use **Intercom** for chat and [Stripe](https://stripe.example) for payments.\n\n"
        "- Data is stored in *Canada*\n"
        "- We keep logs for 90 days\n\n"
        "```\nGoogle Analytics in a code block is not prose\n```\n"
    )
    prose = readable(raw, "text/markdown")
    assert "**" not in prose.text and "https" not in prose.text and "code block" not in prose.text
    result = analyze(raw, "text/markdown")
    names = {item["name"]: item for item in result["thirdParties"]}
    assert set(names) == {"Intercom", "Stripe"}
    assert _evidence(raw, names["Stripe"]) == ["Stripe"]
    assert raw.index("[Stripe]") + 1 == names["Stripe"]["spans"][0][0]  # type: ignore[index]
    assert _evidence(raw, result["countries"][0]) == ["Canada"]
    assert _evidence(raw, result["retention"][0]) == ["90 days"]


def test_markdown_escapes_map_back_to_the_source() -> None:
    raw = "Our \\*trusted\\* host is Cloudflare &amp; data is stored in Japan.\n"
    result = analyze(raw, "text/markdown")
    assert _evidence(raw, result["thirdParties"][0]) == ["Cloudflare"]
    assert _evidence(raw, result["countries"][0]) == ["Japan"]


def test_plain_text_maps_each_character_to_itself() -> None:
    prose = readable("abc", "text/plain")
    assert prose.text == "abc"
    assert prose.span(0, 3) == (0, 3)
