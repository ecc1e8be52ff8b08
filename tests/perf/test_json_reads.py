"""Connections written as JSON by the database answer exactly what the standard executor does.

On both databases, for every role that may read records, now and `asOf` an instant in the
middle of the history (records renamed, engagements removed and added since), on several
pages (`first`/`after`), with filters, and for every operation in graphql/operations/:
the answer with the database writing the JSON equals graphql-core's answer, and the JSON
path really answered (its text reached the result as a spliced `orjson.Fragment`).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import parse

from bench.generate import Shape, organisation_steps
from ropa.api import compiled
from ropa.api.compiled import json_plan
from ropa.api.compiled.plan import compile_operation
from ropa.api.context import Context
from ropa.api.limits import Limits
from ropa.api.schema import build_schema
from ropa.services import activities, reads
from ropa.services.access import Principal
from ropa.services.imports import import_changes
from ropa.services.runtime import Runtime
from tests.conftest import Org, make_org

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
SCHEMA = compiled.enable(build_schema())
SHAPE = Shape("json-reads", activities=14, processors=6, breaches=3, open_breaches=1)
DASHBOARD = (
    (OPERATIONS / "DashboardActivities.graphql")
    .read_text()
    .replace("organization(slug: $slug)", "organization(slug: $slug, asOf: $asOf)")
    .replace("$after: String)", "$after: String, $asOf: DateTime)")
)

EVERYTHING = """
query Everything($slug: String!, $asOf: DateTime, $first: Int, $after: String) {
  organization(slug: $slug, asOf: $asOf) {
    name
    acts: processingActivities(first: $first, after: $after, filter: { status: ACTIVE }) {
      __typename totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
      edges { __typename cursor node {
        __typename id name description role status purposes dataUses sources
        dataSubjectCategories criminalOffenceData systematicMonitoring largeScale owner
        lastReviewedAt
        legalBases { article purpose lia consentMechanism __typename }
        retention { period trigger }
        dpia { status reference }
        controller { name }
        automatedDecisionMaking { description legalEffect }
        engagements { id purpose locations dataCategories
          processor { id name dpf dpaSignedOn services certifications status }
          activity { id name } }
        transfers { id fromCountry toCountry mechanism sccModule derogation startedOn
          supplementaryMeasures tia { date reference }
          recipientProcessor { name country } activity { name } }
      } }
    }
    processors(first: 4) { totalCount edges { cursor node { id name legalName dpf
      subProcessors { name country service } engagements { id purpose } } } }
    transfers(first: 3) { totalCount edges { node { id toCountry mechanism } } }
    privacyPolicies { edges { node { id version effectiveDate url summary } } }
  }
}
"""


def _stamp() -> str:
    time.sleep(0.01)
    moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.01)
    return moment


@pytest.fixture
def history(rt: Runtime) -> tuple[Org, str]:
    """An organisation, and an instant after its import and before later changes."""
    holder = make_org(rt, SHAPE.slug)
    _, steps = organisation_steps(SHAPE)
    dpo = holder.as_role("DPO")
    import_changes(rt, dpo, list(steps))
    middle = _stamp()
    view = reads.view_of(rt, dpo, holder.id)
    acts = reads.all_records(rt, view, "ProcessingActivity")
    engagements = reads.all_records(rt, view, "ProcessorEngagement")
    for state in acts[:4]:
        activities.update_processing_activity(
            rt, dpo, state["id"], {"name": f"Renamed {state['name']}", "owner": None}
        )
    activities.retire_processing_activity(rt, dpo, acts[5]["id"])
    for engagement in engagements[:3]:
        activities.disengage_processor(rt, dpo, engagement["id"])
    activities.engage_processor(
        rt,
        dpo,
        {
            "activityId": acts[6]["id"],
            "processorId": engagements[0]["processorId"],
            "purpose": "added later",
            "dataCategories": [],
            "locations": ["DE"],
        },
    )
    return holder, middle


def _run(
    rt: Runtime,
    principal: Principal,
    query: str,
    variables: dict[str, Any],
    schema: Any = SCHEMA,
    **flags: bool,
) -> Any:
    context = Context(runtime=rt, principal_or_none=principal, **flags)
    return asyncio.run(schema.execute(query, variable_values=variables, context_value=context))


def _spliced(data: Any) -> bool:
    if isinstance(data, orjson.Fragment):
        return True
    if isinstance(data, dict):
        return any(_spliced(v) for v in data.values())
    return False


def _same(
    rt: Runtime,
    principal: Principal,
    query: str,
    variables: dict[str, Any],
    schema: Any = SCHEMA,
) -> Any:
    standard = _run(rt, principal, query, variables, schema)
    assert not standard.errors, standard.errors
    spliced = _run(rt, principal, query, variables, schema, compiled=True, splice_json=True)
    assert not spliced.errors, spliced.errors
    assert _spliced(spliced.data), "the database did not write the connection"
    assert orjson.loads(orjson.dumps(spliced.data)) == standard.data
    parsed = _run(rt, principal, query, variables, schema, compiled=True)
    assert parsed.data == standard.data
    return standard.data


@pytest.mark.parametrize("role", ["VIEWER", "AUDITOR", "EDITOR", "DPO"])
def test_the_dashboard_as_json_equals_the_standard_answer_now_and_as_of(
    rt: Runtime, history: tuple[Org, str], role: str
) -> None:
    holder, middle = history
    principal = holder.as_role(role)
    now = _same(rt, principal, DASHBOARD, {"slug": SHAPE.slug, "first": 100, "asOf": None})
    then = _same(rt, principal, DASHBOARD, {"slug": SHAPE.slug, "first": 100, "asOf": middle})
    assert now != then  # the history really moved between the two


def test_every_field_the_json_path_writes_equals_the_standard_answer(
    rt: Runtime, history: tuple[Org, str]
) -> None:
    holder, middle = history
    assert json_plan.connection_plan(_connection_field(EVERYTHING), "Organization") is not None
    for as_of in (None, middle):
        first = _same(
            rt,
            holder.as_role("VIEWER"),
            EVERYTHING,
            {"slug": SHAPE.slug, "asOf": as_of, "first": 5},
        )
        end = first["organization"]["acts"]["pageInfo"]["endCursor"]
        second = _same(
            rt,
            holder.as_role("VIEWER"),
            EVERYTHING,
            {"slug": SHAPE.slug, "asOf": as_of, "first": 5, "after": end},
        )
        assert second["organization"]["acts"]["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize("path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda p: p.stem)
def test_every_operation_answers_the_same_with_the_json_path(
    rt: Runtime, history: tuple[Org, str], path: Path
) -> None:
    holder, _ = history
    query = path.read_text()
    if "mutation" in query.split("{", 1)[0]:
        return
    principal = holder.as_role("DPO")
    view = reads.view_of(rt, principal, holder.id)
    from ropa.api.ids import to_global_id

    first = reads.all_records(rt, view, "ProcessingActivity")[0]["id"]
    variables = {
        "slug": SHAPE.slug,
        "id": to_global_id("ProcessingActivity", first),
        "seq": 1,
        "treeSize": view.size,
        "fromSize": 2,
    }
    used = {
        v.variable.name.value
        for op in parse(query).definitions
        for v in getattr(op, "variable_definitions", None) or ()
    }
    variables = {k: v for k, v in variables.items() if k in used}
    standard = _run(rt, principal, query, variables)
    fast = _run(rt, principal, query, variables, compiled=True, splice_json=True)
    assert orjson.loads(orjson.dumps(fast.data)) == standard.data
    assert bool(fast.errors) == bool(standard.errors)


def test_a_role_that_may_not_read_is_refused_as_by_the_standard_executor(
    rt: Runtime, history: tuple[Org, str]
) -> None:
    other = make_org(rt, "json-reads-other")
    stranger = other.as_role("DPO")
    variables = {"slug": SHAPE.slug, "first": 10, "asOf": None}
    standard = _run(rt, stranger, DASHBOARD, variables)
    fast = _run(rt, stranger, DASHBOARD, variables, compiled=True, splice_json=True)
    assert standard.errors and fast.errors
    assert [e.extensions for e in fast.errors] == [e.extensions for e in standard.errors]
    assert fast.data == standard.data


def test_a_page_above_the_limit_gives_the_standard_error(
    rt: Runtime, history: tuple[Org, str]
) -> None:
    holder, _ = history
    variables = {"slug": SHAPE.slug, "first": reads.MAX_PAGE + 1, "asOf": None}
    standard = _run(rt, holder.as_role("VIEWER"), DASHBOARD, variables)
    fast = _run(rt, holder.as_role("VIEWER"), DASHBOARD, variables, compiled=True, splice_json=True)
    assert standard.errors
    assert [e.message for e in fast.errors or []] == [e.message for e in standard.errors]


def _connection_field(query: str) -> Any:
    plan = compile_operation(SCHEMA._schema, parse(query), None)
    organization = plan.root.fields[0].subs["Organization"]
    return next(f for f in organization.fields if f.key == "acts")


DEEP = """
query Deep($slug: String!, $asOf: DateTime, $first: Int, $after: String) {
  organization(slug: $slug, asOf: $asOf) {
    processingActivities(first: $first, after: $after) {
      pageInfo { hasNextPage startCursor endCursor }
      edges { cursor node { id name
        engagements { id processor { id name engagements { id activity { name } } } }
        transfers { id recipientProcessor { id engagements { purpose } } }
      } }
    }
    processors(first: 3) { edges { node { name engagements { activity { name } } } } }
  }
}
"""
DEEP_SCHEMA = compiled.enable(build_schema(limits=Limits(max_depth=12, max_cost=50_000)))


def test_relations_nested_in_relations_answer_the_same_on_every_page(
    rt: Runtime, history: tuple[Org, str]
) -> None:
    """Children inside references inside children: each relation reads what its parents
    reach, now and as of the middle of the history, on a first and a second page."""
    holder, middle = history
    viewer = holder.as_role("VIEWER")
    for as_of in (None, middle):
        variables: dict[str, Any] = {"slug": SHAPE.slug, "asOf": as_of, "first": 4}
        first = _same(rt, viewer, DEEP, variables, DEEP_SCHEMA)
        end = first["organization"]["processingActivities"]["pageInfo"]["endCursor"]
        _same(rt, viewer, DEEP, {**variables, "after": end}, DEEP_SCHEMA)


def test_one_statement_serves_other_organisations_and_later_states(
    rt: Runtime, history: tuple[Org, str]
) -> None:
    """A page's statement is built once per selection: the next request, for another
    organisation or after a write, reads its own view through the same statement."""
    holder, _ = history
    other = make_org(rt, "json-reads-second")
    shape = Shape("json-reads-second", activities=3, processors=4, breaches=0, open_breaches=0)
    _, steps = organisation_steps(shape, seed=8)  # other ids than the first one
    import_changes(rt, other.as_role("DPO"), list(steps))
    variables = {"first": 100, "asOf": None}
    mine = _same(rt, holder.as_role("DPO"), DASHBOARD, {**variables, "slug": SHAPE.slug})
    theirs = _same(rt, other.as_role("DPO"), DASHBOARD, {**variables, "slug": shape.slug})
    assert mine != theirs
    dpo = other.as_role("DPO")
    view = reads.view_of(rt, dpo, other.id)
    renamed = reads.all_records(rt, view, "ProcessingActivity")[0]
    activities.update_processing_activity(rt, dpo, renamed["id"], {"name": "Renamed later"})
    after = _same(rt, dpo, DASHBOARD, {**variables, "slug": shape.slug})
    names = [e["node"]["name"] for e in after["organization"]["processingActivities"]["edges"]]
    assert "Renamed later" in names
