"""The compiled executor answers exactly what the standard executor answers.

Every operation in graphql/operations/ (and queries using what the operations do not:
fragments, aliases, @skip/@include, __typename, the Node interface) is run twice through
the same schema, once with graphql-core's execution and once compiled, on the demo data
and on generated data, as callers of several roles; data and errors must be equal, and
the compiled run must really have answered (not fallen back).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bench.generate import Shape, organisation_steps
from ropa.api import compiled
from ropa.api.context import Context
from ropa.api.ids import to_global_id
from ropa.api.schema import build_schema
from ropa.demo.loader import load_demo
from ropa.services import reads
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.imports import import_changes
from ropa.services.runtime import Runtime
from tests.conftest import Org, make_org

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
SCHEMA = compiled.enable(build_schema())
SMALL = Shape("gen-small", activities=12, processors=6, breaches=4, open_breaches=2)

EXTRA_QUERIES = {
    "fragments, aliases and directives": """
        fragment Vendor on Processor { id name country dpf __typename }
        query Extra($slug: String!, $withTransfers: Boolean!, $skipBases: Boolean!) {
          org: organization(slug: $slug) {
            __typename id slug roles dpo { name email phone } euRepresentative { name }
            acts: processingActivities(first: 7, filter: { status: ACTIVE }) {
              totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
              edges { cursor node {
                ... on Node { id }
                ... on ProcessingActivity { name sources lastReviewedAt dpia { status } }
                legalBases @skip(if: $skipBases) { article purpose lia consentMechanism }
                transfers @include(if: $withTransfers) {
                  tia { date reference } supplementaryMeasures
                  recipientProcessor { ...Vendor }
                  activity { name }
                }
                engagements { processor { ...Vendor } activity { id } locations }
              } }
            }
            processors(first: 5) { edges { node { ...Vendor subProcessors { name } } } }
            transfers(first: 5) { totalCount edges { node { id toCountry mechanism } } }
            privacyPolicies { edges { node { version effectiveDate url } } }
          }
        }
    """,
    "breaches and the ledger": """
        query Breaches($slug: String!) {
          organization(slug: $slug) {
            breaches(first: 10) { totalCount edges { node {
              id title risk status discoveredAt notificationDeadline overdue
              authorityNotifications { authority notifiedAt phase }
              affectedActivities { id name engagements { id purpose } }
            } } }
            ledger { size rootHash checkpoint }
            asOf
          }
        }
    """,
}


def _variables(name: str, rt: Runtime, org_id: str, slug: str) -> dict[str, Any]:
    view = reads.view_of(rt, SYSTEM_PRINCIPAL, org_id)
    activities = reads.all_records(rt, view, "ProcessingActivity")
    first_id = to_global_id("ProcessingActivity", activities[0]["id"]) if activities else ""
    return {
        "DashboardOverview": {"slug": slug},
        "ActivityDetail": {"id": first_id},
        "LedgerProofs": {"slug": slug, "seq": 1, "treeSize": view.size, "fromSize": 2},
    }.get(name, {"slug": slug, "withTransfers": True, "skipBases": False})


async def _both(
    rt: Runtime, query: str, variables: dict[str, Any], principal: Principal
) -> tuple[Any, Any, Any]:
    def context(compiled_: bool) -> Context:
        return Context(runtime=rt, principal_or_none=principal, compiled=compiled_)

    standard = await SCHEMA.execute(query, variable_values=variables, context_value=context(False))
    fast = await SCHEMA.execute(query, variable_values=variables, context_value=context(True))
    from graphql import parse

    direct = await compiled.execute_compiled(
        SCHEMA._schema, parse(query), query, None, variables, context(True)
    )
    return standard, fast, direct


def _formatted(result: Any) -> Any:
    # As a set of (message, code, path) without the paths of siblings: sibling resolvers
    # finish in any order, and after one fails in a non-null field graphql-core keeps the
    # errors of whichever siblings were done, so even two standard runs may list different
    # siblings' errors.
    if not result.errors:
        return None
    return {(e.message, (e.extensions or {}).get("code"), repr(e.path[:-1] if e.path else None))
            for e in result.errors}


def _check(rt: Runtime, org_id: str, slug: str, principals: dict[str, Principal]) -> int:
    compiled_runs = 0
    queries = {p.stem: p.read_text() for p in sorted(OPERATIONS.glob("*.graphql"))}
    queries.update(EXTRA_QUERIES)
    for name, query in queries.items():
        if query.lstrip().startswith(("mutation", "# An internal tool")) and "mutation" in query:
            plan = compiled.plan_for(SCHEMA._schema, _parse(query), query, None)
            assert asyncio.run(plan) is None
            continue
        variables = _variables(name, rt, org_id, slug)
        for role, principal in principals.items():
            standard, fast, direct = asyncio.run(_both(rt, query, variables, principal))
            assert fast.data == standard.data, (name, role)
            assert _formatted(fast) == _formatted(standard), (name, role)
            if not standard.errors:
                assert direct == standard.data, (name, role, "the compiled run fell back")
                compiled_runs += 1
    return compiled_runs


def _parse(query: str) -> Any:
    from graphql import parse

    return parse(query)


def test_compiled_results_equal_the_standard_executor_on_demo_data(rt: Runtime) -> None:
    load_demo(rt, ("qualer",))
    view, _ = reads.open_view(rt, SYSTEM_PRINCIPAL, "qualer")
    org = Principal(SYSTEM_PRINCIPAL.actor, view.org_id)
    assert _check(rt, view.org_id, "qualer", {"SYSTEM": org}) >= 4


def test_compiled_results_equal_the_standard_executor_on_generated_data_for_every_role(
    rt: Runtime,
) -> None:
    holder: Org = make_org(rt, SMALL.slug)
    _, steps = organisation_steps(SMALL)
    import_changes(rt, holder.as_role("DPO"), list(steps))
    roles = {r: holder.as_role(r) for r in ("VIEWER", "DPO")}
    assert _check(rt, holder.id, SMALL.slug, roles) >= 5


def test_an_unknown_organisation_gives_the_standard_error(rt: Runtime, org: Org) -> None:
    query = (OPERATIONS / "DashboardOverview.graphql").read_text()
    standard, fast, direct = asyncio.run(
        _both(rt, query, {"slug": "nobody"}, org.as_role("VIEWER"))
    )
    assert direct is None  # the compiled run declined; the standard errors answer
    assert _formatted(fast) == _formatted(standard)
    assert standard.errors


@pytest.mark.parametrize("query", [
    "mutation { __typename }",
    "{ __schema { queryType { name } } }",
])
def test_mutations_and_introspection_are_left_to_the_standard_executor(query: str) -> None:
    assert asyncio.run(compiled.plan_for(SCHEMA._schema, _parse(query), query, None)) is None
