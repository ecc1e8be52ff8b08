"""Every GraphQL field that needs more than READ, and every mutation, asks
`ropa.services.access` before it resolves (the role table of docs/security.md:
`access.FIELD_ACTIONS`, `access.MUTATION_ACTIONS`), so a role without the action is
FORBIDDEN before its input is even read.

`guard` wraps those fields' resolvers in the schema itself, so no resolver carries a role
check of its own and a field added later is covered by adding it to the table. Reading
the organisation (`organization(slug:)`, `node(id:)`, `history(id:)`) checks READ and the
organisation in the services; the compiled executor asks the same function before it
reads a field (`ropa.api.compiled.run`).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, default_field_resolver

from ropa.services.access import MUTATION_ACTIONS, Action, authorize, field_action

_GUARDED = "_ropa_guarded"


def _guarded(resolve: Any, action: Action) -> Any:
    def guarded(source: Any, info: Any, **args: Any) -> Any:
        authorize(info.context.principal, action)
        return resolve(source, info, **args)

    setattr(guarded, _GUARDED, True)
    return guarded


def guard(schema: GraphQLSchema) -> GraphQLSchema:
    """`schema` with a role check on every mutation and every field whose action is not
    READ; a mutation missing from the table is a programming error."""
    mutations = schema.mutation_type
    for type_name, type_ in schema.type_map.items():
        if not isinstance(type_, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            if type_ is mutations:
                action = MUTATION_ACTIONS[field_name]
            else:
                action = field_action(type_name, field_name)
            if action is Action.READ or getattr(field.resolve, _GUARDED, False):
                continue
            field.resolve = _guarded(field.resolve or default_field_resolver, action)
    return schema
