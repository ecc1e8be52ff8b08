"""Every document limit, exceeded by one, refused before anything runs with a clear error;
and every operation the dashboards and tools send (graphql/operations/) within them all.

These need no database: a refused document never reaches a resolver.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from graphql import parse, validate
from strawberry import Schema

from ropa.api.limits import Limits
from ropa.api.limits.aliases import rule as aliases_rule
from ropa.api.limits.arguments import operation
from ropa.api.limits.cost import Estimate
from ropa.api.limits.depth import rule as depth_rule
from ropa.api.limits.directives import rule as directives_rule
from ropa.api.limits.page_size import oversized_pages
from ropa.api.limits.root_fields import rule as root_fields_rule
from ropa.api.schema import build_schema
from ropa.services.reads import MAX_PAGE

OPERATIONS = sorted(
    (Path(__file__).resolve().parents[2] / "graphql" / "operations").glob("*.graphql")
)
DEFAULTS = Limits()
SCHEMA = build_schema()


def run(query: str, variables: dict[str, Any] | None = None, schema: Schema = SCHEMA) -> Any:
    return asyncio.run(schema.execute(query, variable_values=variables))


def limit_refusal(result: Any) -> dict[str, Any]:
    """The one error of a refused document: its message and its `limit` extension."""
    assert result.data is None
    assert len(result.errors) == 1, result.errors
    error = result.errors[0]
    assert error.extensions["code"] == "BAD_USER_INPUT", error.extensions
    return {"message": error.message, **error.extensions["limit"]}


def nested(levels: int) -> str:
    """`organization { processingActivities { edges { node { ... id } } } }`, `levels` deep."""
    path = ["organization(slug: \"acme\")", "processingActivities", "edges", "node",
            "engagements", "activity", "engagements", "processor", "engagements", "activity"]
    inner = "id"
    for field in reversed(path[: levels - 1]):
        inner = f"{field} {{ {inner} }}"
    return "{ " + inner + " }"


def test_a_query_one_level_too_deep_is_refused_with_the_depth_limit() -> None:
    found = limit_refusal(run(nested(DEFAULTS.max_depth + 1)))
    assert found["name"] == "depth"
    assert found["max"] == DEFAULTS.max_depth
    assert found["found"] == DEFAULTS.max_depth + 1
    assert f"the limit is {DEFAULTS.max_depth}" in found["message"]


def test_depth_through_fragments_counts_and_introspection_does_not() -> None:
    query = """query { organization(slug: "a") { ...A } }
    fragment A on Organization { processingActivities { edges { node { ...B } } } }
    fragment B on ProcessingActivity {
      engagements { activity { engagements { processor { name } } } }
    }"""
    assert limit_refusal(run(query))["found"] == 9
    deep_introspection = (
        "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }"
    )
    assert not run(deep_introspection).errors


def test_sixteen_aliases_are_refused() -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(DEFAULTS.max_aliases + 1)) + " }"
    found = limit_refusal(run(query))
    assert (found["name"], found["max"], found["found"]) == ("aliases", 15, 16)
    fine = "{ " + " ".join(f"a{i}: __typename" for i in range(DEFAULTS.max_aliases)) + " }"
    assert not run(fine).errors


def test_aliases_spread_through_a_fragment_count_at_every_spread() -> None:
    query = ("{ ...F a: __typename b: __typename } fragment F on Query { "
             + " ".join(f"f{i}: __typename" for i in range(14)) + " }")
    assert limit_refusal(run(query))["found"] == 16


def test_a_document_over_a_thousand_tokens_is_refused_before_it_is_parsed_whole() -> None:
    query = "{ " + "__typename " * DEFAULTS.max_tokens + "}"
    found = limit_refusal(run(query))
    assert found["name"] == "tokens"
    assert found["max"] == DEFAULTS.max_tokens
    assert "more than 1000 tokens" in found["message"]


def test_six_root_fields_are_refused() -> None:
    query = "{ " + " ".join(
        f'o{i}: organization(slug: "acme") {{ id }}' for i in range(DEFAULTS.max_root_fields + 1)
    ) + " }"
    found = limit_refusal(run(query))
    assert (found["name"], found["max"], found["found"]) == ("rootFields", 5, 6)


def test_fifty_one_directives_are_refused() -> None:
    query = "{ " + "__typename @include(if: true) " * (DEFAULTS.max_directives + 1) + "}"
    found = limit_refusal(run(query))
    assert (found["name"], found["max"], found["found"]) == ("directives", 50, 51)


# reads.MAX_PAGE is 100 unless the deployment says otherwise (ROPA_MAX_PAGE)
@pytest.mark.parametrize(("first", "variables"), [
    (str(MAX_PAGE + 1), None), ("-1", None), ("$n", {"n": MAX_PAGE * 50}),
])
def test_a_page_larger_than_the_connection_serves_is_refused(
    first: str, variables: dict[str, Any] | None
) -> None:
    decl = "($n: Int)" if variables else ""
    query = (f'query{decl} {{ organization(slug: "acme") '
             f"{{ processors(first: {first}) {{ totalCount }} }} }}")
    found = limit_refusal(run(query, variables))
    assert (found["name"], found["max"]) == ("pageSize", MAX_PAGE)
    assert f"first must be between 0 and {MAX_PAGE}" in found["message"]


def test_the_ledger_serves_pages_of_up_to_five_hundred_entries() -> None:
    query = ('query($n: Int!) { organization(slug: "a") '
             "{ ledger { entries(first: $n) { edges { cursor } } } } }")
    assert limit_refusal(run(query, {"n": 501}))["max"] == 500


def test_an_operation_that_may_return_too_many_objects_is_refused_with_its_cost() -> None:
    one = ("processingActivities(first: 100) { edges { node { "
           "engagements { processor { name } } transfers { toCountry } } } }")
    query = '{ organization(slug: "acme") { ' + " ".join(
        f"a{i}: {one}" for i in range(5)) + " } }"
    found = limit_refusal(run(query))
    assert found["name"] == "cost"
    assert found["max"] == 5000
    assert found["found"] > 5000
    assert "Ask for smaller pages" in found["message"]


def test_cost_multiplies_pages_down_the_tree() -> None:
    query = parse('query { organization(slug: "a") { processingActivities(first: 100) '
                  "{ edges { node { engagements { processor { name } } } } } } }")
    op = operation(query, None)
    assert op is not None
    # organization 1, connection 1, 100 edges, 100 nodes, 5 engagements and processors each
    assert Estimate(SCHEMA._schema, query, op, {}).total() == 1 + 1 + 100 + 100 + 500 + 500


def test_a_fragment_bomb_costs_time_in_proportion_to_its_text() -> None:
    # each fragment spreads the next twice: expanded naively, 2**40 fields
    frags = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40)
    )
    query = "{ ...F0 } " + frags + " fragment F40 on Query { __typename }"
    result = run(query, schema=build_schema(limits=Limits(max_tokens=100_000)))
    assert result.errors is None or all(
        e.extensions.get("code") != "INTERNAL_SERVER_ERROR" for e in result.errors
    )


def test_introspection_can_be_turned_off_and_then_suggestions_go_too() -> None:
    closed = build_schema(introspection=False)
    refused = run("{ __schema { types { name } } }", schema=closed)
    assert refused.errors
    assert "introspection" in refused.errors[0].message.lower()
    typo = '{ organizaton(slug: "acme") { id } }'
    assert "Did you mean" in run(typo).errors[0].message
    hidden = run(typo, schema=closed).errors[0].message
    assert "Did you mean" not in hidden
    assert "organizaton" in hidden  # still says what was wrong
    enum_typo = run(
        '{ organization(slug: "a") { breaches(filter: {status: OPN}) { totalCount } } }',
        schema=closed,
    ).errors[0].message
    assert "Did you mean" not in enum_typo
    assert "OPEN" not in enum_typo


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.stem)
def test_every_operation_the_clients_send_is_within_the_limits(path: Path) -> None:
    document = parse(path.read_text(), max_tokens=DEFAULTS.max_tokens)
    rules = [
        depth_rule(DEFAULTS.max_depth), aliases_rule(DEFAULTS.max_aliases),
        root_fields_rule(DEFAULTS.max_root_fields), directives_rule(DEFAULTS.max_directives),
    ]
    schema = SCHEMA._schema
    assert validate(schema, document, rules) == []
    op = operation(document, None)
    assert op is not None
    assert oversized_pages(schema, document, op, {}) == []
    cost = Estimate(schema, document, op, {}).total()
    assert cost <= DEFAULTS.max_cost, f"{path.stem} costs {cost}"


def _spread_bomb(levels: int) -> str:
    """Each fragment spreads the one below twice (once through an inline fragment)."""
    frags = ["fragment F0 on Organization { name }"]
    frags += [
        f"fragment F{i} on Organization {{ ...F{i - 1} ... on Organization {{ ...F{i - 1} }} }}"
        for i in range(1, levels + 1)
    ]
    return f'{{ organization(slug: "acme") {{ ...F{levels} }} }} ' + " ".join(frags)


def test_a_fragment_bomb_is_refused_by_its_expanded_size() -> None:
    found = limit_refusal(run(_spread_bomb(23)))
    assert found["name"] == "expandedFields"
    assert found["max"] == DEFAULTS.max_expanded_fields


def test_every_limiter_and_the_planner_take_time_in_proportion_to_a_bombs_text() -> None:
    import time

    from ropa.api.compiled.plan import compile_operation
    from ropa.api.limits.document import expanded_size, fragments
    from ropa.api.limits.expansion import rule as expansion_rule

    document = parse(_spread_bomb(40))  # 2**40 fields once expanded
    op = operation(document, None)
    assert op is not None
    schema = SCHEMA._schema
    checks = {
        "depth": lambda: validate(schema, document, [depth_rule(DEFAULTS.max_depth)]),
        "aliases": lambda: validate(schema, document, [aliases_rule(DEFAULTS.max_aliases)]),
        "expanded": lambda: validate(schema, document, [expansion_rule(2000)]),
        "cost": lambda: Estimate(schema, document, op, {}).total(),
        "plan": lambda: compile_operation(schema, document, None),
    }
    for name, check in checks.items():
        started = time.perf_counter()
        check()
        assert time.perf_counter() - started < 0.5, name
    assert expanded_size(op.selection_set, fragments(document), {}, 10**6) == 10**6 + 1
