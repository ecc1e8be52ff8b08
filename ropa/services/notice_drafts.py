"""Drafting records from a privacy notice: what the notice discloses becomes DRAFT records.

`draftRecordsFromNotice` reads the analysis kept with a notice version (Art. 13/14
disclosures) and drafts, in ONE write-path transaction so that each gets its own signed
ledger entry:

- a DRAFT processor for each third party named that no processor matches (by name, legal
  name or the gazetteer's canonical name, whatever its status: a discarded draft stays
  discarded);
- a DRAFT processing activity for each data use disclosed (or one for the notice, when it
  names none), with the data categories, legal bases and retention the notice states;
- a transfer, in the first drafted activity, for each country outside the EEA disclosed.

Each carries `evidence`: the notice version, what it was drafted from (`about`) and the
spans of the text. Running it again drafts nothing twice. A DPO accepts a draft (status
ACTIVE), edits it or discards it (retire) with the ordinary mutations (Art. 30(1), 30(3)).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ropa.domain.countries import EEA
from ropa.domain.taxonomy import is_data_category, is_data_use
from ropa.domain.vocabulary import LegalBasisArticle, TransferMechanism
from ropa.errors import FieldError, ValidationError
from ropa.notices.compare import party_names, processor_names
from ropa.notices.gazetteer import Gazetteer, Vendor, vendor_files
from ropa.services.access import Action, Principal, authorize
from ropa.services.changes import existing, new_state, open_transaction
from ropa.services.runtime import Runtime
from ropa.store.ledger_store import Receipt
from ropa.store.tables import Organization, ProcessingActivity, Processor, Transfer
from ropa.store.write_path import Transaction

OP = "draftRecordsFromNotice"
# mechanisms a draft can record without details the notice does not give (SCC module,
# Art. 49 ground)
_DRAFTABLE_MECHANISMS = {
    TransferMechanism.ADEQUACY.value,
    TransferMechanism.DPF.value,
    TransferMechanism.BCR.value,
    TransferMechanism.CODE_OF_CONDUCT.value,
    TransferMechanism.CERTIFICATION.value,
    TransferMechanism.AD_HOC_CLAUSES.value,
}


@dataclass
class Drafts:
    """The records drafted by one run, and the receipts of their ledger entries."""

    processors: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)


def draft_records_from_notice(rt: Runtime, principal: Principal, policy_id: str) -> Drafts:
    org_id = principal.org_id or ""
    authorize(principal, Action.DRAFT_FROM_NOTICE, org_id)
    drafts = Drafts()
    with open_transaction(rt, principal, org_id) as tx:
        policy = existing(tx, "PrivacyPolicy", policy_id).to_state()
        analysis = policy.get("analysis")
        if not isinstance(analysis, dict):
            raise ValidationError(
                FieldError("policyId", "this version has no analysed text: publish it with text")
            )
        org = tx.current(Organization, org_id)
        home = org.country if org is not None else "DE"
        notice = _Notice(policy, analysis)
        _draft_processors(tx, notice, home, drafts)
        _draft_activities(tx, notice, drafts)
        _draft_transfers(tx, notice, home, drafts)
        drafts.receipts = tx.commit()
    return drafts


class _Notice:
    def __init__(self, policy: dict[str, Any], analysis: dict[str, Any]) -> None:
        self.policy = policy
        self.analysis = analysis

    def items(self, key: str) -> list[dict[str, Any]]:
        value = self.analysis.get(key)
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    def evidence(self, about: str, *items: dict[str, Any]) -> dict[str, Any]:
        spans = [[int(s[0]), int(s[1])] for item in items for s in item.get("spans") or []]
        return {"policyId": self.policy["id"], "about": about, "spans": spans}

    @property
    def label(self) -> str:
        return f"privacy notice {self.policy['version']}"

    def countries_outside_eea(self) -> list[dict[str, Any]]:
        return [c for c in self.items("countries") if c.get("code") and c["code"] not in EEA]


def _drafted_from(rows: list[Any], policy_id: str) -> set[str]:
    return {
        row.evidence["about"]
        for row in rows
        if row.evidence and row.evidence.get("policyId") == policy_id
    }


@cache
def _gazetteer() -> Gazetteer:
    return Gazetteer(vendor_files())


def known_vendor(party: dict[str, Any]) -> Vendor | None:
    """The gazetteer's vendor for a third party the notice names (its seat and services)."""
    canonical = party.get("canonical")
    for text in (party.get("name"), canonical):
        if not text:
            continue
        for hit in _gazetteer().find(str(text)):
            if canonical is None or hit.vendor.legal_entity == canonical:
                return hit.vendor
    return None


def _draft_processors(tx: Transaction, notice: _Notice, home: str, drafts: Drafts) -> None:
    known: set[str] = set()
    for row in tx.current_where(Processor):
        known |= processor_names(row.to_state())
    outside = notice.countries_outside_eea()
    fallback = outside[0]["code"] if len(outside) == 1 else home
    for party in notice.items("thirdParties"):
        names = party_names(party)
        if not names or names & known:
            continue
        known |= names
        canonical = party.get("canonical")
        vendor = known_vendor(party)
        state = new_state(
            "Processor",
            {
                "name": party.get("name") or canonical,
                "legalName": canonical,
                "services": list(vendor.services) if vendor else [],
                "country": vendor.country if vendor and vendor.country else fallback,
                "status": "DRAFT",
                "evidence": notice.evidence(f"thirdParty:{canonical or party['name']}", party),
            },
        )
        tx.create(Processor, OP, state)
        drafts.processors.append(state)


def _humane(key: str) -> str:
    first, *rest = key.split(".")
    return first.capitalize() + (
        ": " + ", ".join(r.replace("_", " ") for r in rest) if rest else ""
    )


def _activity_fields(notice: _Notice) -> dict[str, Any]:
    """What the notice says of all its processing: categories, bases, retention."""
    categories = sorted(
        {c["key"] for c in notice.items("dataCategories") if is_data_category(str(c.get("key")))}
    )
    bases: list[dict[str, Any]] = []
    for item in notice.items("legalBases"):
        article = item.get("article")
        if article in LegalBasisArticle.__members__ and all(b["article"] != article for b in bases):
            bases.append({
                "article": article, "purpose": f"as stated in the {notice.label}", "lia": None,
                "consentMechanism": None,
            })  # fmt: skip
    retention = None
    for item in notice.items("retention"):
        period, text = item.get("period"), item.get("text")
        if period or text:
            retention = {"period": period or None, "trigger": (text or None) and text[:200]}
            break
    return {"dataCategories": categories, "legalBases": bases, "retention": retention}


def _draft_activities(tx: Transaction, notice: _Notice, drafts: Drafts) -> None:
    rows = tx.current_where(ProcessingActivity)
    done = _drafted_from(rows, notice.policy["id"])
    uses = [u for u in notice.items("dataUses") if is_data_use(str(u.get("key")))]
    plans = [(f"dataUse:{u['key']}", _humane(u["key"]), [u["key"]], u) for u in uses]
    if not plans:
        plans = [("notice", "Processing described", [], {})]
    common = _activity_fields(notice)
    for about, title, data_uses, item in plans:
        if about in done:
            continue
        done.add(about)
        state = new_state(
            "ProcessingActivity",
            {
                **common,
                "name": f"{title} (drafted from the {notice.label})",
                "role": "CONTROLLER",
                "dataUses": data_uses,
                "status": "DRAFT",
                "evidence": notice.evidence(about, item) if item else notice.evidence(about),
            },
        )
        tx.create(ProcessingActivity, OP, state)
        drafts.activities.append(state)


def _draft_transfers(tx: Transaction, notice: _Notice, home: str, drafts: Drafts) -> None:
    activities = [
        row.to_state()
        for row in tx.current_where(ProcessingActivity)
        if row.evidence and row.evidence.get("policyId") == notice.policy["id"]
    ]
    activities += [a for a in drafts.activities if a["id"] not in {x["id"] for x in activities}]
    if not activities:
        return
    target = min(activities, key=lambda a: a["evidence"]["about"])
    done = _drafted_from(tx.current_where(Transfer), notice.policy["id"])
    mechanisms = notice.items("transferMechanisms")
    named = {str(m.get("mechanism")) for m in mechanisms}
    mechanism = next(iter(named)) if len(named) == 1 and named <= _DRAFTABLE_MECHANISMS else None
    for country in notice.countries_outside_eea():
        code = country["code"]
        about = f"country:{code}"
        if code == home or about in done:
            continue
        done.add(about)
        state = new_state(
            "Transfer",
            {
                "activityId": target["id"],
                "recipientName": f"recipients in {code} named in the {notice.label}",
                "fromCountry": home,
                "toCountry": code,
                "mechanism": mechanism,
                "evidence": notice.evidence(about, country, *mechanisms),
            },
        )
        tx.create(Transfer, OP, state)
        drafts.transfers.append(state)
