"""Who may do what: the roles of DESIGN.md, enforced here and nowhere else.

    action                       VIEWER  AUDITOR  EDITOR  DPO  ADMIN
    read records                   x       x        x      x     x
    read the ledger, export                x               x     x
    change processing records                       x      x     x
    draft records from a notice                     x      x     x
    read and manage breaches                               x     x
    manage tokens, org details                             x     x
    organisations, signing keys                                  x

Breaches (Art. 33/34) are for the DPO only: a breach's existence is itself sensitive, so
every path to one (connections, `node`, `history`, findings) asks `may_read`. A token sees
its own organisation and nothing else (ADMIN excepted); another organisation's records
answer NOT_FOUND, so their existence is not disclosed, and a role that lacks an action
answers FORBIDDEN.
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
    DRAFT_FROM_NOTICE = "draft records from a privacy notice"
    READ_BREACHES = "read breaches"
    WRITE_BREACHES = "manage breaches"
    MANAGE_TOKENS = "manage tokens"
    UPDATE_ORGANIZATION = "change the organisation's details"
    MANAGE_ORGANIZATIONS = "manage organizations"
    MANAGE_KEYS = "manage signing keys"


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    "VIEWER": frozenset({Action.READ}),
    "AUDITOR": frozenset({Action.READ, Action.READ_LEDGER, Action.EXPORT}),
    "EDITOR": frozenset({Action.READ, Action.WRITE_RECORDS, Action.DRAFT_FROM_NOTICE}),
    "DPO": frozenset({
        Action.READ, Action.READ_LEDGER, Action.EXPORT, Action.WRITE_RECORDS,
        Action.DRAFT_FROM_NOTICE,
        Action.READ_BREACHES, Action.WRITE_BREACHES, Action.MANAGE_TOKENS,
        Action.UPDATE_ORGANIZATION,
    }),
    "ADMIN": frozenset(Action),
    "SYSTEM": frozenset(Action),
}
ROLES = ("VIEWER", "AUDITOR", "EDITOR", "DPO", "ADMIN")

# Reading a record of these types needs more than READ.
READ_ACTIONS: dict[str, Action] = {
    "BreachIncident": Action.READ_BREACHES,
    "ApiToken": Action.MANAGE_TOKENS,
}


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
    """Raise unless `principal` may do `action` in organisation `org_id`.

    The organisation is checked first: a foreign organisation is NOT_FOUND whatever the
    role, so a refusal never tells whether a record exists elsewhere.
    """
    if org_id is not None and not principal.spans_organizations and principal.org_id != org_id:
        raise NotFoundError("organization not found")
    if action not in ROLE_ACTIONS.get(principal.role, frozenset()):
        raise ForbiddenError(f"role {principal.role} may not {action.value}")


def can(principal: Principal, action: Action) -> bool:
    return action in ROLE_ACTIONS.get(principal.role, frozenset())


def read_action(entity_type: str) -> Action:
    """The action reading a record of `entity_type` (or its history) needs."""
    return READ_ACTIONS.get(entity_type, Action.READ)


def may_read(principal: Principal, entity_type: str) -> bool:
    return can(principal, read_action(entity_type))


def may_grant(principal: Principal, role: str) -> bool:
    """Whether `principal` may issue or revoke a token of `role`: only ADMIN handles ADMIN."""
    return role != "ADMIN" or can(principal, Action.MANAGE_ORGANIZATIONS)
