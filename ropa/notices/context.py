"""Where a phrase stands: its sentence, the line that introduces its list, its section.

A privacy notice (GDPR Art. 13/14) states things in prose, in lists and under headings. The
analyser's cues ("stored", "retain", "transfer") are looked for in a phrase's context:

- its sentence (a line break also ends one, see `extract.line_sentences`);
- for a list item, the line that introduced the list ("We may transfer data where:");
- for the place and retention cues, the heading of its section ("6. RETENTION PERIODS").
"""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

BULLETS = frozenset({"-", "•", "*", "–", "·", "○", "▪"})


def _contexts(doc: Doc) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
    """Per sentence start, the words of its sentence and those of its section's heading.

    "We may transfer data where:" followed by "- you gave explicit consent;" reads as one
    statement: a list item's words include those of the sentence that introduced it. A
    heading ("6. RETENTION PERIODS", "Where we store your data") frames the lines below it
    until the next heading.
    """
    cached = doc.user_data.get("contexts")
    if isinstance(cached, dict):
        return cached
    contexts: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
    lead_in: frozenset[str] = frozenset()
    heading: frozenset[str] = frozenset()
    for sent in doc.sents:
        tokens = [t for t in sent if not t.is_space]
        if not tokens:
            continue
        words = frozenset(t.lower_ for t in tokens)
        first, last = tokens[0], tokens[-1]
        is_item = first.text in BULLETS or (
            first.like_num and len(tokens) > 1 and tokens[1].text in {".", ")"}
        )
        if _is_heading(tokens):
            heading = words
            contexts[sent.start] = (words, words)
            lead_in = frozenset()
            continue
        own = words | lead_in if is_item else words
        contexts[sent.start] = (own, own | heading)
        if last.text == ":":
            lead_in = words
        elif not is_item:
            lead_in = frozenset()
    doc.user_data["contexts"] = contexts
    return contexts


def _is_heading(tokens: list[Token]) -> bool:
    """A short line without sentence punctuation, in capitals or numbered ("6. Retention").

    Title Case alone is not enough: list items ("Stored in France") look the same.
    """
    words = [t for t in tokens if t.is_alpha]
    if not words or len(words) > 8 or tokens[-1].text in {".", ",", ";", ":"}:
        return False
    if any(t.text == ":" for t in tokens):
        return False
    numbered = tokens[0].like_num and len(tokens) > 1 and tokens[1].text == "."
    capitals = all(t.is_upper for t in words) and (len(words) >= 2 or len(words[0]) >= 4)
    return numbered or capitals


def sentence_words(span: Span) -> frozenset[str]:
    """The words of the span's sentence, with its lead-in's when it is a list item."""
    return _contexts(span.doc).get(span.sent.start, (frozenset(), frozenset()))[0]


def section_words(span: Span) -> frozenset[str]:
    """The span's sentence words and those of the heading of its section."""
    return _contexts(span.doc).get(span.sent.start, (frozenset(), frozenset()))[1]
