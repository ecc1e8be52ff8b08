"""The analyser: what a privacy notice (GDPR Art. 13/14) discloses, with evidence spans.

`analyze(text, media_type)` reads the notice's prose (`text.py`), runs one spaCy pipeline over
it - a blank English tokenizer, a sentence splitter that also breaks at line ends, and no
trained model - and matches data, not guesses:

- recipients: the vendor gazetteer (`gazetteer.py`, pyahocorasick) and name patterns
  (`parties.py`, spaCy `Matcher`);
- countries (`places.py`, pycountry names) and regions, in sentences about storage, hosting,
  processing or transfer;
- data categories, data uses, lawful bases and transfer mechanisms: phrase lists
  (`phrases.toml` via `categories.py`, spaCy `PhraseMatcher` on lower-cased tokens);
- retention periods (`retention.py`) and contact e-mail addresses with their kind.

The same text always gives the same result: items are ordered by their first span, spans are
`[start, end)` code-point offsets into the input as given. The pipeline is built once per
process, on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy
import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from ropa.notices import parties, retention
from ropa.notices.categories import (
    CATEGORY,
    LEGAL_BASIS,
    LIST_CATEGORY,
    MECHANISM,
    NOT_CATEGORY,
    REGION,
    USE,
    load_phrases,
)
from ropa.notices.gazetteer import Gazetteer, vendor_files
from ropa.notices.places import LOCATION_CUES, country_codes, country_names
from ropa.notices.text import Readable, readable

FIELDS = (
    "thirdParties", "countries", "regions", "dataCategories", "dataUses", "legalBases",
    "transferMechanisms", "retention", "contacts",
)  # fmt: skip

# contact kinds, most specific first (docs/notices.md)
CONTACT_KINDS = ("DPO", "REPRESENTATIVE", "PRIVACY", "GENERAL")
_LIST_NEIGHBOURS = frozenset({",", "(", ")", ";", "/", "and", "or", ":"})
# in a sentence about transfers, "consent" or "a contract" is an Art. 49 ground, not Art. 6
_TRANSFER_VERBS = frozenset({"transfer", "transfers", "transferred", "transferring"})
_TRANSFER_WORDS = frozenset(
    {"transfer", "transfers", "transferred", "transferring", "outside", "abroad",
     "international", "internationally", "third", "cross-border"}
)  # fmt: skip


@Language.component("line_sentences")
def _line_sentences(doc: Doc) -> Doc:
    """A line break ends a sentence: headings, list items and table rows stand alone."""
    spaces = numpy.flatnonzero(doc.to_array("IS_SPACE"))
    for i in spaces.tolist():
        if i + 1 < len(doc) and "\n" in doc[i].text:
            doc[i + 1].is_sent_start = True
    return doc


@dataclass
class _Pipeline:
    nlp: Language
    phrases: PhraseMatcher
    names: PhraseMatcher
    patterns: Matcher
    gazetteer: Gazetteer
    countries: dict[str, str]
    places: frozenset[str] = field(default_factory=frozenset)


def _build() -> _Pipeline:
    nlp = spacy.blank("en")
    nlp.add_pipe("line_sentences")
    nlp.add_pipe("sentencizer")
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    names = PhraseMatcher(nlp.vocab, attr="ORTH")
    for (kind, key), words in load_phrases().phrases.items():
        label = f"{kind}|{key}"
        if kind == REGION:
            variants = set(words) | {w.lower() for w in words if not w.isupper()}
            names.add(label, [nlp.make_doc(w) for w in sorted(variants)])
        else:
            phrases.add(label, [nlp.make_doc(w) for w in words])
    countries = country_names()
    by_code: dict[str, list[str]] = {}
    for name, code in countries.items():
        by_code.setdefault(code, []).append(name)
    for code, country_list in sorted(by_code.items()):
        variants = set(country_list) | {n.upper() for n in country_list if len(n) > 4}
        names.add(f"country|{code}", [nlp.make_doc(n) for n in sorted(variants)])
    for code in sorted(country_codes()):
        names.add(f"code|{code}", [nlp.make_doc(code)])
    patterns = Matcher(nlp.vocab)
    for label, pattern_list in parties.PATTERNS.items():
        patterns.add(label, pattern_list, greedy="LONGEST")
    patterns.add("retention", retention.PATTERNS)
    return _Pipeline(
        nlp=nlp,
        phrases=phrases,
        names=names,
        patterns=patterns,
        gazetteer=Gazetteer(vendor_files()),
        countries=countries,
        places=frozenset(countries),
    )


_LOCK = threading.Lock()
_PIPELINE: list[_Pipeline] = []


def pipeline() -> _Pipeline:
    """The process's pipeline, built on first use."""
    with _LOCK:
        if not _PIPELINE:
            _PIPELINE.append(_build())
        return _PIPELINE[0]


class _Found:
    """Evidence collected per field and item key, in prose offsets."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in FIELDS}
        self.spans: dict[str, dict[str, set[tuple[int, int]]]] = {name: {} for name in FIELDS}

    def add(self, group: str, ident: str, start: int, end: int, /, **item: Any) -> None:
        if ident not in self.items[group]:
            self.items[group][ident] = item
        self.spans[group].setdefault(ident, set()).add((start, end))

    def result(self, prose: Readable) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for name in FIELDS:
            rows = []
            for key, item in self.items[name].items():
                spans = sorted({prose.span(s, e) for s, e in self.spans[name][key] if e > s})
                if spans:
                    rows.append((spans[0], key, {**item, "spans": [list(s) for s in spans]}))
            rows.sort(key=lambda row: (row[0], row[1]))
            out[name] = [row[2] for row in rows]
        return out


def analyze(text: str, media_type: str = "text/plain") -> dict[str, list[dict[str, Any]]]:
    """What the notice `text` discloses, by field; see docs/notices.md for the shape."""
    prose = readable(text, media_type)
    pipe = pipeline()
    doc = pipe.nlp(prose.text)
    found = _Found()
    _recipients(pipe, doc, found)
    _phrases(pipe, doc, found)
    _places(pipe, doc, found)
    _retention(pipe, doc, found)
    _contacts(doc, found)
    return found.result(prose)


_BULLETS = frozenset({"-", "•", "*", "–", "·", "○", "▪"})


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
        is_item = first.text in _BULLETS or (
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


def _sentence_words(span: Span) -> frozenset[str]:
    """The words of the span's sentence, with its lead-in's when it is a list item."""
    return _contexts(span.doc).get(span.sent.start, (frozenset(), frozenset()))[0]


def _section_words(span: Span) -> frozenset[str]:
    """The span's sentence words and those of the heading of its section."""
    return _contexts(span.doc).get(span.sent.start, (frozenset(), frozenset()))[1]


def _phrases(pipe: _Pipeline, doc: Doc, found: _Found) -> None:
    # per family of kinds, the longest of overlapping phrases; one span may carry several
    # labels ("legal obligation" is a lawful basis and a data use)
    families: dict[str, dict[tuple[int, int], list[str]]] = {}
    for match_id, s, e in pipe.phrases(doc):
        label = pipe.nlp.vocab.strings[match_id]
        family = label.split("|", 1)[0]
        if family in {LIST_CATEGORY, NOT_CATEGORY}:
            family = CATEGORY  # the longest category wording wins, including "no data" wording
        families.setdefault(family, {}).setdefault((s, e), []).append(label)
    unknown = [
        span
        for ident, spans in found.spans["thirdParties"].items()
        if ident.startswith("name|")
        for span in spans
    ]
    for labels in families.values():
        for span in filter_spans([doc[s:e] for s, e in labels]):
            start, end = span.start_char, span.end_char
            if any(s < end and start < e for s, e in unknown):
                continue  # a word of an unknown recipient's name ("Acme Metrics")
            for label in sorted(set(labels[(span.start, span.end)])):
                kind, key = label.split("|", 1)
                _phrase(doc, span, kind, key, found)
    strings = doc.vocab.strings
    wanted = [strings.add("explicit"), strings.add("explicitly")]
    for i in numpy.flatnonzero(numpy.isin(doc.to_array("LOWER"), wanted)).tolist():
        token = doc[i]
        if token.lower_ in {"explicit", "explicitly"}:
            window = doc[token.i : token.i + 4]
            if any(t.lower_ in {"consent", "consents", "consented"} for t in window) and (
                _sentence_words(window) & _TRANSFER_WORDS
            ):
                found.add("transferMechanisms", "DEROGATION", window.start_char,
                          window.end_char, mechanism="DEROGATION")  # fmt: skip


def _phrase(doc: Doc, span: Span, kind: str, key: str, found: _Found) -> None:
    start, end = span.start_char, span.end_char
    if kind in {CATEGORY, LIST_CATEGORY}:
        if _own_details(doc, span) or (kind == LIST_CATEGORY and not _in_list(doc, span)):
            return
        if _alone_on_its_line(span):
            return  # a table's column header ("Location"), not data
        if _negated(span):
            return  # "we have no access to payment information"
        found.add("dataCategories", key, start, end, key=key)
    elif kind == USE:
        found.add("dataUses", key, start, end, key=key)
    elif kind == LEGAL_BASIS:
        if not (_sentence_words(span) & _TRANSFER_VERBS):
            found.add("legalBases", key, start, end, article=key)
    elif kind == MECHANISM:
        found.add("transferMechanisms", key, start, end, mechanism=key)


_NEGATORS = frozenset({"no", "never", "not", "n't", "without"})


def _negated(span: Span) -> bool:
    before = span.doc[max(span.sent.start, span.start - 6) : span.start]
    return any(
        t.lower_ in _NEGATORS
        and not (t.i + 1 < len(t.doc) and t.doc[t.i + 1].lower_ in {"limited", "only"})
        for t in before
    )  # "including, but not limited to, your name" is no negation


def _alone_on_its_line(span: Span) -> bool:
    words = [t for t in span.sent if not (t.is_space or t.is_punct)]
    return len(words) == len(span) and span.sent.start == span.start


_OWN = frozenset({"controller", "officer", "representative", "below", "above"})


def _own_details(doc: Doc, span: Span) -> bool:
    """Whether the words name the organisation's own details, not data it collects.

    "Name and address of the controller", "our contact details", "the contact details below".
    """
    if span.start > 0 and doc[span.start - 1].lower_ == "our":
        return True
    following = doc[span.end : min(span.end + 6, span.sent.end)]
    return any(t.lower_ in _OWN for t in following)


def _in_list(doc: Doc, span: Span) -> bool:
    before = doc[span.start - 1].lower_ if span.start > 0 else ""
    after = doc[span.end].lower_ if span.end < len(doc) else ""
    return before in _LIST_NEIGHBOURS or after in _LIST_NEIGHBOURS - {":"}


def _places(pipe: _Pipeline, doc: Doc, found: _Found) -> None:
    labelled = {}
    for match_id, s, e in pipe.names(doc):
        labelled[(s, e)] = pipe.nlp.vocab.strings[match_id]
    parties_at = [span for spans in found.spans["thirdParties"].values() for span in spans]
    party_sentences = set()
    for start, end in parties_at:
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is not None:
            party_sentences.add(span.sent.start)
    for span in filter_spans([doc[s:e] for s, e in labelled]):
        kind, key = labelled[(span.start, span.end)].split("|", 1)
        if any(s < span.end_char and span.start_char < e for s, e in parties_at):
            continue  # part of a recipient's name ("Google Ireland Ltd")
        on_party_line = span.sent.start in party_sentences
        if kind == "code" and not on_party_line:
            continue
        if not (on_party_line or _location_cue(span)):
            continue
        if span.text == "US" and span.start > 0 and doc[span.start - 1].is_upper:
            continue  # "CONTACT US", "ABOUT US": a heading, not the country
        if _after_outside(doc, span.start):
            continue  # "outside the UK or the EEA": where the data is not
        if _in_postal_address(doc, span.start):
            continue  # "76131 Karlsruhe, Germany": where to write, not where data goes
        if kind in {"country", "code"}:
            found.add("countries", key, span.start_char, span.end_char, code=key)
        else:
            found.add("regions", key, span.start_char, span.end_char, name=key)


def _location_cue(span: Span) -> bool:
    words = _section_words(span)
    if words & LOCATION_CUES:
        return True
    return "data" in words and bool(words & {"center", "centre", "centers", "centres"})


def _in_postal_address(doc: Doc, start: int) -> bool:
    """A country after "<number> <city>," ends a postal address."""
    if start == 0 or doc[start - 1].text != ",":
        return False
    return any(t.like_num for t in doc[max(0, start - 5) : start - 1])


def _after_outside(doc: Doc, start: int) -> bool:
    """Whether "outside" governs the words before `start` ("outside the UK or EEA")."""
    for token in reversed(doc[max(0, start - 6) : start]):
        if token.lower_ == "outside":
            return True
        if token.is_punct or token.is_space:
            return False
    return False


def _recipients(pipe: _Pipeline, doc: Doc, found: _Found) -> None:
    taken: list[tuple[int, int]] = []
    for hit in pipe.gazetteer.find(doc.text):
        if hit.exact:
            span = doc.char_span(hit.start, hit.end, alignment_mode="expand")
            if span is None or span[0].is_sent_start:
                continue
        vendor = hit.vendor
        taken.append((hit.start, hit.end))
        if not vendor.recipient:
            continue
        found.add("thirdParties", f"vendor|{vendor.name}", hit.start, hit.end,
                  name=vendor.name, canonical=vendor.legal_entity)  # fmt: skip
    own = parties.own_names(doc)
    accepted: list[Span] = []
    for group in [*_candidate_groups(pipe, doc), *_list_mates(doc, taken)]:
        runs = [r for r in group if not any(s < r.end_char and r.start_char < e for s, e in taken)]
        if any(word in own for run in runs for word in (t.lower_ for t in run)):
            continue  # a list of the notice's own products, not of recipients
        accepted += [run for run in runs if parties.acceptable(run, own, pipe.places)]
    unknown: dict[str, str] = {}
    for run in sorted(filter_spans(accepted), key=lambda r: r.start):  # the longest of overlaps
        name = " ".join(run.text.split())
        unknown.setdefault(name.lower(), name)
    for key, name in unknown.items():
        at = doc.text.find(name)
        while at >= 0:
            end = at + len(name)
            boundary_before = at == 0 or not doc.text[at - 1].isalnum()
            boundary_after = end == len(doc.text) or not doc.text[end].isalnum()
            if boundary_before and boundary_after:
                found.add("thirdParties", f"name|{key}", at, end, name=name, canonical=None)
            at = doc.text.find(name, end)


def _candidate_groups(pipe: _Pipeline, doc: Doc) -> Iterable[list[Span]]:
    """Candidate names, grouped as they were introduced (one name, or one list)."""
    for match_id, s, e in _pattern_matches(pipe, doc):
        label = pipe.nlp.vocab.strings[match_id]
        if label == "org_legal":
            run = parties.name_before(doc, s)
            if run is not None:
                yield [run]
        elif label == "org_after_verb":
            first = s + 1
            while first < e and not parties.is_name_token(doc[first]):
                first += 1
            if first < e:
                yield [doc[first:e]]
        elif label == "org_list" and _sentence_words(doc[s:e]) & parties.PARTY_CUES:
            yield list(_list_items(doc, e - 1))


_SEPARATORS = frozenset({",", ";", "and", "or"})


def _list_mates(doc: Doc, known: list[tuple[int, int]]) -> Iterable[list[Span]]:
    """Names listed beside known vendors: "Vercel (hosting), Neon (database), Stripe (...)".

    A sentence that is a list of names, each maybe followed by a parenthesis, and that
    holds a gazetteer vendor, is a list of recipients: its other names are candidates.
    """
    spans = [doc.char_span(s, e, alignment_mode="expand") for s, e in known]
    for start in sorted({span.sent.start for span in spans if span is not None}):
        sent = doc[start].sent
        segments: list[list[Token]] = [[]]
        depth = 0
        for token in sent:
            depth += token.text == "("
            depth -= token.text == ")" and depth > 0
            if depth == 0 and token.lower_ in _SEPARATORS:
                segments.append([])
            elif not token.is_space:
                segments[-1].append(token)
        names: list[Span | None] = []
        for segment in segments:
            while segment and segment[-1].text in {".", ":", "!"}:
                segment = segment[:-1]
            if not segment:
                continue
            run = parties.name_run(doc, segment[0].i)
            rest = segment[len(run) :] if run is not None else segment
            if run is None or (rest and rest[0].text != "(") or (rest and rest[-1].text != ")"):
                names.append(None)
            else:
                names.append(run)
        found = [run for run in names if run is not None]
        if len(found) >= 2 and len(found) * 2 >= len(names) + 1:
            yield found


def _list_items(doc: Doc, start: int) -> Iterable[Span]:
    index = start
    while index < len(doc):
        run = parties.name_run(doc, index)
        if run is None:
            return
        yield run
        index = run.end
        if index < len(doc) and doc[index].text == ",":
            index += 1
        if index < len(doc) and doc[index].lower_ in {"and", "or", "&"}:
            index += 1
        if index < len(doc) and doc[index].text in {"(", "“", '"'}:
            return


def _pattern_matches(pipe: _Pipeline, doc: Doc) -> list[tuple[int, int, int]]:
    """The `Matcher`'s matches, run once per document."""
    cached = doc.user_data.get("patterns")
    if isinstance(cached, list):
        return cached
    matches: list[tuple[int, int, int]] = [
        (int(m), int(s), int(e)) for m, s, e in pipe.patterns(doc)
    ]
    doc.user_data["patterns"] = matches
    return matches


def _retention(pipe: _Pipeline, doc: Doc, found: _Found) -> None:
    spans = [doc[s:e] for m, s, e in _pattern_matches(pipe, doc)
             if pipe.nlp.vocab.strings[m] == "retention"]  # fmt: skip
    for span in filter_spans(spans):
        if not (_section_words(span) & retention.RETENTION_CUES):
            continue
        amount = retention.number(span[0].text)
        period = retention.iso_period(amount or 0, span[-1].text)
        if period is None:
            continue
        found.add("retention", f"{period}|{span.start_char}", span.start_char, span.end_char,
                  text=span.text, period=period)  # fmt: skip


def _contacts(doc: Doc, found: _Found) -> None:
    kinds: dict[str, str] = {}
    for i in numpy.flatnonzero(doc.to_array("LIKE_EMAIL")).tolist():
        token = doc[i]
        email = token.text.rstrip(".").lower()
        kind = _contact_kind(token.sent, email)
        previous = kinds.get(email)
        if previous is None or CONTACT_KINDS.index(kind) < CONTACT_KINDS.index(previous):
            kinds[email] = kind
        found.add("contacts", email, token.idx, token.idx + len(email), email=email)
    for email, kind in kinds.items():
        found.items["contacts"][email] = {"kind": kind, "email": email}


def _contact_kind(sentence: Span, email: str) -> str:
    words = sentence.text.lower()
    local = email.split("@", 1)[0]
    if "data protection officer" in words or " dpo" in f" {words}" or local == "dpo":
        return "DPO"
    if "representative" in words:
        return "REPRESENTATIVE"
    privacy = ("privacy", "data protection", "personal data", "personal information",
               "your rights", "access, correct", "deletion", "gdpr")  # fmt: skip
    if any(p in words for p in privacy) or local in {"privacy", "gdpr", "dataprotection"}:
        return "PRIVACY"
    return "GENERAL"
