"""Every error ropa raises on purpose, under one root.

    RopaError
    ├── UserError                 (the caller can fix it; its message is safe to show)
    │   ├── ValidationError       BAD_USER_INPUT, with the offending fields
    │   ├── NotFoundError         NOT_FOUND (also answers for records of other organisations)
    │   │   └── ReferenceNotFoundError  an id in an input names no record of the caller's
    │   │                               (also a ValidationError, naming the field)
    │   ├── ConflictError         CONFLICT (duplicate slug, idempotency key reused, ...)
    │   ├── UnauthenticatedError  UNAUTHENTICATED
    │   ├── ForbiddenError        FORBIDDEN
    │   └── UnavailableError      SERVICE_UNAVAILABLE: the database refused or lost a write
    │                             (read-only, full, busy, restarting); nothing was written
    ├── ConfigurationError        the deployment is missing something (e.g. no signing key)
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


class UnauthenticatedError(UserError):
    code = "UNAUTHENTICATED"


class ForbiddenError(UserError):
    code = "FORBIDDEN"


class UnavailableError(UserError):
    """Retry later: the database could not serve the request (a change was not written)."""

    code = "SERVICE_UNAVAILABLE"


class ConfigurationError(RopaError):
    """The deployment lacks something it needs; the message says what to run."""


class LedgerGuardError(RopaError):
    """A change to a ledgered table was flushed without its ledger entry."""


class VerificationError(RopaError):
    """One failed ledger check. `seq` is the entry at fault (None for bundle-wide checks)."""

    def __init__(self, check: str, message: str, seq: int | None = None) -> None:
        self.check = check
        self.seq = seq
        self.message = message
        where = f"entry {seq}: " if seq is not None else ""
        super().__init__(f"{where}{check}: {message}")
