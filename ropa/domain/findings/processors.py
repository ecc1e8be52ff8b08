"""Findings about processors and their engagements: Art. 28 and Chapter V.

Only processors that are not retired, engaged by DRAFT or ACTIVE activities, are judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ropa.domain.adequacy import adequacy_on
from ropa.domain.countries import country_name, is_eea
from ropa.domain.findings.model import Concern, Rule, Severity, Snapshot, State
from ropa.domain.taxonomy import is_covered_by


def _names(activities: list[State]) -> str:
    return ", ".join(f'"{activity["name"]}"' for activity in activities)


def _no_dpa(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    engaged = snapshot.activities_by_processor()
    for processor in snapshot.live_processors():
        activities = engaged.get(processor["id"], [])
        if activities and processor["dpaSignedOn"] is None:
            yield Concern(
                "Processor",
                processor["id"],
                f"{processor['name']} processes personal data for {_names(activities)} "
                "without a signed data processing agreement (Art. 28(3)). Record the date "
                "the DPA was signed.",
            )


def _outside_dpa(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    for engagement in snapshot.live_engagements():
        processor = snapshot.processor(engagement["processorId"])
        covered = processor["dpaDataCategories"] if processor else []
        if not covered:
            continue  # the DPA does not state its categories: nothing to compare
        outside = [k for k in engagement["dataCategories"] if not is_covered_by(k, covered)]
        if processor and outside:
            activity = snapshot.activity(engagement["activityId"])
            name = activity["name"] if activity else "an activity"
            yield Concern(
                "ProcessorEngagement",
                engagement["id"],
                f'{processor["name"]} receives {", ".join(outside)} for "{name}", which its '
                "DPA does not cover. Extend the DPA or stop sharing those categories.",
            )


def _subprocessor_outside_eea_unrecorded(snapshot: Snapshot, now: datetime) -> Iterator[Concern]:
    today = now.date()
    engaged = snapshot.activities_by_processor()
    recorded = {(t["activityId"], t["toCountry"]) for t in snapshot.transfers}
    for processor in snapshot.live_processors():
        activities = engaged.get(processor["id"], [])
        for sub in processor["subProcessors"]:
            country = sub["country"]
            if is_eea(country) or adequacy_on(country, today) is not None:
                continue
            unrecorded = [a for a in activities if (a["id"], country) not in recorded]
            if unrecorded:
                yield Concern(
                    "Processor",
                    processor["id"],
                    f"{processor['name']}'s sub-processor {sub['name']} is in "
                    f"{country_name(country)} ({country}), where no adequacy decision covers "
                    f"it, but no transfer to {country} is recorded for {_names(unrecorded)}. "
                    "Record the transfer and its safeguard.",
                )


RULES = (
    Rule("PROCESSOR_NO_DPA", Severity.HIGH, "Art. 28(3)", _no_dpa),
    Rule("ENGAGEMENT_OUTSIDE_DPA", Severity.MEDIUM, "Art. 28(3)(a)", _outside_dpa),
    Rule(
        "SUBPROCESSOR_OUTSIDE_EEA_UNRECORDED",
        Severity.MEDIUM,
        "Art. 28(2), 28(4), 30(1)(e), 44",
        _subprocessor_outside_eea_unrecorded,
    ),
)
