"""A specialised executor for queries, behind the same schema, validation and permissions.

graphql-core completes a result one field of one object at a time, through a resolver
call and type checks per value; on the DPO dashboard (1,000 activities with their legal
bases, engagements, processors and transfers: ~100,000 values) that per-field cost is
most of the request. Here a validated query is compiled once per (document, operation
name) into a plan (`plan.py`), and each request runs the plan over whole columns of
record states (`run.py`), with one batched read per relation.

`CompiledExecution` is a schema extension: strawberry parses and validates as always (the
abuse limits and the introspection switch are validation rules), then, for a query whose
context asks for it (`Context.compiled`, set by the HTTP view), this extension supplies
the result and graphql-core's execution is skipped. When the plan cannot answer (a
mutation, introspection, a resolver error, a null where the schema says non-null) the
standard executor runs the operation instead, so results and errors are the standard
ones; tests/perf compares both on every operation in graphql/operations/.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from graphql import DocumentNode, ExecutionResult, GraphQLSchema
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension

from ropa.api.compiled.plan import OperationPlan, Unsupported, compile_operation
from ropa.api.compiled.run import Run
from ropa.api.context import Context

__all__ = ["CompiledExecution", "Unsupported", "execute_compiled", "plan_for"]

PLAN_CACHE_SIZE = 256
MAX_REMEMBERED_CHARS = 64 * 1024
_plans: OrderedDict[tuple[int, str, str | None], OperationPlan | None] = OrderedDict()


def _compile(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> OperationPlan | None:
    try:
        return compile_operation(schema, document, operation_name)
    except Unsupported:
        return None


async def plan_for(
    schema: GraphQLSchema, document: DocumentNode, query: str, operation_name: str | None
) -> OperationPlan | None:
    """The compiled plan of this operation (None: not compilable), built once, and built in
    a worker thread: planning is CPU work that must not hold the event loop."""
    key = (id(schema), query, operation_name)
    if key in _plans:
        _plans.move_to_end(key)
        return _plans[key]
    plan = await asyncio.to_thread(_compile, schema, document, operation_name)
    if len(query) > MAX_REMEMBERED_CHARS:
        return plan  # not kept: 256 megabyte documents would hold too much
    _plans[key] = plan
    if len(_plans) > PLAN_CACHE_SIZE:
        _plans.popitem(last=False)
    return plan


async def execute_compiled(
    schema: GraphQLSchema, document: DocumentNode, query: str, operation_name: str | None,
    variables: dict[str, Any] | None, context: Context,
) -> dict[str, Any] | None:
    """The query's `data`, or None when the standard executor must answer instead."""
    plan = await plan_for(schema, document, query, operation_name)
    if plan is None:
        return None
    coerced = get_variable_values(
        schema, plan.operation.variable_definitions or (), variables or {}
    )
    if isinstance(coerced, list):  # variables that do not coerce: the standard errors
        return None
    try:
        return await Run(schema, plan, context, coerced).execute()
    except Exception:  # noqa: BLE001  (any failure: the standard executor reports it)
        return None


class CompiledExecution(SchemaExtension):
    """Answers compilable queries with the compiled executor (see the module docstring)."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        context = ec.context
        if (
            isinstance(context, Context) and context.compiled
            and ec.graphql_document is not None and not ec.pre_execution_errors
            and ec.query is not None
        ):
            data = await execute_compiled(
                ec.schema._schema, ec.graphql_document, ec.query, ec.operation_name,
                ec.variables, context,
            )
            if data is not None:
                ec.result = ExecutionResult(data=data)
        yield


def enable(schema: Any) -> Any:
    """`schema` with compiled execution for the requests whose context asks for it."""
    if CompiledExecution not in schema.extensions:
        schema.extensions = [*schema.extensions, CompiledExecution]
    return schema


def schema_id(schema: Any) -> str:
    """A digest of the schema's SDL: cached answers never outlive the schema they fit."""
    import hashlib

    return hashlib.sha256(str(schema).encode()).hexdigest()[:16]
