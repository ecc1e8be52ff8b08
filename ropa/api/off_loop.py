"""Parsing and validating a GraphQL document (GraphQL spec §2, §5) in a worker thread, once
per document.

Both are CPU work in proportion to the document (validation's overlapping-fields rule
grows with the square of its fields: ~0.1 s for some 1,000-token documents), and on the
event loop they would hold up every other request, `/healthz` included. This extension
does both in a worker thread before strawberry would do them on the loop, and keeps the
results of the last `CACHE_SIZE` documents per schema, so a repeated document costs a
dictionary look-up. A document that does not parse is left to strawberry, which reports
the syntax error as always (the token limit bounds that second parse).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

CACHE_SIZE = 256
MAX_REMEMBERED_CHARS = 64 * 1024  # a longer document is parsed and validated every time


class _Cache:
    def __init__(self) -> None:
        self.documents: OrderedDict[tuple[str, int | None], DocumentNode] = OrderedDict()
        self.errors: OrderedDict[str, list[GraphQLError]] = OrderedDict()


_caches: weakref.WeakKeyDictionary[GraphQLSchema, _Cache] = weakref.WeakKeyDictionary()


def _remember(store: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    query = key[0] if isinstance(key, tuple) else key
    if len(query) > MAX_REMEMBERED_CHARS:
        return
    store[key] = value
    if len(store) > CACHE_SIZE:
        store.popitem(last=False)


def _parse(query: str, options: dict[str, Any]) -> DocumentNode | None:
    try:
        return parse(query, **options)
    except GraphQLError:
        return None


class OffLoop(SchemaExtension):
    """Parses and validates in a worker thread; must come after every extension that adds
    parse options or validation rules."""

    def _cache(self) -> _Cache:
        schema = self.execution_context.schema._schema
        cache = _caches.get(schema)
        if cache is None:
            cache = _caches[schema] = _Cache()
        return cache

    async def on_parse(self) -> AsyncIterator[None]:
        ec = self.execution_context
        if ec.graphql_document is None and ec.query:
            cache = self._cache()
            key = (ec.query, ec.parse_options.get("max_tokens"))
            document = cache.documents.get(key)
            if document is None:
                document = await asyncio.to_thread(_parse, ec.query, dict(ec.parse_options))
                if document is not None:
                    _remember(cache.documents, key, document)
            else:
                cache.documents.move_to_end(key)
            ec.graphql_document = document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        ec = self.execution_context
        document = ec.graphql_document
        if document is not None and ec.query and ec.pre_execution_errors is None:
            cache = self._cache()
            errors = cache.errors.get(ec.query)
            if errors is None:
                errors = await asyncio.to_thread(
                    validate_document, ec.schema._schema, document, ec.validation_rules
                )
                _remember(cache.errors, ec.query, errors)
            else:
                cache.errors.move_to_end(ec.query)
            ec.pre_execution_errors = list(errors)
        yield
