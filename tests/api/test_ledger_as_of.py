"""`organization(asOf: T) { ledger }` answers the tree as it stood at T, not today's.

Run through the standard executor and the compiled one (the HTTP app's), on both databases,
on a history written at past instants by the system (`recorded_at`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import parse

from ropa.api import compiled
from ropa.api.context import Context
from ropa.api.schema import build_schema
from ropa.ledger.checkpoint import parse_checkpoint
from ropa.ledger.note import parse_note
from ropa.services import organizations, processors
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.changes import recorded_at
from ropa.services.runtime import Runtime
from ropa.store import ledger_store

SCHEMA = compiled.enable(build_schema())

LEDGER = """
query Ledger($asOf: DateTime) {
  organization(slug: "hist", asOf: $asOf) {
    asOf
    ledger {
      size rootHash checkpoint
      entries(first: 10) { edges { node { seq ts op } } }
      consistencyProof(fromSize: 1, toSize: 2) { fromSize toSize hashes }
    }
  }
}
"""
TOO_BIG = """
query Proof($asOf: DateTime) {
  organization(slug: "hist", asOf: $asOf) { ledger { inclusionProof(seq: 0, treeSize: 3) {
    hashes } } }
}
"""


def _history(rt: Runtime) -> Principal:
    """Created 2020-01-01, a vendor 2020-06-01, another 2021-06-01: sizes 1, 2, 3."""
    with recorded_at("2020-01-01T09:00:00.000000Z"):
        change = organizations.create_organization(
            rt,
            SYSTEM_PRINCIPAL,
            {"slug": "hist", "name": "Hist", "roles": ["CONTROLLER"], "country": "DE"},
        )
    system = Principal(SYSTEM_PRINCIPAL.actor, change.record["id"])
    for at, name in (("2020-06-01T09:00:00.000000Z", "A"), ("2021-06-01T09:00:00.000000Z", "B")):
        with recorded_at(at):
            processors.register_processor(
                rt, system, {"name": name, "country": "US", "services": ["x"]}
            )
    return system


def _run(rt: Runtime, principal: Principal, query: str, variables: dict[str, Any]) -> list[Any]:
    """The standard executor's answer and the compiled executor's, which must be equal."""

    def context(fast: bool) -> Context:
        return Context(runtime=rt, principal_or_none=principal, compiled=fast)

    async def both() -> list[Any]:
        standard = await SCHEMA.execute(
            query, variable_values=variables, context_value=context(False)
        )
        fast = await SCHEMA.execute(query, variable_values=variables, context_value=context(True))
        return [standard, fast]

    results = asyncio.run(both())
    assert results[0].data == results[1].data
    assert [str(e) for e in results[0].errors or []] == [str(e) for e in results[1].errors or []]
    return results


def test_ledger_under_as_of_is_the_checkpoint_in_force_then(rt: Runtime) -> None:
    system = _history(rt)
    org_id = system.org_id or ""
    then, now = (
        _run(rt, system, LEDGER, {"asOf": at})[0].data["organization"]["ledger"]
        for at in ("2020-12-31T00:00:00Z", None)
    )
    assert then["size"] == 2
    assert now["size"] == 3
    with rt.db.read() as conn:
        assert then["rootHash"] == ledger_store.root_at(conn, org_id, 2).hex()
        assert now["rootHash"] == ledger_store.root_at(conn, org_id, 3).hex()
    text, signatures = parse_note(then["checkpoint"])
    assert parse_checkpoint(text).size == 2
    assert parse_checkpoint(text).root.hex() == then["rootHash"]
    assert signatures
    assert [e["node"]["seq"] for e in then["entries"]["edges"]] == [0, 1]
    assert [e["node"]["seq"] for e in now["entries"]["edges"]] == [0, 1, 2]
    assert then["consistencyProof"] == now["consistencyProof"]  # proofs do not change with T


def test_proofs_under_as_of_are_bounded_by_the_tree_of_then(rt: Runtime) -> None:
    system = _history(rt)
    standard, _ = _run(rt, system, TOO_BIG, {"asOf": "2020-12-31T00:00:00Z"})
    assert standard.errors
    error = standard.errors[0]
    assert (error.extensions or {}).get("code") == "BAD_USER_INPUT"
    assert "treeSize" in error.message
    ok, _ = _run(rt, system, TOO_BIG, {"asOf": None})
    assert not ok.errors


def test_compiled_executor_answers_the_ledger_of_then_itself(rt: Runtime) -> None:
    system = _history(rt)
    context = Context(runtime=rt, principal_or_none=system, compiled=True)
    direct = asyncio.run(
        compiled.execute_compiled(
            SCHEMA._schema, parse(LEDGER), LEDGER, None, {"asOf": "2020-07-01T00:00:00Z"}, context
        )
    )
    assert direct is not None, "the compiled run fell back"
    assert direct["organization"]["ledger"]["size"] == 2
