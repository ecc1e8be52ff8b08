"""Named organisations a notice discloses data to, found by wording (GDPR Art. 13(1)(e)).

Vendors in the gazetteer are found by name (`gazetteer.py`). Others are found by how notices
introduce them, with spaCy `Matcher` patterns over capitalised names:

- a legal form after the name: "Acme Analytics, Inc.", "Foo Ltd", "Bar GmbH";
- a verb that names a provider: "we use X to", "provided by X", "hosted by X" ("powered by X"
  names software, often run by the site itself, and is not one);
- a list after "such as" or "including" in a sentence about vendors, partners or services:
  "partners such as X and Y", "tools, including X, Y and Z".

Generic words ("our service providers", "Third Parties", "affiliates") never make a name;
neither does the notice's own organisation (the capitalised word it repeats from its first
lines), a law ("California Consumer Privacy Act"), a place or an adjective use ("Social
Security numbers": a capitalised run followed by a lower-case noun).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy
from spacy.tokens import Doc, Span, Token

NAME: dict[str, Any] = {"TEXT": {"REGEX": r"^(?:[A-Z][\w&'.+-]*|[a-z]+[A-Z][\w.]*)$"}}

LEGAL_FORMS = [
    "Inc", "Inc.", "Incorporated", "Ltd", "Ltd.", "Limited", "LLC", "L.L.C.", "LLP", "GmbH",
    "Corp", "Corp.", "Corporation", "PLC", "plc", "S.A.", "SA", "SAS", "S.A.S.", "B.V.", "BV",
    "N.V.", "NV", "AG", "Pte", "Pte.", "Pty", "AB", "Oy", "S.r.l.", "Srl", "SpA", "S.p.A.",
    "KK", "K.K.", "Sdn", "Bhd", "PT", "Tbk",
]  # fmt: skip

PATTERNS: dict[str, list[list[dict[str, Any]]]] = {
    # the legal form alone: the name before it is read backwards (`name_before`), which is
    # far cheaper than a pattern that starts at every capitalised word
    "org_legal": [[{"ORTH": {"IN": LEGAL_FORMS}}]],
    "org_after_verb": [
        [{"LOWER": "we"}, {"LOWER": {"IN": ["use", "uses", "engage", "rely"]}},
         {"LOWER": "on", "OP": "?"}, {**NAME, "OP": "+"}],
        [{"LOWER": {"IN": ["provided", "hosted", "operated", "offered", "processed",
                           "supplied", "run"]}},
         {"LOWER": "by"}, {**NAME, "OP": "+"}],
    ],
    "org_list": [
        [{"LOWER": "such"}, {"LOWER": "as"}, NAME],
        [{"LOWER": {"IN": ["including", "include", "includes"]}}, NAME],
    ],
}  # fmt: skip

# sentence words that make a "such as" list a list of recipients
PARTY_CUES = frozenset(
    {
        "vendor", "vendors", "provider", "providers", "partner", "partners", "service",
        "services", "tool", "tools", "processor", "processors", "subprocessors",
        "sub-processors", "platform", "platforms", "systems", "companies", "integrations",
        "networks", "recipients", "third-party", "third", "suppliers", "advertisers",
        "analytics", "software", "apps", "applications", "hosting",
    }
)  # fmt: skip

# words that are never (part of) a recipient's name on their own
GENERIC = frozenset(
    {
        "third", "party", "parties", "third-party", "affiliate", "affiliates", "partner",
        "partners", "vendor", "vendors", "service", "services", "provider", "providers",
        "processor", "processors", "subprocessors", "personal", "data", "information",
        "privacy", "policy", "notice", "terms", "conditions", "use", "cookie", "cookies",
        "website", "websites", "site", "sites", "platform", "products", "product", "company",
        "companies", "customer", "customers", "user", "users", "agreement", "contract",
        "section", "act", "regulation", "law", "laws", "gdpr", "ccpa", "pii", "api", "apis",
        "sdk", "app", "application", "account", "group", "team", "support", "security",
        "social", "media", "government", "authorities", "authority", "court", "officer",
        "protection", "general", "european", "union", "economic", "area", "controller",
        "agents", "contractors", "subsidiaries", "consultants", "organization",
        "organisation", "organizations", "organisations", "client", "clients", "visitor",
        "visitors", "end-users", "faq", "contact", "email", "e-mail", "internet", "web",
        "online", "mobile", "sms", "url", "ip", "id", "ok", "yes", "no", "note", "menu",
        "last", "updated", "effective", "date", "name", "phone", "address", "new", "all",
    }
)  # fmt: skip

# first words that show a capitalised run is a phrase, not a name
NOT_FIRST = frozenset(
    {
        "the", "our", "your", "this", "these", "that", "those", "we", "you", "a", "an", "any",
        "all", "other", "certain", "some", "such", "each", "its", "their", "his", "her", "it",
        "if", "when", "where", "for", "to", "in", "on", "by", "with", "and", "or", "as", "i",
        "us", "they", "he", "she", "please", "see", "read", "learn", "more",
    }
)  # fmt: skip

# words that may follow a name: the run before them is a name, not an adjective
FOLLOWERS = frozenset(
    {
        "to", "for", "as", "which", "that", "who", "and", "or", "in", "on", "at", "is", "are",
        "was", "were", "will", "may", "can", "might", "could", "would", "should", "has",
        "have", "had", "of", "with", "by", "from", "under", "etc", "also", "only", "inc",
        "provides", "processes", "stores", "hosts", "offers", "receives", "collects", "uses",
        "acts", "does", "do", "if", "so", "but", "where", "when", "whose", "whom", "(",
    }
)  # fmt: skip


def own_names(doc: Doc) -> frozenset[str]:
    """The notice's own organisation: capitalised words repeated from its first lines."""
    counts: Counter[str] = Counter()
    flags = doc.to_array(["IS_ALPHA", "IS_STOP", "IS_LOWER", "LENGTH"])
    candidates = (flags[:, 0] == 1) & (flags[:, 1] == 0) & (flags[:, 2] == 0) & (flags[:, 3] >= 3)
    for i in numpy.flatnonzero(candidates).tolist():
        counts[doc[i].lower_] += 1  # capitalised, in capitals or camel-case ("HubSpot")
    opening = {t.lower_ for t in doc[: min(len(doc), 200)] if t.idx < 400}
    return frozenset(
        word for word, count in counts.items()
        if count >= 3 and word in opening and word not in GENERIC and word not in NOT_FIRST
    )  # fmt: skip


def _camel(text: str) -> bool:
    return any(c.isupper() for c in text[1:]) and any(c.islower() for c in text)


def is_name_token(token: Token) -> bool:
    text = token.text
    if not text or token.is_punct or token.like_email or token.like_url:
        return False
    return text[0].isupper() or (text[0].islower() and _camel(text))


def name_run(doc: Doc, start: int, limit: int = 5) -> Span | None:
    """The run of capitalised tokens that starts at `start` (allowing "&", "-" inside)."""
    end = start
    while end < len(doc) and end - start < limit:
        token = doc[end]
        named = is_name_token(token) and not (end > start and token.is_sent_start)
        joining = token.text in {"&", "-"} and end + 1 < len(doc) and is_name_token(doc[end + 1])
        if not (named or joining):
            break
        end += 1
    return doc[start:end] if end > start else None


def name_before(doc: Doc, form: int, limit: int = 7) -> Span | None:
    """The name and legal form ending at token `form` ("Acme Analytics, Inc."), if any."""
    start = form - 1 if form > 0 and doc[form - 1].text == "," else form
    first = start
    while first > 0 and start - first < limit:
        previous = doc[first - 1]
        joins = previous.text in {"&", "-"} and first - 2 >= 0 and is_name_token(doc[first - 2])
        if not (is_name_token(previous) or joins):
            break
        first -= 1
        if previous.is_sent_start:
            break
    if first == start:
        return None
    if doc[first].lower_ == "the":
        first += 1
    return doc[first : form + 1] if first < start else None


def _in_postal_address(run: Span) -> bool:
    """A name on a "c/o" or "Attn." line is where to write, not a recipient."""
    line = [t.lower_ for t in run.doc[max(0, run.start - 4) : run.start] if not t.is_space]
    return "c/o" in "".join(line[-3:]) or (
        bool(line) and line[-1] in {"attn", "attn.", "attention"}
    )


def acceptable(run: Span, own: frozenset[str], places: frozenset[str]) -> bool:
    """Whether a capitalised run is plausibly an organisation's name."""
    words = [t.lower_ for t in run if t.is_alpha or t.like_num or "." in t.text]
    if not words or run[0].lower_ in NOT_FIRST:
        return False
    if all(w in GENERIC or w in NOT_FIRST for w in words):
        return False
    if any(w in own for w in words) or run.text in places:
        return False
    if _in_postal_address(run):
        return False
    following = run.doc[run.end] if run.end < len(run.doc) else None
    if following is not None and following.lower_ in {"uses", "engages"}:
        return False  # "the processors that Acme AB uses": the controller itself
    if following is not None and following.is_alpha and following.is_lower:
        return following.lower_ in FOLLOWERS
    return True
