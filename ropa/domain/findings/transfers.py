"""Findings about transfers to third countries: GDPR Chapter V, Art. 44-49.

Only restricted transfers (`is_restricted_transfer`) of DRAFT or ACTIVE activities are
judged. A transfer is judged on the day asked and, when it has not started yet, on its
`startedOn` as well: a planned transfer must have its ground in place on its first day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from ropa.domain.adequacy import (
    PRIVACY_SHIELD_END,
    PRIVACY_SHIELD_START,
    adequacy_on,
    is_restricted_transfer,
)
from ropa.domain.countries import country_name
from ropa.domain.findings.model import Concern, Rule, Severity, Snapshot, State
from ropa.domain.instants import parse_date
from ropa.domain.vocabulary import TransferMechanism


def _restricted(snapshot: Snapshot) -> Iterator[State]:
    for transfer in snapshot.live_transfers():
        if is_restricted_transfer(transfer["fromCountry"], transfer["toCountry"]):
            yield transfer


def _judged_on(transfer: State, now: datetime) -> list[date]:
    today = now.date()
    started = transfer["startedOn"]
    if started is not None and parse_date(started) > today:
        return [today, parse_date(started)]
    return [today]


def _dpf_certified(snapshot: Snapshot, transfer: State) -> bool:
    processor = snapshot.processor(transfer["recipientProcessorId"])
    return processor is not None and bool(processor["dpf"])


def _recipient(snapshot: Snapshot, transfer: State) -> str:
    processor = snapshot.processor(transfer["recipientProcessorId"])
    return str(processor["name"] if processor is not None else transfer["recipientName"])


def _describe(snapshot: Snapshot, transfer: State) -> str:
    activity = snapshot.activity(transfer["activityId"])
    name = activity["name"] if activity is not None else "an activity"
    to = transfer["toCountry"]
    recipient = _recipient(snapshot, transfer)
    return f'The transfer for "{name}" to {recipient} in {country_name(to)} ({to})'


def _day_without_adequacy(snapshot: Snapshot, transfer: State, now: datetime) -> date | None:
    """The first judged day with no adequacy decision covering the transfer, if any."""
    certified = _dpf_certified(snapshot, transfer)
    for day in _judged_on(transfer, now):
        if adequacy_on(transfer["toCountry"], day, dpf_certified=certified) is None:
            return day
    return None


def _transfer(transfer: State, message: str) -> Concern:
    return Concern("Transfer", transfer["id"], message)


def _no_mechanism(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for transfer in _restricted(snapshot):
        if transfer["mechanism"] is None:
            day = _day_without_adequacy(snapshot, transfer, now)
            if day is not None:
                yield _transfer(
                    transfer,
                    f"{_describe(snapshot, transfer)} records no transfer mechanism, and no "
                    f"adequacy decision covers it on {day.isoformat()}. Record the Chapter V "
                    "ground: SCC, BCR, another Art. 46 safeguard, or an Art. 49 derogation.",
                )


def _adequacy_not_in_force(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for transfer in _restricted(snapshot):
        if transfer["mechanism"] == TransferMechanism.ADEQUACY:
            day = _day_without_adequacy(snapshot, transfer, now)
            if day is not None:
                yield _transfer(
                    transfer,
                    f"{_describe(snapshot, transfer)} relies on an adequacy decision, but none "
                    f"is in force for that destination on {day.isoformat()}. Put another "
                    "Chapter V ground in place.",
                )


def _dpf_not_certified(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for transfer in _restricted(snapshot):
        if transfer["mechanism"] != TransferMechanism.DPF:
            continue
        processor = snapshot.processor(transfer["recipientProcessorId"])
        if transfer["toCountry"] != "US":
            problem = "the EU-US Data Privacy Framework only covers recipients in the US"
        elif processor is not None and not processor["dpf"]:
            problem = f"{processor['name']} is not recorded as DPF-certified"
        elif (day := _day_without_adequacy(snapshot, transfer, now)) is not None:
            problem = f"the DPF adequacy decision is not in force on {day.isoformat()}"
        else:
            continue
        yield _transfer(
            transfer,
            f"{_describe(snapshot, transfer)} relies on the EU-US Data Privacy Framework, but "
            f"{problem}. Check the recipient's certification or use another ground.",
        )


def _privacy_shield_invalid(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for transfer in _restricted(snapshot):
        if transfer["mechanism"] != TransferMechanism.PRIVACY_SHIELD:
            continue
        if transfer["toCountry"] != "US":
            problem = "the Privacy Shield only ever covered recipients in the US"
        elif (
            day := next(
                (
                    d
                    for d in _judged_on(transfer, now)
                    if not PRIVACY_SHIELD_START <= d <= PRIVACY_SHIELD_END
                ),
                None,
            )
        ) is not None:
            problem = (
                f"the Privacy Shield decision is not in force on {day.isoformat()} (invalidated "
                "on 16 July 2020, C-311/18)"
            )
        else:
            continue
        yield _transfer(
            transfer,
            f"{_describe(snapshot, transfer)} relies on the EU-US Privacy Shield, but "
            f"{problem}. Put SCC (with a transfer impact assessment) or, for a certified "
            "recipient, the Data Privacy Framework in place.",
        )


def _scc_no_tia(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for transfer in _restricted(snapshot):
        if transfer["mechanism"] == TransferMechanism.SCC and transfer["tia"] is None:
            yield _transfer(
                transfer,
                f"{_describe(snapshot, transfer)} relies on standard contractual clauses "
                "without a transfer impact assessment. Assess the destination's laws and "
                "practices (Schrems II, C-311/18) and record the assessment.",
            )


RULES = (
    Rule("TRANSFER_NO_MECHANISM", Severity.HIGH, "Art. 44, 45, 46, 49", _no_mechanism),
    Rule("TRANSFER_ADEQUACY_NOT_IN_FORCE", Severity.HIGH, "Art. 45(1)", _adequacy_not_in_force),
    Rule("TRANSFER_DPF_NOT_CERTIFIED", Severity.HIGH, "Art. 45(1)", _dpf_not_certified),
    Rule("TRANSFER_SCC_NO_TIA", Severity.MEDIUM, "Art. 46(1), 46(2)(c)", _scc_no_tia),
    Rule(
        "TRANSFER_PRIVACY_SHIELD_INVALID", Severity.HIGH, "Art. 44, 45(1)", _privacy_shield_invalid
    ),
)
