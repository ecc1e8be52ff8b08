"""Who may do what: the roles of DESIGN.md, enforced here and nowhere else.

One table says which actions each role has (`ROLE_ACTIONS`); the tables under it say which
action each part of the service needs: a record type (`TYPE_ACTIONS`), a GraphQL field
(`FIELD_ACTIONS`; any other field needs READ), a mutation (`MUTATION_ACTIONS`) and an HTTP
route (`ROUTE_ACTIONS`). One function, `authorize`, answers every question: the services
call it before they read or write, the GraphQL layer calls it for every field that needs
more than READ (`ropa.api.field_access`, and the compiled executor before it reads a
field), and the routes call it for theirs. `ropa access-table` prints the table of
docs/security.md from these (a test compares the two).
Only the system may write at a stated instant (`STATE_INSTANT`: the demo loader, imports).

Breaches (Art. 33/34) are for the DPO only: a breach's existence is itself sensitive, so
every path to one (connections, `node`, `history`, findings) asks for READ_BREACHES. A
token sees its own organisation and nothing else (ADMIN excepted); another organisation's
records answer NOT_FOUND, so their existence is not disclosed, and a role that lacks an
action answers FORBIDDEN.
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
    STATE_INSTANT = "write changes at an instant of its choosing"
    READ_METRICS = "read per-organisation metrics"


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
    "ADMIN": frozenset(Action) - {Action.STATE_INSTANT},
    "SYSTEM": frozenset(Action),
    # the scraper holding ROPA_METRICS_TOKEN: per-organisation metrics and nothing else
    "METRICS": frozenset({Action.READ_METRICS}),
}
ROLES = ("VIEWER", "AUDITOR", "EDITOR", "DPO", "ADMIN")

# Reading a record of these types (any field of it, its history) needs more than READ.
TYPE_ACTIONS: dict[str, Action] = {
    "BreachIncident": Action.READ_BREACHES,
    "ApiToken": Action.MANAGE_TOKENS,
}
READ_ACTIONS = TYPE_ACTIONS

# GraphQL fields that need more than READ (or than their type's action).
FIELD_ACTIONS: dict[tuple[str, str], Action] = {
    ("Organization", "breaches"): Action.READ_BREACHES,
    ("Organization", "tokens"): Action.MANAGE_TOKENS,
    ("Ledger", "entries"): Action.READ_LEDGER,
    ("Ledger", "anchors"): Action.READ_LEDGER,
    ("Ledger", "anchor"): Action.READ_LEDGER,
    # who made a change, and its signature, are the ledger's: `history(id:)` shows every
    # role what changed and when, and the auditors, the DPO and ADMIN who did it
    ("LedgerEntry", "actorId"): Action.READ_LEDGER,
    ("LedgerEntry", "actorRole"): Action.READ_LEDGER,
    ("LedgerEntry", "canonical"): Action.READ_LEDGER,
    ("LedgerEntry", "signature"): Action.READ_LEDGER,
    ("LedgerEntry", "keyId"): Action.READ_LEDGER,
}

_RECORD_MUTATIONS = (
    "registerProcessor", "updateProcessor", "retireProcessor", "createProcessingActivity",
    "updateProcessingActivity", "retireProcessingActivity", "engageProcessor",
    "disengageProcessor", "recordTransfer", "updateTransfer", "removeTransfer",
    "publishPrivacyPolicy",
)
_BREACH_MUTATIONS = (
    "reportBreach", "updateBreach", "notifyAuthority", "notifyDataSubjects", "closeBreach",
)
MUTATION_ACTIONS: dict[str, Action] = {
    **dict.fromkeys(_RECORD_MUTATIONS, Action.WRITE_RECORDS),
    **dict.fromkeys(_BREACH_MUTATIONS, Action.WRITE_BREACHES),
    "draftRecordsFromNotice": Action.DRAFT_FROM_NOTICE,
    "updateOrganization": Action.UPDATE_ORGANIZATION,
    "createToken": Action.MANAGE_TOKENS,  # an ADMIN token: MANAGE_ORGANIZATIONS too
    "revokeToken": Action.MANAGE_TOKENS,
}

ROUTE_ACTIONS: dict[str, Action] = {
    "GET /export/ropa.{xlsx,csv,json}": Action.EXPORT,
    "GET /metrics, per-organisation series": Action.READ_METRICS,
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
METRICS_PRINCIPAL = Principal(Actor("metrics", "METRICS"), None)


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


def field_action(type_name: str, field_name: str) -> Action:
    """The action reading `field_name` of a `type_name` needs."""
    return FIELD_ACTIONS.get((type_name, field_name)) or TYPE_ACTIONS.get(type_name, Action.READ)




def read_action(entity_type: str) -> Action:
    """The action reading a record of `entity_type` (or its history) needs."""
    return READ_ACTIONS.get(entity_type, Action.READ)


def may_read(principal: Principal, entity_type: str) -> bool:
    return can(principal, read_action(entity_type))


def may_grant(principal: Principal, role: str) -> bool:
    """Whether `principal` may issue or revoke a token of `role`: only ADMIN handles ADMIN."""
    return role != "ADMIN" or can(principal, Action.MANAGE_ORGANIZATIONS)


def needed_by(action: Action) -> list[str]:
    """What in the service needs `action`: record types, fields, mutations and routes."""
    found = [f"any `{t}`" for t, a in TYPE_ACTIONS.items() if a is action]
    found += [f"`{t}.{f}`" for (t, f), a in FIELD_ACTIONS.items() if a is action]
    found += [f"`{m}`" for m, a in MUTATION_ACTIONS.items() if a is action]
    found += [r for r, a in ROUTE_ACTIONS.items() if a is action]
    if action is Action.READ:
        found.append("every other field, `node(id:)`, `history(id:)`, proofs")
    if action is Action.MANAGE_ORGANIZATIONS:
        found.append("`createToken`/`revokeToken` of an ADMIN token, `ropa org create`")
    if action is Action.MANAGE_KEYS:
        found.append("`ropa keys rotate`")
    if action is Action.READ_METRICS:
        found.append("(also the holder of `ROPA_METRICS_TOKEN`)")
    if action is Action.STATE_INSTANT:
        found.append("no token: the system only (the demo loader, imports)")
    return found


def markdown_table() -> str:
    """The role table of docs/security.md, from the tables above."""
    lines = [
        "| action | " + " | ".join(ROLES) + " | needed by |",
        "|---|" + ":-:|" * len(ROLES) + "---|",
    ]
    for action in Action:
        marks = " | ".join("✓" if action in ROLE_ACTIONS[r] else "" for r in ROLES)
        lines.append(f"| {action.value} | {marks} | {', '.join(needed_by(action))} |")
    return "\n".join(lines) + "\n"
