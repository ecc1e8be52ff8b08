"""Every error ropa raises on purpose, under one root.

    RopaError
    ├── UserError                 (the caller can fix it; its message is safe to show)
    │   ├── ValidationError       BAD_USER_INPUT, with the offending fields
    │   ├── NotFoundError         NOT_FOUND (also answers for records of other organisations)
    │   │   └── ReferenceNotFoundError  an id in an input names no record of the caller's
    │   │                               (also a ValidationError, naming the field)
    │   ├── ConflictError         CONFLICT (duplicate slug, idempotency key reused, ...)
    │   │   └── DuplicateError    a likely duplicate of an existing record, naming it
    │   ├── UnauthenticatedError  UNAUTHENTICATED
    │   ├── ForbiddenError        FORBIDDEN
    │   └── UnavailableError      SERVICE_UNAVAILABLE: the database refused or lost a write
    │                             (read-only, full, busy, restarting); nothing was written
    ├── ConfigurationError        the deployment is missing something (e.g. no signing key)
    │   └── StaleKeyError         the loaded signing key is not the deployment's current one
    ├── LedgerGuardError          a ledgered table was written outside the write path
    └── VerificationError         an offline ledger check failed, naming the seq and the check

The API maps `UserError.code` to GraphQL `extensions.code` in one place
(`ropa.api.errors`); anything else is masked as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass


class RopaError(Exception):
    """Root of every error ropa raises deliberately."""


class UserError(RopaError):
    """An error whose message is meant for the caller."""

    code = "BAD_USER_INPUT"


@dataclass(frozen=True)
class FieldError:
    """One offending input field: a dotted path (`input.transfers.0.sccModule`) and why."""

    field: str
    message: str


class ValidationError(UserError):
    code = "BAD_USER_INPUT"

    def __init__(self, errors: list[FieldError] | FieldError) -> None:
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


class NotFoundError(UserError):
    code = "NOT_FOUND"


class ReferenceNotFoundError(NotFoundError, ValidationError):
    """An input refers to a record its organisation does not have: NOT_FOUND, with `fields`.

    Also a `ValidationError` (the input is at fault, and says where); the code is NOT_FOUND
    so that a record of another organisation is refused as if it did not exist.
    """

    code = "NOT_FOUND"


class ConflictError(UserError):
    code = "CONFLICT"


class DuplicateError(ConflictError):
    """A new record looks like one the organisation already has: CONFLICT naming it.

    The API shows the existing record's global id (`extensions.existing`); the message
    here names its record id, for the CLI.
    """

    def __init__(self, entity_type: str, record_id: str, name: str, hint: str) -> None:
        self.entity_type = entity_type
        self.record_id = record_id
        self.name = name
        self.hint = hint
        super().__init__(self.describe(record_id))

    def describe(self, shown_id: str) -> str:
        return (
            f'a {self.entity_type} that looks the same already exists: "{self.name}" '
            f"(id {shown_id}); {self.hint}"
        )


class UnauthenticatedError(UserError):
    code = "UNAUTHENTICATED"


class ForbiddenError(UserError):
    code = "FORBIDDEN"


class UnavailableError(UserError):
    """Retry later: the database could not serve the request (a change was not written)."""

    code = "SERVICE_UNAVAILABLE"


class ConfigurationError(RopaError):
    """The deployment lacks something it needs; the message says what to run."""


class StaleKeyError(ConfigurationError):
    """The loaded signing key was rotated away (or is another deployment's)."""


class LedgerGuardError(RopaError):
    """A change to a ledgered table was flushed without its ledger entry."""


class TimestampError(RopaError):
    """A TSA's answer that is not a valid RFC 3161 timestamp of what was asked.

    `what` names the part that failed: "response", "status", "imprint", "nonce" or "chain".
    """

    def __init__(self, what: str, message: str) -> None:
        self.what = what
        self.message = message
        super().__init__(f"{what}: {message}")


class VerificationError(RopaError):
    """One failed ledger check. `seq` is the entry at fault (None for bundle-wide checks)."""

    def __init__(self, check: str, message: str, seq: int | None = None) -> None:
        self.check = check
        self.seq = seq
        self.message = message
        where = f"entry {seq}: " if seq is not None else ""
        super().__init__(f"{where}{check}: {message}")
