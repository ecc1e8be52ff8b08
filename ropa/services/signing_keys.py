"""Signing keys (LEDGER-SPEC §4): creating the key file, and rotating to a new key.

A rotation appends to every organisation's ledger an entry `rotateSigningKey`, signed by
the old key, naming the new verifier key; later entries and checkpoints are signed by the
new key. The new private key is written next to the old one first and moved into place
only once the rotation has committed, so a failure leaves the old key in force.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from ropa.errors import ConfigurationError
from ropa.ledger.keys import SigningKey, default_name
from ropa.services.access import Action, Principal, authorize
from ropa.services.runtime import Runtime
from ropa.store.ledger_store import Receipt
from ropa.store.write_path import rotate_signing_key

log = logging.getLogger("ropa.keys")


def init_key_file(path: Path, prefix: str, name: str | None = None) -> SigningKey:
    """Create a new key in `path` (mode 0600); refuses to overwrite an existing key."""
    if path.exists():
        raise ConfigurationError(f"{path} already exists; `ropa keys show` prints its verifier key")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SigningKey.generate(name or default_name(prefix, datetime.now(UTC).date()))
    key.write_to_file(path)
    return key


def rotate(rt: Runtime, principal: Principal, new_name: str | None = None) -> list[Receipt]:
    """Rotate every ledger to a new key; returns one receipt per organisation."""
    authorize(principal, Action.MANAGE_KEYS)
    old = rt.signing_key()
    name = new_name or default_name(rt.settings.ledger_prefix, datetime.now(UTC).date())
    if name == old.name:
        name = f"{name}-{uuid.uuid4().hex[:6]}"
    new = SigningKey.generate(name)
    key_file = rt.settings.key_file
    staged = key_file.with_name(key_file.name + ".new")
    if staged.exists():
        staged.unlink()
    new.write_to_file(staged)
    try:
        receipts = rotate_signing_key(rt.db, principal.actor, old, new, str(uuid.uuid4()))
    except BaseException:
        if staged.exists():
            staged.unlink()
        raise
    if key_file.exists():
        os.replace(key_file, key_file.with_name(key_file.name + f".{old.key_id.hex()}.retired"))
    os.replace(staged, key_file)
    rt.set_signing_key(new)
    return receipts


def key_problem(rt: Runtime) -> str | None:
    """Why writes would be refused for want of the right key, in one line; None when ready.

    The answer is public (`/readyz`): it names key ids and what to run, never a path; the
    full reason goes to the log. The loaded key must be the newest in the deployment's
    key registry: a service whose key was rotated by another process is not ready until
    it has re-read the key file (at its next write or readiness check).
    """
    from sqlalchemy import select
    from sqlmodel import col

    from ropa.store.tables import SigningKeyRecord

    try:
        key = rt.signing_key()
    except ConfigurationError as exc:
        log.warning("no signing key: %s", exc)
        if not rt.settings.key_env and not rt.settings.key_file.exists():
            return "no signing key loaded: run `ropa keys init` or set ROPA_SIGNING_KEY_FILE"
        return "the signing key cannot be loaded (the service's log says why)"
    with rt.db.read() as conn:
        latest = conn.execute(
            select(col(SigningKeyRecord.key_id), col(SigningKeyRecord.name))
            .order_by(col(SigningKeyRecord.created_at).desc())
            .limit(1)
        ).first()
    if latest is None or latest.key_id == key.key_id.hex():
        return None
    how = (
        "restart the service with the new ROPA_SIGNING_KEY"
        if rt.settings.key_env
        else "put the current key in ROPA_SIGNING_KEY_FILE"
    )
    return (
        f"the loaded signing key {key.key_id.hex()} ({key.name}) is not the deployment's "
        f"current key {latest.key_id} ({latest.name}): {how}"
    )
