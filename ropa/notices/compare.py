"""Does the privacy notice tell what the records hold? GDPR Art. 13/14 against Art. 30.

The notice in force at an instant is the version with the latest `effectiveDate` on or
before that day among the versions visible then (ties: the one published last). Its
analysis (`ropa.notices.analyze`, kept in the version's state) is compared with the
records as they stood at that instant, in both directions:

- records the notice does not disclose: an engaged processor neither named nor covered by
  a recipient category, a restricted transfer to a country the notice does not cover or
  covers with another mechanism, a data category collected but not disclosed;
- disclosures the records lack: a third party named but not recorded, a category of
  recipients (payment processors, analytics providers, ...) no recorded processor belongs
  to, a data category disclosed but never recorded;
- what the notice must say and does not: a legal basis, a retention period, a contact;
- records that changed materially after the notice was published (`changes_since_notice`,
  ledger entries the service selects).

Only ACTIVE processors and activities count as records: DRAFT ones are being written (or
were drafted from the notice itself and await review) and RETIRED ones are history. A
record drafted from a notice raises NOTICE_DRAFT_PENDING until a DPO accepts or discards
it. Pure: imports `ropa.domain` only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from ropa.domain.adequacy import is_restricted_transfer
from ropa.domain.countries import EEA, country_name
from ropa.domain.findings.model import Concern, Evidence, Rule, Severity, Snapshot, Span, State
from ropa.domain.vocabulary import ActivityStatus, ProcessorStatus, TransferMechanism

SNIPPET_CHARS = 200
Check = Callable[[Snapshot, datetime], Iterable[Concern]]

# Recipient categories a notice may name instead of the vendor (Art. 13(1)(e) "recipients or
# categories of recipients"): the words that name one, and words of a processor's
# `services` it covers.
RECIPIENT_CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "hosting providers",
        r"(?:hosting|cloud(?: hosting| infrastructure| computing| service)?|data cent(?:er|re)|"
        r"infrastructure|server) (?:providers?|partners?|vendors?|companies)|hosting services?",
        ("hosting", "cloud", "infrastructure", "server", "storage"),
    ),
    (
        "payment processors",
        r"payment (?:processors?|providers?|service providers?|gateways?|processing)",
        ("payment", "billing"),
    ),
    (
        "analytics providers",
        r"analytics? (?:providers?|services?|partners?|tools?|vendors?)",
        ("analytics",),
    ),
    (
        "e-mail service providers",
        r"e-?mail (?:service )?(?:providers?|delivery|platforms?)",
        ("email", "e-mail", "newsletter"),
    ),
    (
        "customer support tools",
        r"(?:customer support|help ?desk|ticketing) (?:providers?|services?|tools?|software|"
        r"platforms?|systems?)",
        ("support", "helpdesk", "ticket"),
    ),
    (
        "CRM providers",
        r"(?:CRM|customer relationship management) (?:providers?|services?|systems?|software|"
        r"platforms?|tools?)",
        ("crm", "customer relationship"),
    ),
    (
        "marketing and advertising partners",
        r"(?:marketing|advertising) (?:service )?(?:providers?|partners?|platforms?|networks?)",
        ("marketing", "advertising"),
    ),
    (
        "file storage providers",
        r"(?:file|document|cloud) (?:storage|sharing) (?:providers?|services?)",
        ("file storage", "document", "storage"),
    ),
    (
        "communication providers",
        r"(?:telecommunications?|telecom|SMS|messaging) (?:providers?|carriers?|operators?)",
        ("sms", "messaging", "telecom", "voice"),
    ),
)
_CATEGORY_PATTERNS = tuple(
    (label, re.compile(rf"\b{pattern}\b", re.IGNORECASE), words)
    for label, pattern, words in RECIPIENT_CATEGORIES
)

# Region names that cover any country outside the EEA, and those that cover the EEA only.
_ANYWHERE = re.compile(
    r"outside|worldwide|global|international|third countr|any countr|other countr|abroad",
    re.IGNORECASE,
)
_EUROPE = re.compile(r"\b(?:eea|eu|european|europe)\b", re.IGNORECASE)
_ADEQUACY_LIKE = {TransferMechanism.ADEQUACY.value, TransferMechanism.DPF.value}

_SUFFIXES = {
    "inc", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "company", "plc",
    "sa", "ag", "bv", "nv", "pte", "pty", "sarl", "srl", "spa", "oy", "ab", "as", "kk",
}  # fmt: skip


# --- the notice in force -------------------------------------------------------------------


def notice_in_force(snapshot: Snapshot, now: datetime) -> State | None:
    """The version in force on `now`'s day (UTC), or None before the first one."""
    today = now.astimezone(UTC).date().isoformat()
    best: tuple[str, int] | None = None
    found: State | None = None
    for policy in snapshot.policies:
        effective = policy["effectiveDate"]
        if effective is None or effective > today:
            continue
        key = (effective, snapshot.policy_published.get(policy["id"], -1))
        if best is None or key > best:
            best, found = key, policy
    return found


def _analysis(snapshot: Snapshot, now: datetime) -> tuple[State, dict[str, Any]] | None:
    """The notice in force and its analysis, when it has one."""
    notice = notice_in_force(snapshot, now)
    if notice is None or not isinstance(notice.get("analysis"), dict) or not notice["text"]:
        return None
    return notice, notice["analysis"]


def _items(analysis: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = analysis.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _spans(notice: State, raw: Iterable[Any]) -> tuple[Span, ...]:
    text: str = notice["text"] or ""
    out = []
    for pair in raw:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            start, end = int(pair[0]), int(pair[1])
            if 0 <= start <= end <= len(text):
                out.append(Span(start, end, text[start:end][:SNIPPET_CHARS]))
    return tuple(out)


def _evidence(notice: State, *items: dict[str, Any]) -> Evidence:
    spans = [span for item in items for span in item.get("spans") or []]
    return Evidence(notice["id"], _spans(notice, spans))


# --- the records ----------------------------------------------------------------------------


def _active_activities(snapshot: Snapshot) -> list[State]:
    return [a for a in snapshot.activities if a["status"] == ActivityStatus.ACTIVE]


def _active_processors(snapshot: Snapshot) -> list[State]:
    return [p for p in snapshot.processors if p["status"] == ProcessorStatus.ACTIVE]


def _active_transfers(snapshot: Snapshot) -> Iterator[State]:
    for transfer in snapshot.transfers:
        activity = snapshot.activity(transfer["activityId"])
        if activity is not None and activity["status"] == ActivityStatus.ACTIVE:
            yield transfer


def normalized(name: str) -> str:
    """A vendor's name compared: lower case, no punctuation, no company-form suffix."""
    words = re.sub(r"[^\w\s]", " ", name.lower()).split()
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return " ".join(words)


def processor_names(processor: State) -> set[str]:
    """Every name a processor goes by: name, legal name, and a name in brackets, `(AWS)`."""
    names: set[str] = set()
    for value in (processor.get("name"), processor.get("legalName")):
        if not value:
            continue
        names.add(normalized(value))
        bare = re.sub(r"\([^)]*\)", " ", value)
        names.add(normalized(bare))
        names.update(normalized(inner) for inner in re.findall(r"\(([^)]*)\)", value))
    return {n for n in names if n}


def party_names(party: dict[str, Any]) -> set[str]:
    """The names a notice's third party goes by: as written, and the gazetteer's canonical."""
    names = {normalized(str(v)) for v in (party.get("name"), party.get("canonical")) if v}
    return {n for n in names if n}


def _covering_categories(notice: State, processor: State) -> list[tuple[str, Span]]:
    """Recipient categories in the notice's text that cover the processor's services."""
    services = " ".join(processor["services"]).lower()
    if not services:
        return []
    text: str = notice["text"] or ""
    found = []
    for label, pattern, words in _CATEGORY_PATTERNS:
        if any(word in services for word in words):
            match = pattern.search(text)
            if match is not None:
                found.append((label, Span(match.start(), match.end(), match.group(0))))
    return found


def level2(key: str) -> str:
    """A Fides data category at its second level: `user.contact.email` -> `user.contact`."""
    return ".".join(key.split(".")[:2])


def _disclosed_covers(disclosed: set[str], key: str) -> bool:
    return any(key == d or key.startswith(d + ".") or d.startswith(key + ".") for d in disclosed)


def _region_covers(name: str, country: str) -> bool:
    if _ANYWHERE.search(name):
        return country not in EEA
    if _EUROPE.search(name):
        return country in EEA
    return False


def _disclosed_transfer(analysis: dict[str, Any], transfer: State) -> bool:
    """A restricted transfer the notice discloses, by country or by a covering region."""
    to = transfer["toCountry"]
    if not is_restricted_transfer(transfer["fromCountry"], to):
        return False
    if any(c.get("code") == to for c in _items(analysis, "countries")):
        return True
    return any(_region_covers(str(r.get("name") or ""), to) for r in _items(analysis, "regions"))


def _names(states: Iterable[State]) -> str:
    return ", ".join(f'"{s["name"]}"' for s in states)


def _version(notice: State) -> str:
    return f"privacy notice {notice['version']!r} (effective {notice['effectiveDate']})"


# --- rules ---------------------------------------------------------------------------------


def _processor_undisclosed(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    found = _analysis(snapshot, now)
    if found is None:
        return
    notice, analysis = found
    named = set().union(*(party_names(p) for p in _items(analysis, "thirdParties")))
    engaged = snapshot.activities_by_processor()
    recipients = {t["recipientProcessorId"] for t in _active_transfers(snapshot)}
    for processor in _active_processors(snapshot):
        activities = [a for a in engaged.get(processor["id"], []) if a["status"] == "ACTIVE"]
        if not activities and processor["id"] not in recipients:
            continue
        if processor_names(processor) & named or _covering_categories(notice, processor):
            continue
        yield Concern(
            "Processor",
            processor["id"],
            f"{processor['name']} processes personal data"
            + (f" for {_names(activities)}" if activities else "")
            + f", but the {_version(notice)} neither names it nor a category of recipients "
            "that covers its services. Name the recipient or its category in the notice "
            "(Art. 13(1)(e), 14(1)(e)).",
            Evidence(notice["id"]),
            tuple(("ProcessingActivity", a["id"]) for a in activities),
        )


def _third_party_not_recorded(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    found = _analysis(snapshot, now)
    if found is None:
        return
    notice, analysis = found
    recorded: set[str] = set()
    for processor in _active_processors(snapshot):
        recorded |= processor_names(processor)
    for transfer in _active_transfers(snapshot):
        if transfer["recipientName"]:
            recorded.add(normalized(transfer["recipientName"]))
    for party in _items(analysis, "thirdParties"):
        names = party_names(party)
        if not names or names & recorded:
            continue
        label = party.get("canonical") or party.get("name")
        yield Concern(
            "PrivacyPolicy",
            notice["id"],
            f"The {_version(notice)} names {label}, but no active processor or transfer "
            "recipient of that name is recorded. Record it (Art. 30(1)(d)), or correct the "
            "notice.",
            _evidence(notice, party),
        )


def _recipient_category_not_recorded(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    found = _analysis(snapshot, now)
    if found is None:
        return
    notice, _ = found
    text: str = notice["text"] or ""
    services = [" ".join(p["services"]).lower() for p in _active_processors(snapshot)]
    for label, pattern, words in _CATEGORY_PATTERNS:
        match = pattern.search(text)
        if match is None or any(w in s for s in services for w in words):
            continue
        yield Concern(
            "PrivacyPolicy",
            notice["id"],
            f"The {_version(notice)} says personal data goes to {label}, but no active "
            "processor provides such a service. Record the processor and what it does "
            "(Art. 30(1)(d), 28), or correct the notice.",
            Evidence(notice["id"], (Span(match.start(), match.end(), match.group(0)),)),
        )


def _transfer_undisclosed(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    found = _analysis(snapshot, now)
    if found is None:
        return
    notice, analysis = found
    for transfer in _active_transfers(snapshot):
        to = transfer["toCountry"]
        if not is_restricted_transfer(transfer["fromCountry"], to):
            continue
        if _disclosed_transfer(analysis, transfer):
            continue
        yield Concern(
            "Transfer",
            transfer["id"],
            f"Personal data is transferred to {country_name(to)} ({to}), but the "
            f"{_version(notice)} discloses no transfer there, by country or by a region "
            "such as 'outside the EEA'. Disclose it with its safeguard (Art. 13(1)(f), "
            "14(1)(f)).",
            Evidence(notice["id"]),
            (("ProcessingActivity", transfer["activityId"]),),
        )


def _transfer_mechanism_mismatch(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    found = _analysis(snapshot, now)
    if found is None:
        return
    notice, analysis = found
    disclosed = _items(analysis, "transferMechanisms")
    mechanisms = {str(m.get("mechanism")) for m in disclosed}
    if mechanisms & _ADEQUACY_LIKE:
        mechanisms |= _ADEQUACY_LIKE
    if not mechanisms:
        return
    for transfer in _active_transfers(snapshot):
        mechanism = transfer["mechanism"]
        if mechanism is None or mechanism in mechanisms:
            continue
        to = transfer["toCountry"]
        if not _disclosed_transfer(analysis, transfer):
            continue  # an undisclosed transfer is NOTICE_TRANSFER_UNDISCLOSED
        yield Concern(
            "Transfer",
            transfer["id"],
            f"The transfer to {country_name(to)} ({to}) rests on {mechanism}, but the "
            f"{_version(notice)} tells people of {', '.join(sorted(mechanisms))}. Make the "
            "notice name the safeguard relied on (Art. 13(1)(f)).",
            _evidence(notice, *disclosed),
            (("ProcessingActivity", transfer["activityId"]),),
        )


def _disclosed_categories(analysis: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    disclosed: dict[str, list[dict[str, Any]]] = {}
    for item in _items(analysis, "dataCategories"):
        key = item.get("key")
        if isinstance(key, str) and key:
            disclosed.setdefault(level2(key), []).append(item)
    return disclosed


def _category_undisclosed(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    found = _analysis(snapshot, now)
    if found is None:
        return
    notice, analysis = found
    disclosed = set(_disclosed_categories(analysis))
    for activity in _active_activities(snapshot):
        missing = sorted(
            {level2(k) for k in activity["dataCategories"]}
            - {
                k
                for k in map(level2, activity["dataCategories"])
                if _disclosed_covers(disclosed, k)
            }
        )
        if missing:
            yield Concern(
                "ProcessingActivity",
                activity["id"],
                f'"{activity["name"]}" collects {", ".join(missing)}, which the '
                f"{_version(notice)} does not disclose. Tell people which categories of data "
                "are processed (Art. 13(1), 14(1)(d)).",
                Evidence(notice["id"]),
            )


def _category_not_recorded(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    found = _analysis(snapshot, now)
    if found is None:
        return
    notice, analysis = found
    recorded = {level2(k) for a in _active_activities(snapshot) for k in a["dataCategories"]}
    for key, items in sorted(_disclosed_categories(analysis).items()):
        if _disclosed_covers(recorded, key):
            continue
        yield Concern(
            "PrivacyPolicy",
            notice["id"],
            f"The {_version(notice)} discloses {key}, but no active processing activity "
            "records it. Record the processing (Art. 30(1)(c)), or correct the notice.",
            _evidence(notice, *items),
        )


def _missing(key: str, what: str, article: str) -> Check:
    def check(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
        found = _analysis(snapshot, now)
        if found is None:
            return
        notice, analysis = found
        if not _items(analysis, key):
            yield Concern(
                "PrivacyPolicy",
                notice["id"],
                f"The {_version(notice)} states no {what} ({article}).",
                Evidence(notice["id"]),
            )

    return check


def _outdated(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    found = _analysis(snapshot, now)
    if found is None or not snapshot.changes_since_notice:
        return
    notice, _ = found
    changes = snapshot.changes_since_notice
    related = tuple(dict.fromkeys((c["entityType"], c["entityId"]) for c in changes))
    ops = sorted({c["op"] for c in changes})
    yield Concern(
        "PrivacyPolicy",
        notice["id"],
        f"{len(changes)} change(s) to processors engaged, transfers or data categories "
        f"({', '.join(ops)}) were recorded after the {_version(notice)} took effect. Review "
        "the notice and publish a new version if it no longer tells the whole story "
        "(Art. 12(1), 13(3)).",
        Evidence(notice["id"]),
        related,
        tuple(c["seq"] for c in changes),
    )


def _draft_pending(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    drafts = [
        *(("Processor", p) for p in snapshot.processors),
        *(("ProcessingActivity", a) for a in snapshot.activities),
    ]
    for entity_type, state in drafts:
        evidence = state.get("evidence")
        if state["status"] != "DRAFT" or not evidence:
            continue
        policy = next((p for p in snapshot.policies if p["id"] == evidence["policyId"]), None)
        spans = _spans(policy, evidence["spans"]) if policy is not None else ()
        yield Concern(
            entity_type,
            state["id"],
            f'"{state["name"]}" was drafted from the privacy notice and awaits review: '
            "accept it (status ACTIVE), correct it, or discard it (retire).",
            Evidence(evidence["policyId"], spans),
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "NOTICE_PROCESSOR_UNDISCLOSED",
        Severity.MEDIUM,
        "Art. 13(1)(e), 14(1)(e)",
        _processor_undisclosed,
    ),
    Rule(
        "NOTICE_THIRD_PARTY_NOT_RECORDED",
        Severity.MEDIUM,
        "Art. 30(1)(d)",
        _third_party_not_recorded,
    ),
    Rule(
        "NOTICE_RECIPIENT_CATEGORY_NOT_RECORDED",
        Severity.LOW,
        "Art. 30(1)(d)",
        _recipient_category_not_recorded,
    ),
    Rule(
        "NOTICE_TRANSFER_UNDISCLOSED",
        Severity.HIGH,
        "Art. 13(1)(f), 14(1)(f)",
        _transfer_undisclosed,
    ),
    Rule(
        "NOTICE_TRANSFER_MECHANISM_MISMATCH",
        Severity.MEDIUM,
        "Art. 13(1)(f), 14(1)(f)",
        _transfer_mechanism_mismatch,
    ),
    Rule(
        "NOTICE_CATEGORY_UNDISCLOSED",
        Severity.MEDIUM,
        "Art. 13(1), 14(1)(d)",
        _category_undisclosed,
    ),
    Rule("NOTICE_CATEGORY_NOT_RECORDED", Severity.LOW, "Art. 30(1)(c)", _category_not_recorded),
    Rule(
        "NOTICE_NO_LEGAL_BASIS",
        Severity.MEDIUM,
        "Art. 13(1)(c), 14(1)(c)",
        _missing("legalBases", "legal basis for the processing", "Art. 13(1)(c), 14(1)(c)"),
    ),
    Rule(
        "NOTICE_NO_RETENTION",
        Severity.MEDIUM,
        "Art. 13(2)(a), 14(2)(a)",
        _missing("retention", "retention period or criteria", "Art. 13(2)(a), 14(2)(a)"),
    ),
    Rule(
        "NOTICE_NO_CONTACT",
        Severity.MEDIUM,
        "Art. 13(1)(a)-(b), 14(1)(a)-(b)",
        _missing("contacts", "contact for the controller or its DPO", "Art. 13(1)(a)-(b)"),
    ),
    Rule("NOTICE_OUTDATED", Severity.MEDIUM, "Art. 12(1), 13(3)", _outdated),
    Rule("NOTICE_DRAFT_PENDING", Severity.INFO, "Art. 30(1), 30(3)", _draft_pending),
)
