"""Relay global IDs: base64 of `<GraphQL type>:<UUID>`."""

from __future__ import annotations

import base64
import binascii
import uuid

from ropa.errors import FieldError, ValidationError


def to_global_id(type_name: str, record_id: str) -> str:
    return base64.b64encode(f"{type_name}:{record_id}".encode()).decode()


def from_global_id(global_id: str, field: str = "id") -> tuple[str, str]:
    """(type name, UUID) of a global ID, or BAD_USER_INPUT naming `field`."""
    try:
        decoded = base64.b64decode(global_id.encode(), validate=True).decode()
        type_name, _, record_id = decoded.partition(":")
        uuid.UUID(record_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationError(FieldError(field, "not an ID issued by this API")) from None
    return type_name, record_id


def record_id(global_id: str, expected_type: str, field: str = "id") -> str:
    type_name, rid = from_global_id(global_id, field)
    if type_name != expected_type:
        raise ValidationError(FieldError(field, f"expected the ID of a {expected_type}"))
    return rid
