"""Per-request context: the caller, the runtime, and the request's DataLoaders.

Loaders are keyed by the view (organisation and ledger size) they read, so an `asOf`
subtree and a current one never share cached rows; each batch is one SQL statement,
run in a worker thread so the event loop never waits on the database.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from ropa.errors import UnauthenticatedError
from ropa.services import reads
from ropa.services.access import Principal
from ropa.services.reads import View
from ropa.services.runtime import Runtime


@dataclass
class Context:
    runtime: Runtime
    principal_or_none: Principal | None
    request: Any = None
    response: Any = None
    loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
    memo: dict[Hashable, Any] = field(default_factory=dict)
    # answer queries with the compiled executor (ropa.api.compiled); the HTTP view sets it
    compiled: bool = False
    # let the database write connections' JSON (ropa.api.compiled.json_plan)
    json_reads: bool = True
    # keep that JSON as text for the response encoder to splice (orjson.Fragment), as the
    # HTTP view does; otherwise it is parsed into the result like any other value
    splice_json: bool = False

    @property
    def principal(self) -> Principal:
        if self.principal_or_none is None:
            raise UnauthenticatedError("send Authorization: Bearer <token>")
        return self.principal_or_none

    def loader(
        self, key: Hashable, batch: Callable[[list[Any]], list[Any]]
    ) -> DataLoader[Any, Any]:
        found = self.loaders.get(key)
        if found is None:

            async def load(keys: list[Any]) -> list[Any]:
                return await run_in_threadpool(batch, list(keys))

            found = DataLoader(load_fn=load)
            self.loaders[key] = found
        return found

    def records_by_id(self, view: View, entity_type: str) -> DataLoader[str, Any]:
        def batch(ids: list[str]) -> list[Any]:
            found = reads.by_ids(self.runtime, self.principal, view, entity_type, ids)
            return [found.get(i) for i in ids]

        return self.loader(("id", view, entity_type), batch)

    def records_by_parent(
        self, view: View, entity_type: str, parent_field: str
    ) -> DataLoader[str, list[dict[str, Any]]]:
        def batch(parent_ids: list[str]) -> list[Any]:
            found = reads.by_parent(
                self.runtime, self.principal, view, entity_type, parent_field, parent_ids
            )
            return [found.get(p, []) for p in parent_ids]

        return self.loader(("parent", view, entity_type, parent_field), batch)

    async def in_thread(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kw)
