"""Who may do what: the roles of DESIGN.md, enforced here and nowhere else.

VIEWER reads; AUDITOR reads, reads the ledger and exports; EDITOR writes activities,
processors, transfers and policies; DPO is EDITOR plus breaches and the organisation's
tokens; ADMIN manages organisations and keys, across organisations. A token sees its
own organisation and nothing else (ADMIN excepted); another organisation's records answer
NOT_FOUND, so their existence is not disclosed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ropa.errors import ForbiddenError, NotFoundError
from ropa.store.ledger_store import SYSTEM, Actor


class Action(StrEnum):
    READ = "read"
    READ_LEDGER = "read the ledger"
    EXPORT = "export"
    WRITE_RECORDS = "change processing records"
    WRITE_BREACHES = "manage breaches"
    MANAGE_TOKENS = "manage tokens"
    MANAGE_ORGANIZATIONS = "manage organizations"
    MANAGE_KEYS = "manage signing keys"


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    "VIEWER": frozenset({Action.READ}),
    "AUDITOR": frozenset({Action.READ, Action.READ_LEDGER, Action.EXPORT}),
    "EDITOR": frozenset({Action.READ, Action.WRITE_RECORDS}),
    "DPO": frozenset({
        Action.READ, Action.READ_LEDGER, Action.EXPORT, Action.WRITE_RECORDS,
        Action.WRITE_BREACHES, Action.MANAGE_TOKENS,
    }),
    "ADMIN": frozenset(Action),
    "SYSTEM": frozenset(Action),
}
ROLES = ("VIEWER", "AUDITOR", "EDITOR", "DPO", "ADMIN")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a token (or the system, for the CLI)."""

    actor: Actor
    org_id: str | None  # None only for the system

    @property
    def role(self) -> str:
        return self.actor.role

    @property
    def spans_organizations(self) -> bool:
        return self.role in {"ADMIN", "SYSTEM"}


SYSTEM_PRINCIPAL = Principal(SYSTEM, None)


def authorize(principal: Principal, action: Action, org_id: str | None = None) -> None:
    """Raise unless `principal` may do `action` in organisation `org_id`."""
    if org_id is not None and not principal.spans_organizations and principal.org_id != org_id:
        raise NotFoundError("organization not found")
    if action not in ROLE_ACTIONS.get(principal.role, frozenset()):
        raise ForbiddenError(f"role {principal.role} may not {action.value}")


def can(principal: Principal, action: Action) -> bool:
    return action in ROLE_ACTIONS.get(principal.role, frozenset())
