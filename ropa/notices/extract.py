"""The analyser: what a privacy notice (GDPR Art. 13/14) discloses, with evidence spans.

`analyze(text, media_type)` reads the notice's prose (`text.py`), runs one spaCy pipeline over
it - a blank English tokenizer, a sentence splitter that also breaks at line ends, and no
trained model - and matches data, not guesses:

- recipients: the vendor gazetteer (`gazetteer.py`, pyahocorasick) and name patterns
  (`parties.py`, spaCy `Matcher`);
- countries (`places.py`, pycountry names) and regions, in sentences about storage, hosting,
  processing or transfer, or on the line of a named recipient;
- data categories, data uses, lawful bases and transfer mechanisms: phrase lists
  (`phrases.toml` via `categories.py`, spaCy `PhraseMatcher` on lower-cased tokens), and
  lawful bases cited as "Art. 6(1)(f)";
- retention periods (`retention.py`) and contact e-mail addresses with their kind.

The same text always gives the same result: items are ordered by their first span, spans are
`[start, end)` code-point offsets into the input as given. The pipeline is built once per
process, on first use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy
import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ropa.notices import context, parties, places, retention
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
from ropa.notices.places import country_codes, country_names
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
    _cited_bases(doc, found)
    _places(pipe, doc, found)
    _retention(pipe, doc, found)
    _contacts(doc, found)
    return found.result(prose)


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
                context.sentence_words(window) & _TRANSFER_WORDS
            ):
                found.add("transferMechanisms", "DEROGATION", window.start_char,
                          window.end_char, mechanism="DEROGATION")  # fmt: skip


# "Art. 6(1)(f) GDPR", "Article 6 (1) (b) or (f)", "Art. 6(1)(b), (c)": the basis cited by point
_ARTICLE_6 = re.compile(r"\bArt(?:icle|\.)?\s*6\s*\(\s*1\s*\)\s*", re.IGNORECASE)
_POINT = re.compile(r"\(\s*([a-f])\s*\)(?:\s*(?:,|or|and|/)\s*)?", re.IGNORECASE)


def _cited_bases(doc: Doc, found: _Found) -> None:
    text = doc.text
    for citation in _ARTICLE_6.finditer(text):
        at, start = citation.end(), citation.start()
        while (point := _POINT.match(text, at)) is not None:
            key = f"ART6_1_{point.group(1).upper()}"
            end = text.index(")", point.start()) + 1
            found.add("legalBases", key, start if start >= 0 else point.start(), end, article=key)
            at, start = point.end(), -1


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
        if not _negated(span):  # "we do not use marketing cookies"
            found.add("dataUses", key, start, end, key=key)
    elif kind == LEGAL_BASIS:
        if not (context.sentence_words(span) & _TRANSFER_VERBS):
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
        if not (on_party_line or places.location_cue(span)):
            continue
        if span.text == "US" and span.start > 0 and doc[span.start - 1].is_upper:
            continue  # "CONTACT US", "ABOUT US": a heading, not the country
        if places.after_outside(doc, span.start):
            continue  # "outside the UK or the EEA": where the data is not
        if places.in_postal_address(doc, span.start):
            continue  # "76131 Karlsruhe, Germany": where to write, not where data goes
        if kind in {"country", "code"}:
            found.add("countries", key, span.start_char, span.end_char, code=key)
        else:
            found.add("regions", key, span.start_char, span.end_char, name=key)


def _recipients(pipe: _Pipeline, doc: Doc, found: _Found) -> None:
    taken: list[tuple[int, int]] = []
    self_hosted: set[str] = set()
    for hit in pipe.gazetteer.find(doc.text):
        span = doc.char_span(hit.start, hit.end, alignment_mode="expand")
        if hit.exact and (span is None or parties.not_a_name(span)):
            continue
        if span is not None and any(w in span.sent.text.lower() for w in parties.SELF_HOSTED):
            self_hosted.add(hit.vendor.name)  # "we run Matomo on our own server": software
        vendor = hit.vendor
        taken.append((hit.start, hit.end))
        if not vendor.recipient:
            continue
        found.add("thirdParties", f"vendor|{vendor.name}", hit.start, hit.end,
                  name=vendor.name, canonical=vendor.legal_entity)  # fmt: skip
    for name in self_hosted:  # software the site runs itself is no recipient, in any mention
        found.items["thirdParties"].pop(f"vendor|{name}", None)
        found.spans["thirdParties"].pop(f"vendor|{name}", None)
    own = parties.own_names(doc)
    accepted: list[Span] = []
    for group in [*_candidate_groups(pipe, doc), *parties.list_mates(doc, taken)]:
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
        elif label == "org_list" and context.sentence_words(doc[s:e]) & parties.PARTY_CUES:
            yield list(parties.list_items(doc, e - 1))


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
        if not (context.section_words(span) & retention.RETENTION_CUES):
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
