"""What every use case needs: the settings, the database and, for writes, the signing key.

The key file is re-read when it changes: before handing out the key, one `stat` compares
the file's inode, size and modification time with those of the file the key was read
from, so a `ropa keys rotate` run next to a running service (which replaces the file)
takes effect at the next write, in every worker. A key given in `ROPA_SIGNING_KEY` can
not change under a running process: after a rotation it needs a restart, and `/readyz`
fails until then (`key_problem`).
"""

from __future__ import annotations

import os
import threading

from ropa.config import Settings
from ropa.errors import ConfigurationError
from ropa.ledger import keys
from ropa.store.database import Database
from ropa.store.group_commit import GroupCommitter
from ropa.store.migrate import schema_problem

# (inode, size, mtime in ns) of the key file the loaded key came from
_Stamp = tuple[int, int, int]


class Runtime:
    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url)
        self._key: keys.SigningKey | None = None
        self._stamp: _Stamp | None = None
        self._lock = threading.Lock()
        self._schema_ready = False
        # concurrent changes to one organisation, grouped into one transaction each
        self.writes = GroupCommitter(self.db, settings.ledger_prefix)

    @property
    def schema_ready(self) -> bool:
        """True once the schema was found current (then never asked again)."""
        return self._schema_ready

    def schema_problem(self) -> str | None:
        """Why the database cannot serve (missing, unreachable, not migrated), else None.

        Once the schema is found current it is not asked again (migrations are only ever
        applied): a ready service pays nothing per request.
        """
        if self._schema_ready:
            return None
        problem = schema_problem(self.db)
        self._schema_ready = problem is None
        return problem

    def signing_key(self) -> keys.SigningKey:
        """The private key writes are signed with; never logged, never stored in the database."""
        with self._lock:
            if self.settings.key_env:
                if self._key is None:
                    self._key = load_signing_key(self.settings)
                return self._key
            stamp = _stamp(self.settings)
            if self._key is not None and (stamp is None or stamp == self._stamp):
                # unchanged, or replaced this instant (a rotation moves the old file away
                # just before moving the new one in): keep the key loaded
                return self._key
            self._key = load_signing_key(self.settings)
            self._stamp = stamp
            return self._key

    def set_signing_key(self, key: keys.SigningKey) -> None:
        with self._lock:
            self._key = key
            self._stamp = None if self.settings.key_env else _stamp(self.settings)

    def has_signing_key(self) -> bool:
        try:
            self.signing_key()
        except ConfigurationError:
            return False
        return True


def _stamp(settings: Settings) -> _Stamp | None:
    try:
        found = os.stat(settings.key_file)
    except OSError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


def load_signing_key(settings: Settings) -> keys.SigningKey:
    if settings.key_env:
        return keys.SigningKey.load_from_env(settings.key_env)
    if not settings.key_file.exists():
        raise ConfigurationError(
            f"no signing key: {settings.key_file} does not exist and ROPA_SIGNING_KEY is not "
            "set. Run `ropa keys init` to create one (writes are refused until then)."
        )
    return keys.SigningKey.load_from_file(settings.key_file)
