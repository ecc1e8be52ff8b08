"""A small organisation whose privacy notice and records disagree, for the notice tests.

`Notice` builds a notice's text and the analysis of it (the shape `ropa.notices.analyze`
returns), with every span pointing at the words it names, so tests control exactly what a
notice discloses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ropa.ledger.canonical import format_ts
from ropa.services import activities, policies, processors, transfers
from ropa.services.access import Principal
from ropa.services.changes import Change
from ropa.services.runtime import Runtime

KEYS = (
    "thirdParties", "countries", "regions", "dataCategories", "dataUses", "legalBases",
    "transferMechanisms", "retention", "contacts",
)  # fmt: skip


@dataclass
class Notice:
    """A notice's sentences and what each discloses."""

    sentences: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def says(self, sentence: str, section: str, words: str, **item: Any) -> Notice:
        """`sentence` discloses `item` under `section`; the span covers `words` in it."""
        assert words in sentence, (words, sentence)
        self.sentences.append((sentence, section, {**item, "_words": words}))
        return self

    def plain(self, sentence: str) -> Notice:
        """A sentence the analysis finds nothing in (a recipient category, say)."""
        self.sentences.append((sentence, "", {}))
        return self

    def text(self) -> str:
        return " ".join(s for s, _, _ in self.sentences) or "This notice says little."

    def analysis(self) -> dict[str, Any]:
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in KEYS}
        offset = 0
        for sentence, key, item in self.sentences:
            if not key:
                offset += len(sentence) + 1
                continue
            start = offset + sentence.index(item["_words"])
            span = [start, start + len(item["_words"])]
            out[key].append({**{k: v for k, v in item.items() if k != "_words"}, "spans": [span]})
            offset += len(sentence) + 1
        return out

    def analyzer(self) -> policies.Analyzer:
        analysis = self.analysis()

        def analyze(text: str, media_type: str) -> dict[str, Any]:
            assert text == self.text()
            return analysis

        return analyze


def complete_notice() -> Notice:
    """A notice that discloses everything `records()` hold."""
    return (
        Notice()
        .says("We use Freshdesk for support tickets.", "thirdParties", "Freshdesk",
              name="Freshdesk", canonical="Freshworks Inc.")
        .says("Mailgun sends our e-mails.", "thirdParties", "Mailgun",
              name="Mailgun", canonical="Mailgun Technologies, Inc.")
        .plain("Our payment processors handle card payments.")
        .says("We collect your e-mail address.", "dataCategories", "e-mail address",
              key="user.contact.email")
        .says("We keep card details for billing.", "dataCategories", "card details",
              key="user.financial.credit_card")
        .says("Data goes to the United States.", "countries", "United States", code="US")
        .says("Some data leaves for India.", "countries", "India", code="IN")
        .says("Transfers rely on standard contractual clauses.", "transferMechanisms",
              "standard contractual clauses", mechanism="SCC")
        .says("We rely on our contract with you.", "legalBases", "contract with you",
              article="ART6_1_B")
        .says("We keep data for two years.", "retention", "two years", text="two years",
              period="P2Y")
        .says("Write to dpo@acme.example.", "contacts", "dpo@acme.example", kind="DPO",
              email="dpo@acme.example")
    )  # fmt: skip


def gappy_notice() -> Notice:
    """A notice that leaves out half the records and names what is not recorded."""
    return (
        Notice()
        .says("We use Freshdesk for support tickets.", "thirdParties", "Freshdesk",
              name="Freshdesk", canonical="Freshworks Inc.")
        .says("We share contacts with HubSpot.", "thirdParties", "HubSpot",
              name="HubSpot", canonical="HubSpot, Inc.")
        .says("We collect your e-mail address.", "dataCategories", "e-mail address",
              key="user.contact.email")
        .says("We log your IP address.", "dataCategories", "IP address",
              key="user.device.ip_address")
        .plain("Our analytics providers measure visits.")
        .says("Data goes to the United States.", "countries", "United States", code="US")
        .says("US transfers rely on the Data Privacy Framework.", "transferMechanisms",
              "Data Privacy Framework", mechanism="DPF")
    )  # fmt: skip


def publish(
    rt: Runtime, dpo: Principal, notice: Notice, version: str, effective: str, fmt: str = "PLAIN"
) -> Change:
    return policies.publish_privacy_policy(
        rt,
        dpo,
        {"version": version, "effectiveDate": effective, "url": "https://acme.example/privacy"},
        notice.text(),
        fmt,
        analyzer=notice.analyzer(),
    )


@dataclass
class Records:
    activity: str
    freshdesk: str
    stripe: str
    mailgun: str
    to_us: str
    to_india: str


def records(rt: Runtime, dpo: Principal) -> Records:
    """An ACTIVE activity with three processors and two transfers out of the EEA."""

    def vendor(name: str, legal: str, services: list[str]) -> str:
        data = {"name": name, "legalName": legal, "services": services, "country": "US"}
        return processors.register_processor(rt, dpo, data).record["id"]

    freshdesk = vendor("Freshdesk", "Freshworks Inc.", ["helpdesk"])
    stripe = vendor("Stripe", "Stripe, Inc.", ["payment processing"])
    mailgun = vendor("Mailgun", "Mailgun Technologies, Inc.", ["email delivery"])
    activity = activities.create_processing_activity(
        rt,
        dpo,
        {
            "name": "Sales", "purposes": ["selling"], "dataSubjectCategories": ["customer"],
            "dataCategories": ["user.contact.email", "user.financial"],
            "legalBases": [
                {"article": "ART6_1_B", "purpose": "sale", "lia": None, "consentMechanism": None}
            ],
            "retention": {"period": "P2Y", "trigger": None},
        },
    ).record["id"]  # fmt: skip
    for processor in (freshdesk, stripe, mailgun):
        activities.engage_processor(rt, dpo, {"activityId": activity, "processorId": processor})
    to_us = transfers.record_transfer(
        rt,
        dpo,
        {
            "activityId": activity, "recipientProcessorId": freshdesk, "fromCountry": "DE",
            "toCountry": "US", "mechanism": "SCC", "sccModule": 2,
            "tia": {"date": "2025-01-01", "reference": "TIA-1"},
        },
    ).record["id"]  # fmt: skip
    to_india = transfers.record_transfer(
        rt,
        dpo,
        {
            "activityId": activity, "recipientName": "Support desk", "fromCountry": "DE",
            "toCountry": "IN", "mechanism": "SCC", "sccModule": 2,
            "tia": {"date": "2025-01-01", "reference": "TIA-2"},
        },
    ).record["id"]  # fmt: skip
    return Records(activity, freshdesk, stripe, mailgun, to_us, to_india)


def instant() -> str:
    """Now, as an `asOf` instant strictly between the writes before and after it."""
    time.sleep(0.01)
    moment = format_ts(datetime.now(UTC))
    time.sleep(0.01)
    return moment
