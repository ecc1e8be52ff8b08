"""The records in the columns of the UK ICO's documentation templates (Art. 30(1) and 30(2)).

`CONTROLLER_COLUMNS` are the 30 column headings of the ICO "Documentation template for
controllers" (gdpr-documentation-controller-template.xlsx, sheet `Template`, row 9, columns
A to AD), verbatim and in order; `PROCESSOR_COLUMNS` are the Art. 30(2) items in the same
wording. docs/exports.md says where they come from and how each cell is filled. Columns the
records do not hold (the Data Protection Act 2018 Schedule 1 policy-document columns) stay
empty rather than guessed. A few columns of ours follow the template's, never before them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from ropa.domain.adequacy import AdequacyDecision, adequacy_on, is_restricted_transfer
from ropa.domain.countries import country_name
from ropa.domain.findings import Snapshot
from ropa.domain.vocabulary import (
    ActivityRole,
    ActivityStatus,
    Art9Condition,
    Art49Derogation,
    LegalBasisArticle,
    SpecialCategory,
    TransferMechanism,
)

State = dict[str, Any]
Row = dict[str, str]

CONTROLLER_COLUMNS: tuple[str, ...] = (
    "Business function",
    "Purpose of processing",
    "Name and contact details of joint controller (if applicable)",
    "Categories of individuals",
    "Categories of personal data",
    "Categories of recipients",
    "Link to contract with processor",
    "Names of third countries or international organisations that personal data are "
    "transferred to (if applicable)",
    "Safeguards for exceptional transfers of personal data to third countries or "
    "international organisations (if applicable)",
    "Retention schedule (if possible)",
    "General description of technical and organisational security measures (if possible)",
    "Article 6 lawful basis for processing personal data",
    "Article 9 condition for processing special category data",
    "Legitimate interests for the processing (if applicable)",
    "Link to record of legitimate interests assessment (if applicable)",
    "Rights available to individuals",
    "Existence of automated decision-making, including profiling (if applicable)",
    "The source of the personal data (if applicable)",
    "Link to record of consent",
    "Location of personal data",
    "Data Protection Impact Assessment required?",
    "Data Protection Impact Assessment progress",
    "Link to Data Protection Impact Assessment",
    "Has a personal data breach occurred?",
    "Link to record of personal data breach",
    "Data Protection Act 2018 Schedule 1 Condition for processing",
    "GDPR Article 6 lawful basis for processing",
    "Link to retention and erasure policy document",
    "Is personal data retained and erased in accordance with the policy document?",
    "Reasons for not adhering to policy document (if applicable)",
)

PROCESSOR_COLUMNS: tuple[str, ...] = (
    "Name and contact details of controller",
    "Categories of processing",
    "Names of third countries or international organisations that personal data are "
    "transferred to (if applicable)",
    "Safeguards for exceptional transfers of personal data to third countries or "
    "international organisations (if applicable)",
    "General description of technical and organisational security measures (if possible)",
)

# ours, after the template's: what ties a row to the records and the ledger
EXTRA_COLUMNS: tuple[str, ...] = ("Record ID", "Status", "Owner", "Last reviewed")

# Rights by lawful basis: access (Art. 15), rectification (16) and restriction (18) always;
# erasure (17) except where 17(3)(b) keeps the data for a legal obligation or public task;
# portability (20) for consent and contract; objection (21) for public task and legitimate
# interests; withdrawing consent (7(3)) for consent.
_ALWAYS = ("access", "rectification", "restriction")
_BY_BASIS: dict[str, tuple[str, ...]] = {
    LegalBasisArticle.ART6_1_A: ("erasure", "portability", "withdraw consent"),
    LegalBasisArticle.ART6_1_B: ("erasure", "portability"),
    LegalBasisArticle.ART6_1_C: (),
    LegalBasisArticle.ART6_1_D: ("erasure",),
    LegalBasisArticle.ART6_1_E: ("object",),
    LegalBasisArticle.ART6_1_F: ("erasure", "object"),
}
_SOURCES = {"DATA_SUBJECT": "the individual", "THIRD_PARTY": "third parties",
            "AUTOMATIC": "collected automatically", "PUBLIC": "publicly available sources"}
_DPIA_REQUIRED = {"NOT_REQUIRED": "No", "REQUIRED": "Yes", "IN_PROGRESS": "Yes", "DONE": "Yes"}


def _join(items: Iterable[str | None], sep: str = "; ") -> str:
    return sep.join(dict.fromkeys(i for i in items if i))


def _party(p: State | None) -> str:
    if not p:
        return ""
    country = country_name(p["country"]) if p.get("country") else None
    return _join((p.get("name"), p.get("contact"), country), ", ")


def _basis(b: State) -> str:
    label = LegalBasisArticle(b["article"]).label
    return f"{label}: {b['purpose']}" if b.get("purpose") else label


def _countries(transfers: list[State]) -> str:
    return _join(f"{country_name(t['toCountry'])} ({t['toCountry']})" for t in transfers)


def _decision(d: AdequacyDecision) -> str:
    scope = "" if d.scope == "general" else f", {d.scope}"
    return f"adequacy decision of {d.start.isoformat()} ({d.source}{scope})"


def _adequacy(t: State, processors: dict[str, State], on: date) -> AdequacyDecision | None:
    """The Art. 45 decision covering this transfer on `on` (the export's day), if any."""
    if not is_restricted_transfer(t["fromCountry"], t["toCountry"]):
        return None
    processor = processors.get(t.get("recipientProcessorId") or "") or {}
    return adequacy_on(t["toCountry"], on, dpf_certified=bool(processor.get("dpf")))


def _safeguard(t: State, processors: dict[str, State], on: date) -> str:
    recipient = t.get("recipientName") or processors.get(
        t.get("recipientProcessorId") or "", {}
    ).get("name", "")
    decision = _adequacy(t, processors, on)
    if t["mechanism"] is None:
        # an adequate destination needs no mechanism (Art. 45(1)): not a gap
        ground = _decision(decision) if decision else "no mechanism recorded"
    elif t["mechanism"] in (TransferMechanism.ADEQUACY, TransferMechanism.DPF) and decision:
        ground = f"{TransferMechanism(t['mechanism']).label}: {_decision(decision)}"
    else:
        ground = TransferMechanism(t["mechanism"]).label
        if t.get("sccModule"):
            ground += f", module {t['sccModule']}"
        if t.get("derogation"):
            ground += f", {Art49Derogation(t['derogation']).label}"
    if t.get("tia"):
        tia = t["tia"]
        ground += f"; transfer impact assessment {_join((tia['date'], tia.get('reference')), ' ')}"
    if t["supplementaryMeasures"]:
        ground += f"; supplementary measures: {_join(t['supplementaryMeasures'], ', ')}"
    return f"{t['toCountry']} ({recipient}): {ground.strip()}"


def _retention(r: State | None) -> str:
    if not r:
        return ""
    return _join((r.get("period"), r.get("trigger")), ", ")


def _contract(p: State) -> str:
    if not p.get("dpaSignedOn"):
        return f"{p['name']}: no data processing agreement recorded"
    reference = f", {p['dpaReference']}" if p.get("dpaReference") else ""
    return f"{p['name']}: DPA signed {p['dpaSignedOn']}{reference}"


HIDDEN = "not shown: reading breaches needs the DPO role"


class Records:
    """The snapshot's records, indexed the way the rows need them."""

    def __init__(
        self, snapshot: Snapshot, *, breaches_visible: bool = True, on: date | None = None
    ) -> None:
        self.snapshot = snapshot
        self.processors = {p["id"]: p for p in snapshot.processors}
        self.breaches_visible = breaches_visible
        # the day adequacy is judged on: the export's instant
        self.on = on or datetime.now(UTC).date()

    def safeguard(self, transfer: State) -> str:
        return _safeguard(transfer, self.processors, self.on)

    def live(self, roles: set[str]) -> list[State]:
        """DRAFT and ACTIVE activities in these roles, by name: the record as it stands."""
        return sorted(
            (a for a in self.snapshot.activities
             if a["status"] != ActivityStatus.RETIRED and a["role"] in roles),
            key=lambda a: (a["name"], a["id"]),
        )

    def engaged(self, activity: State) -> list[State]:
        ids = [e["processorId"] for e in self.snapshot.engagements
               if e["activityId"] == activity["id"]]
        return [self.processors[i] for i in dict.fromkeys(ids) if i in self.processors]

    def engagements(self, activity: State) -> list[State]:
        return [e for e in self.snapshot.engagements if e["activityId"] == activity["id"]]

    def transfers(self, activity: State) -> list[State]:
        return [t for t in self.snapshot.transfers if t["activityId"] == activity["id"]]

    def breaches(self, activity: State) -> list[State]:
        return [b for b in self.snapshot.breaches if activity["id"] in b["affectedActivityIds"]]


def _extras(activity: State) -> Row:
    return {"Record ID": activity["id"], "Status": activity["status"],
            "Owner": activity.get("owner") or "",
            "Last reviewed": activity.get("lastReviewedAt") or ""}


def controller_rows(
    snapshot: Snapshot, *, breaches_visible: bool = True, on: date | None = None
) -> list[Row]:
    """One row per live activity the organisation carries out as (joint) controller.

    Without `breaches_visible` the two breach columns say they are withheld, rather than
    "No": a breach's existence is for the DPO (access.py). Adequacy is judged on `on`
    (the export's day; default today).
    """
    records = Records(snapshot, breaches_visible=breaches_visible, on=on)
    roles = {ActivityRole.CONTROLLER.value, ActivityRole.JOINT_CONTROLLER.value}
    return [_controller_row(a, records) for a in records.live(roles)]


def _controller_row(a: State, records: Records) -> Row:
    bases = a["legalBases"]
    engaged = records.engaged(a)
    transfers = records.transfers(a)
    breaches = records.breaches(a)
    sensitive = bool(a["specialCategories"]) or a["criminalOffenceData"]
    dpia = a["dpia"]
    decisions = a["automatedDecisionMaking"]
    cells = [
        a["name"],
        _join([*a["purposes"], a.get("description")]),
        _join(_party(p) for p in a["jointControllers"]),
        _join(a["dataSubjectCategories"]),
        _join([
            *a["dataCategories"],
            *(f"special category: {SpecialCategory(s['category']).label}"
              for s in a["specialCategories"]),
            "criminal offence data (Art. 10)" if a["criminalOffenceData"] else None,
        ]),
        _join([*a["recipientCategories"], *(f"processor: {p['name']}" for p in engaged)]),
        _join(_contract(p) for p in engaged),
        _countries(transfers),
        _join(records.safeguard(t) for t in transfers),
        _retention(a["retention"]),
        _join(a["securityMeasures"]),
        _join(_basis(b) for b in bases),
        _join(
            f"{SpecialCategory(s['category']).label}: "
            + (Art9Condition(s["condition"]).label if s["condition"] else "no condition recorded")
            for s in a["specialCategories"]
        ),
        _join(b.get("purpose") or "legitimate interests" for b in bases
              if b["article"] == LegalBasisArticle.ART6_1_F),
        _join(b.get("lia") or "no assessment recorded" for b in bases
              if b["article"] == LegalBasisArticle.ART6_1_F),
        _join([*_ALWAYS, *(r for b in bases for r in _BY_BASIS[b["article"]])], ", ")
        if bases else "",
        (f"{decisions.get('description') or 'yes'}"
         f"{' (legal or similarly significant effect)' if decisions.get('legalEffect') else ''}")
        if decisions else "No",
        _join(_SOURCES.get(s, s) for s in a["sources"]),
        _join(b.get("consentMechanism") or "no consent mechanism recorded" for b in bases
              if b["article"] == LegalBasisArticle.ART6_1_A),
        _join([
            *(country_name(c) for e in records.engagements(a) for c in e["locations"]),
            *(country_name(c) for p in engaged for c in p["processingLocations"]),
        ]),
        _DPIA_REQUIRED.get(dpia["status"], "") if dpia else "Not assessed",
        _join((dpia["status"], dpia.get("date")), " ") if dpia else "",
        (dpia.get("reference") or "") if dpia else "",
        (f"Yes ({len(breaches)})" if breaches else "No") if records.breaches_visible else HIDDEN,
        _join(f"{b['title']} (discovered {b['discoveredAt'][:10]}, {b['status']})"
              for b in breaches) if records.breaches_visible else HIDDEN,
        "",
        _join(_basis(b) for b in bases) if sensitive else "",
        "",
        "",
        "",
    ]
    return {**dict(zip(CONTROLLER_COLUMNS, cells, strict=True)), **_extras(a)}


def processor_rows(snapshot: Snapshot, *, on: date | None = None) -> list[Row]:
    """One row per live activity carried out as processor for a controller (Art. 30(2))."""
    records = Records(snapshot, on=on)
    return [_processor_row(a, records) for a in records.live({ActivityRole.PROCESSOR.value})]


def _processor_row(a: State, records: Records) -> Row:
    transfers = records.transfers(a)
    categories = _join([
        a["name"], *a["purposes"], *a["dataCategories"],
        *(f"sub-processor: {p['name']}" for p in records.engaged(a)),
    ])
    cells = [
        _party(a["controller"]),
        categories,
        _countries(transfers),
        _join(records.safeguard(t) for t in transfers),
        _join(a["securityMeasures"]),
    ]
    return {**dict(zip(PROCESSOR_COLUMNS, cells, strict=True)), **_extras(a)}


def contact_block(organization: State) -> list[tuple[str, str]]:
    """Art. 30(1)(a) and 30(2)(a): the organisation, its DPO and its representative."""
    dpo = organization.get("dpo") or {}
    rep = organization.get("euRepresentative") or {}
    return [
        ("Name", organization["name"]),
        ("Address", organization.get("address") or ""),
        ("Country", country_name(organization["country"])),
        ("Email", organization.get("contactEmail") or ""),
        ("Data protection officer",
         _join((dpo.get("name"), dpo.get("email"), dpo.get("phone")), ", ")),
        ("Representative (Art. 27)",
         _join((rep.get("name"), rep.get("email"), rep.get("address"),
                country_name(rep["country"]) if rep.get("country") else None), ", ")),
    ]
