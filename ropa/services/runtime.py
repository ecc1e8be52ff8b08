"""What every use case needs: the settings, the database and, for writes, the signing key."""

from __future__ import annotations

import threading

from ropa.config import Settings
from ropa.errors import ConfigurationError
from ropa.ledger import keys
from ropa.store.database import Database


class Runtime:
    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url)
        self._key: keys.SigningKey | None = None
        self._lock = threading.Lock()

    def signing_key(self) -> keys.SigningKey:
        """The private key writes are signed with; never logged, never stored in the database."""
        with self._lock:
            if self._key is None:
                self._key = load_signing_key(self.settings)
            return self._key

    def set_signing_key(self, key: keys.SigningKey) -> None:
        with self._lock:
            self._key = key

    def has_signing_key(self) -> bool:
        try:
            self.signing_key()
        except ConfigurationError:
            return False
        return True


def load_signing_key(settings: Settings) -> keys.SigningKey:
    if settings.key_env:
        return keys.SigningKey.load_from_env(settings.key_env)
    if not settings.key_file.exists():
        raise ConfigurationError(
            f"no signing key: {settings.key_file} does not exist and ROPA_SIGNING_KEY is not "
            "set. Run `ropa keys init` to create one (writes are refused until then)."
        )
    return keys.SigningKey.load_from_file(settings.key_file)
