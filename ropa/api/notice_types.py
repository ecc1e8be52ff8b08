"""GraphQL types for what a privacy notice says (Art. 13, 14) and the evidence citing it.

A finding that compares the notice with the records, and a record drafted from a notice,
cite the notice version and the `[start, end)` code-point spans of its text.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from ropa.api.context import Context
from ropa.api.ids import to_global_id
from ropa.domain import findings as finding_rules
from ropa.services.reads import View


@strawberry.type(description="A passage of a privacy notice: [start, end) in code points.")
class TextSpan:
    start: int
    end: int
    text: str | None = strawberry.field(description="The passage's words (at most 200).")


@strawberry.type(
    description="Where a privacy-notice version says what a record or finding is about."
)
class NoticeEvidence:
    policy_id: strawberry.ID
    about: str | None = strawberry.field(
        description="What the record was drafted from, e.g. `thirdParty:HubSpot, Inc.`."
    )
    spans: list[TextSpan]

    @classmethod
    def of_finding(cls, evidence: finding_rules.Evidence) -> NoticeEvidence:
        return cls(
            policy_id=strawberry.ID(to_global_id("PrivacyPolicy", evidence.policy_id)),
            about=None,
            spans=[TextSpan(start=s.start, end=s.end, text=s.text) for s in evidence.spans],
        )


@strawberry.type(description="A third party a privacy notice names, as the analysis found it.")
class DisclosedThirdParty:
    name: str
    canonical: str | None = strawberry.field(
        description="The vendor's name as the gazetteer knows it."
    )
    spans: list[TextSpan]


def spans_of(text: str | None, raw: Any) -> list[TextSpan]:
    out = []
    for pair in raw or []:
        start, end = int(pair[0]), int(pair[1])
        words = text[start:end][:200] if text is not None else None
        out.append(TextSpan(start=start, end=end, text=words))
    return out


async def record_evidence(
    info: Info[Context, None], view: View, evidence: dict[str, Any] | None
) -> NoticeEvidence | None:
    """A drafted record's evidence, with the passages read from the notice version."""
    if not evidence:
        return None
    policy = await info.context.records_by_id(view, "PrivacyPolicy").load(evidence["policyId"])
    text = policy["text"] if policy else None
    return NoticeEvidence(
        policy_id=strawberry.ID(to_global_id("PrivacyPolicy", evidence["policyId"])),
        about=evidence.get("about"),
        spans=spans_of(text, evidence.get("spans")),
    )
