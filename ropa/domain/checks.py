"""Field checks that collect every problem of a record state before anything is refused.

A caller fixing a form wants all its mistakes at once, so each check records a `FieldError`
at a dotted path (`legalBases.0.purpose`, `dataCategories.2`) and returns what it could read,
or None; `raise_if_any` then raises one `ValidationError` naming them all. The shapes and
spellings checked are those of docs/data-model.md.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from ropa.domain.countries import is_country
from ropa.domain.instants import parse_date, parse_instant
from ropa.errors import FieldError, ValidationError

E = TypeVar("E", bound=StrEnum)

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


class FieldChecks:
    """Accumulates the `FieldError`s of one state."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)

    def shape(
        self, value: Any, path: str, fields: Sequence[str], *, nullable: bool = False
    ) -> Mapping[str, Any] | None:
        """An object with exactly `fields`: each missing or unexpected one is an error."""
        if value is None:
            if not nullable:
                self.fail(path or "state", "is required")
            return None
        if not isinstance(value, Mapping):
            self.fail(path or "state", "must be an object")
            return None
        for name in fields:
            if name not in value:
                self.fail(join(path, name), "is missing")
        for name in value:
            if name not in fields:
                self.fail(join(path, str(name)), "is not a field of this record")
        return value

    def text(self, value: Any, path: str, *, required: bool = False) -> str | None:
        """A string; `required` ones must be present and not blank."""
        if value is None:
            if required:
                self.fail(path, "is required")
            return None
        if not isinstance(value, str):
            self.fail(path, "must be a string")
            return None
        if required and not value.strip():
            self.fail(path, "must not be empty")
            return None
        return value

    def boolean(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.fail(path, "must be true or false")
            return None
        return value

    def count(self, value: Any, path: str, *, nullable: bool = True) -> int | None:
        """A whole number of zero or more."""
        if value is None:
            if not nullable:
                self.fail(path, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, "must be a whole number")
            return None
        if value < 0:
            self.fail(path, "must not be negative")
            return None
        return value

    def choice(self, value: Any, path: str, enum: type[E], *, nullable: bool = False) -> E | None:
        if value is None:
            if not nullable:
                self.fail(path, "is required")
            return None
        if not isinstance(value, str) or value not in enum.__members__:
            self.fail(path, f"must be one of {', '.join(enum.__members__)}")
            return None
        return enum[value]

    def country(self, value: Any, path: str, *, nullable: bool = False) -> str | None:
        if value is None:
            if not nullable:
                self.fail(path, "is required")
            return None
        if not isinstance(value, str) or not is_country(value):
            self.fail(path, "must be an ISO 3166-1 alpha-2 country code, such as DE or US")
            return None
        return value

    def email(self, value: Any, path: str, *, nullable: bool = True) -> str | None:
        address = self.text(value, path, required=not nullable)
        if address is not None and (len(address) > 254 or not _EMAIL.fullmatch(address)):
            self.fail(path, "must be an e-mail address, such as dpo@example.com")
            return None
        return address

    def date(self, value: Any, path: str, *, nullable: bool = True) -> date | None:
        if value is None:
            if not nullable:
                self.fail(path, "is required")
            return None
        try:
            return parse_date(value if isinstance(value, str) else "")
        except ValueError:
            self.fail(path, "must be a date such as 2026-11-22")
            return None

    def instant(self, value: Any, path: str, *, nullable: bool = True) -> datetime | None:
        if value is None:
            if not nullable:
                self.fail(path, "is required")
            return None
        try:
            return parse_instant(value if isinstance(value, str) else "")
        except ValueError:
            self.fail(path, "must be a UTC instant such as 2026-11-22T10:04:05.123456Z")
            return None

    def uuid(self, value: Any, path: str, *, nullable: bool = False) -> str | None:
        """A UUID in its canonical lower-case, hyphenated spelling."""
        if value is None:
            if not nullable:
                self.fail(path, "is required")
            return None
        try:
            canonical = str(uuid.UUID(value)) if isinstance(value, str) else None
        except ValueError:
            canonical = None
        if canonical != value:
            self.fail(path, "must be a UUID such as 0b7e4c1e-8a8f-4a7c-9d2e-3f1a2b3c4d5e")
            return None
        return canonical

    def items(self, value: Any, path: str) -> list[Any]:
        """A list (never null: empty lists are `[]`)."""
        if not isinstance(value, list):
            self.fail(path, "must be a list")
            return []
        return value

    def texts(self, value: Any, path: str) -> list[str]:
        """A list of non-blank strings."""
        found = []
        for index, item in enumerate(self.items(value, path)):
            text = self.text(item, join(path, index), required=True)
            if text is not None:
                found.append(text)
        return found

    def keys(self, value: Any, path: str, known: Callable[[str], bool], what: str) -> list[str]:
        """A list of distinct keys, each of which `known` accepts."""
        found: list[str] = []
        for index, item in enumerate(self.items(value, path)):
            at = join(path, index)
            if not isinstance(item, str) or not known(item):
                self.fail(at, f"is not a {what} of the Fides taxonomy: {item!r}")
            elif item in found:
                self.fail(at, f"repeats {item!r}")
            else:
                found.append(item)
        return found

    def countries(self, value: Any, path: str) -> list[str]:
        found: list[str] = []
        for index, item in enumerate(self.items(value, path)):
            code = self.country(item, join(path, index))
            if code is not None:
                if code in found:
                    self.fail(join(path, index), f"repeats {code}")
                found.append(code)
        return found

    def choices(self, value: Any, path: str, enum: type[E]) -> list[E]:
        found: list[E] = []
        for index, item in enumerate(self.items(value, path)):
            member = self.choice(item, join(path, index), enum)
            if member is not None:
                if member in found:
                    self.fail(join(path, index), f"repeats {member.value}")
                found.append(member)
        return found

    def uuids(self, value: Any, path: str) -> list[str]:
        found: list[str] = []
        for index, item in enumerate(self.items(value, path)):
            identifier = self.uuid(item, join(path, index))
            if identifier is not None:
                if identifier in found:
                    self.fail(join(path, index), "repeats an id already listed")
                found.append(identifier)
        return found
