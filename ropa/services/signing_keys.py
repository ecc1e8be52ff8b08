"""Signing keys (LEDGER-SPEC §4): creating the key file, and rotating to a new key.

A rotation appends to every organisation's ledger an entry `rotateSigningKey`, signed by
the old key, naming the new verifier key; later entries and checkpoints are signed by the
new key. The new private key is written next to the old one first and moved into place
only once the rotation has committed, so a failure leaves the old key in force.
"""

from __future__ import annotations

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
