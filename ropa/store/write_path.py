"""The one write path: a change and its ledger entry commit together, or neither does.

Every service function (one per use case) opens a `Transaction` for one organisation,
reads the records it needs, and calls `create`, `update` or `delete` with the record's
full state. Each of those appends a signed entry (LEDGER-SPEC §2) whose `before` and
`after` are those states, and writes a new version row (tables.py). `commit()` seals the
tree with a signed checkpoint and commits the database transaction.

A flush guard (`_guard_flush`) refuses any ORM write to a record or ledger table that
did not come through here, so no code can change a record without its entry.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Select, bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.sql.util import find_tables
from sqlmodel import Session, col

from ropa.errors import (
    ConflictError,
    FieldError,
    LedgerGuardError,
    NotFoundError,
    StaleKeyError,
    UnavailableError,
    ValidationError,
)
from ropa.ledger.canonical import NotUnicodeError, canonical, format_ts, parse_ts
from ropa.ledger.keys import SigningKey
from ropa.store import ledger_store
from ropa.store.database import Database
from ropa.store.ledger_store import Actor, EntryRow, Receipt
from ropa.store.tables import (
    IdempotencyKey,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    SigningKeyRecord,
    VersionedRecord,
)

R = TypeVar("R", bound=VersionedRecord)
log = logging.getLogger("ropa.store")

_ALLOWED = "ropa_write_path_objects"
COPY_FROM = 200  # entries in one commit from which rows are sent with COPY (PostgreSQL)
_GUARDED = (
    VersionedRecord,
    LedgerEntry,
    LedgerNode,
    LedgerCheckpoint,
    LedgerHead,
    SigningKeyRecord,
)
_GUARDED_TABLES = frozenset(
    str(cast(Any, t).__tablename__) for t in (*_GUARDED[1:], *VersionedRecord.__subclasses__())
)


def now_ts() -> str:
    return format_ts(datetime.now(UTC))


class Transaction:
    """One database transaction on one organisation's records and ledger.

    Use as a context manager; leaving it without `commit()` rolls everything back.

    Rows are built in memory and sent in a few multi-row statements (`flush`): at commit,
    or before a read inside the transaction, so a read sees every change made before it.
    The head is locked by the first statement and written by the last before COMMIT.
    """

    def __init__(
        self,
        db: Database,
        org_id: str,
        actor: Actor,
        key: SigningKey,
        prefix: str,
        *,
        creating_org: bool = False,
        idempotency: IdempotencyKey | None = None,
        ts: str | None = None,
    ) -> None:
        self.db = db
        self.org_id = org_id
        self.actor = actor
        self.key = key
        self.prefix = prefix
        self.creating_org = creating_org
        # a retried request's key: committed with the change, so never one without the other
        self.idempotency = idempotency
        self.session = db.write_session()
        self.session.info[_ALLOWED] = set()
        self.entries: list[EntryRow] = []
        self.head: LedgerHead | None = None
        self._new_head = False
        self._ledger = ledger_store.Pending()
        # versions to insert, per table
        self._inserts: dict[type[VersionedRecord], list[dict[str, Any]]] = {}
        # versions to close: table -> [{b_id, b_from, b_to}]
        self._closes: dict[type[VersionedRecord], list[dict[str, Any]]] = {}
        # an explicit instant for this transaction's entries (trusted system callers only:
        # the demo loader, imports); never earlier than the ledger's last entry
        self.requested_ts = ts
        self.ts = ""

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> Transaction:
        try:
            return self._begin()
        except BaseException as exc:
            self._discard()
            if isinstance(exc, OperationalError | InternalError):
                raise unavailable(exc) from None
            raise

    def _begin(self) -> Transaction:
        self.session.begin()
        head = ledger_store.lock_head(self.session.connection(), self.org_id)
        if head is None:
            check_key(self.session, self.key)
            if not self.creating_org:
                # the organisation has no ledger: it does not exist
                raise NotFoundError("organization not found")
            head = ledger_store.new_head(
                self.org_id, ledger_store.origin_for(self.prefix, self.org_id), self.key
            )
            self._new_head = True
        elif head.key_id != self.key.key_id.hex():
            # A rotation moves every head and the key registry in one transaction, so a
            # head naming the loaded key means the registry's latest is that key: the
            # registry is read only for a new ledger (one round trip less per write).
            raise StaleKeyError(
                f"this ledger is signed by key {head.key_id}, but the loaded signing key is "
                f"{self.key.key_id.hex()}: load the current key (ROPA_SIGNING_KEY_FILE or "
                "ROPA_SIGNING_KEY), see `ropa keys show`"
            )
        self.head = head
        if self.requested_ts is not None:
            self.ts = explicit_ts(self.requested_ts, head.last_ts)
        else:
            # ts never goes backwards, even if the clock does
            self.ts = max(now_ts(), head.last_ts or "")
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._discard()
        if isinstance(exc, OperationalError | InternalError):
            raise unavailable(exc) from None

    def _discard(self) -> None:
        try:
            if self.session.in_transaction():
                self.session.rollback()
        except (OperationalError, InternalError):
            pass  # the connection is gone, and its transaction with it
        self.session.close()

    def commit(self) -> list[Receipt]:
        """Seal the tree, commit, and return one receipt per entry written."""
        note = self.seal()
        if note is None:
            self.session.rollback()
            return []
        receipts = [ledger_store.receipt(e, note) for e in self.entries]
        if self.idempotency is not None:
            self.keep_idempotency(self.idempotency, receipts)
        self.finish()
        return receipts

    def keep_idempotency(self, record: IdempotencyKey, receipts: list[Receipt]) -> None:
        """A retried request's key, committed with the change it made."""
        record.receipts = [asdict(r) for r in receipts]
        self.add_registry_row(record)

    def seal(self) -> str | None:
        """Sign the checkpoint of everything appended (None: nothing was)."""
        assert self.head is not None
        if not self.entries:
            return None
        return ledger_store.seal(self.head, self.key, self.ts, self._ledger)

    def finish(self) -> None:
        """Send what is pending, the head last, and commit.

        On PostgreSQL the statements and the COMMIT go out in one pipeline (libpq pipeline
        mode): one round trip after the reads, whatever the number of tables written.
        """
        assert self.head is not None
        try:
            conn = self.session.connection()
            if len(self.entries) >= COPY_FROM:
                self._send(copy=True)  # COPY cannot be pipelined: before the pipeline
            with self.db.pipelined_commit(conn):
                self._send()
                ledger_store.store_head(conn, self.head, new=self._new_head)
                self.session.flush()  # the registry rows (an Idempotency-Key), before COMMIT
            self.session.commit()
        except IntegrityError as exc:
            raise ConflictError(_conflict_message(exc)) from None

    # -- reading within the transaction ---------------------------------------------------

    def current(self, table: type[R], record_id: str) -> R | None:
        """The current version of a record of this organisation, or None."""
        stmt = select(table).where(
            col(table.id) == record_id,
            col(table.org_id) == self.org_id,
            col(table.valid_to).is_(None),
        )
        found: list[R] = self.read(stmt)
        return found[0] if found else None

    def current_where(self, table: type[R], **equals: Any) -> list[R]:
        stmt = select(table).where(col(table.org_id) == self.org_id, col(table.valid_to).is_(None))
        for column, value in equals.items():
            stmt = stmt.where(getattr(table, column) == value)
        return self.read(stmt)

    def read(self, stmt: Select[Any]) -> list[Any]:
        """Rows of a select on record tables, as they stand with this transaction's changes.

        The rows come back detached: a change to one is never written by itself.
        """
        try:
            self._send_for(stmt)
            rows = list(self.session.execute(stmt).scalars())
        except IntegrityError as exc:
            raise ConflictError(_conflict_message(exc)) from None
        for row in rows:
            self.session.expunge(row)
        return rows

    def read_rows(self, stmt: Select[*tuple[Any, ...]]) -> list[Any]:
        """Plain rows (not records) of a select of columns, with this transaction's changes."""
        try:
            self._send_for(stmt)
            return list(self.session.connection().execute(stmt))
        except IntegrityError as exc:
            raise ConflictError(_conflict_message(exc)) from None

    def _send_for(self, stmt: Select[Any]) -> None:
        """Send the pending versions of the record tables `stmt` reads, and only those:
        the ledger's rows wait for the commit, so a group's changes share its statements."""
        reads = {t.name for t in find_tables(stmt)}
        tables = {t for t in (*self._inserts, *self._closes) if t.__tablename__ in reads}
        if tables:
            self._send(tables)

    # -- writing --------------------------------------------------------------------------

    def create(self, table: type[R], op: str, state: dict[str, Any]) -> dict[str, Any]:
        self._append(op, table.entity_type, state["id"], None, state)
        self._insert_version(table, state)
        return state

    def update(self, row: R, op: str, after: dict[str, Any]) -> dict[str, Any]:
        before = row.to_state()
        seq = self._append(op, row.entity_type, row.id, before, after)
        self._close(row, seq)
        self._insert_version(type(row), after)
        return after

    def delete(self, row: R, op: str) -> None:
        seq = self._append(op, row.entity_type, row.id, row.to_state(), None)
        self._close(row, seq)

    def append_only_entry(
        self, op: str, entity_type: str, entity_id: str, after: dict[str, Any] | None
    ) -> None:
        """An entry for something that is not a record table (key rotation, spec §4)."""
        self._append(op, entity_type, entity_id, None, after)

    def add_registry_row(self, obj: Any) -> None:
        self._allow(obj)
        self.session.add(obj)

    # -- internals ------------------------------------------------------------------------

    def _append(
        self,
        op: str,
        entity_type: str,
        entity_id: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> int:
        assert self.head is not None
        entry = {
            "v": 1,
            "origin": self.head.origin,
            "seq": self.head.size,
            "ts": self.ts,
            "actor": self.actor.as_json(),
            "op": op,
            "entity": {"type": entity_type, "id": entity_id},
            "before": before,
            "after": after,
        }
        try:
            row = ledger_store.append_entry(self.head, self.key, entry, self._ledger)
        except NotUnicodeError:
            raise ValidationError(
                FieldError(
                    _not_unicode_field(after or before or {}) or entity_type,
                    "holds text that is not Unicode (a lone surrogate, e.g. \\ud800)",
                )
            ) from None
        self.entries.append(row)
        return int(row["seq"])

    def _insert_version(self, table: type[R], state: dict[str, Any]) -> None:
        assert self.head is not None
        values = {
            "id": state["id"],
            "org_id": self.org_id,
            "valid_from": self.head.size - 1,
            "valid_to": None,
            **table.row_values(state),
        }
        self._inserts.setdefault(table, []).append(values)

    def _close(self, row: VersionedRecord, seq: int) -> None:
        # `row` was read, so its version was sent: closing it is an UPDATE
        self._closes.setdefault(type(row), []).append(
            {"b_id": row.id, "b_from": row.valid_from, "b_to": seq}
        )

    def _send(self, only: set[type[VersionedRecord]] | None = None, *, copy: bool = False) -> None:
        """The pending rows, a multi-row statement per table: closes before inserts.

        `only`: just the versions of these record tables (the ledger's rows stay pending).
        `copy`: inserts with COPY where the database has it (an import's thousands of rows).
        """
        conn = self.session.connection()
        for table in list(self._closes):
            if only is not None and table not in only:
                continue
            params = self._closes.pop(table)
            t = table.__table__  # type: ignore[attr-defined]
            conn.execute(
                update(t)
                .where(
                    t.c.id == bindparam("b_id"),
                    t.c.valid_from == bindparam("b_from"),
                    t.c.org_id == self.org_id,
                )
                .values(valid_to=bindparam("b_to")),
                params,
            )
        for table in list(self._inserts):
            if only is not None and table not in only:
                continue
            rows = self._inserts.pop(table)
            t = table.__table__  # type: ignore[attr-defined]
            if not (copy and self.db.copy_rows(conn, t, rows)):
                conn.execute(insert(t), rows)
        if only is None:
            ledger_store.write(conn, self._ledger, self.db.copy_rows if copy else None)

    def _allow(self, obj: object) -> None:
        self.session.info[_ALLOWED].add(id(obj))


def explicit_ts(requested: str, last_ts: str | None) -> str:
    """A caller-given instant for a transaction's entries, checked against LEDGER-SPEC §2.

    It must be an instant in the entry format, not in the future, and never earlier than
    the ledger's last entry: `ts` never goes backwards, so a history is written in order.
    """
    try:
        parsed = parse_ts(requested)
    except ValueError:
        raise ValidationError(
            FieldError("ts", "an RFC 3339 UTC instant such as 2020-07-16T09:00:00.000000Z")
        ) from None
    ts = format_ts(parsed)
    if ts > now_ts():
        raise ValidationError(FieldError("ts", f"{ts} is in the future"))
    if last_ts is not None and ts < last_ts:
        raise ConflictError(
            f"ts {ts} is earlier than the ledger's last entry ({last_ts}): a ledger's ts never "
            "goes backwards, so write the changes in chronological order"
        )
    return ts


def check_key(session: Session, key: SigningKey) -> None:
    """Refuse to write with a key that is not the deployment's current one."""
    latest = session.execute(
        select(SigningKeyRecord).order_by(col(SigningKeyRecord.created_at).desc()).limit(1)
    ).scalar_one_or_none()
    if latest is None:
        record = SigningKeyRecord(
            id=_uuid(),
            name=key.name,
            key_id=key.key_id.hex(),
            verifier_key=key.verifier_key,
            previous_key_id=None,
            created_at=now_ts(),
        )
        session.info[_ALLOWED].add(id(record))
        session.add(record)
    elif latest.key_id != key.key_id.hex():
        raise StaleKeyError(
            f"the loaded signing key ({key.key_id.hex()}) is not the deployment's current key "
            f"({latest.key_id}, {latest.name}): load that key, or rotate with `ropa keys rotate`"
        )


def _not_unicode_field(state: dict[str, Any]) -> str | None:
    """The first field of `state` whose value has no UTF-8 form."""
    for name, value in state.items():
        try:
            canonical(value)
        except NotUnicodeError:
            return name
    return None


def _uuid() -> str:
    return str(uuid.uuid4())


def unavailable(exc: OperationalError | InternalError) -> UnavailableError:
    """The database could not take the change: say so plainly, and that nothing was written.

    The database's own message goes to the log (its first line only: never parameters).
    """
    first_line = (str(exc.orig).strip().splitlines() or [""])[0]
    log.warning("write refused by the database: %s: %s", type(exc.orig).__name__, first_line)
    text = first_line.lower()
    if "read-only" in text or "readonly" in text:
        why = "the database is read-only"
    elif "full" in text or "no space" in text:
        why = "the database is full"
    elif "locked" in text or "busy" in text:
        why = "the database is busy"
    else:
        why = "the database could not be reached"
    return UnavailableError(f"{why}; the change was not written: retry later")


def _conflict_message(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    for needle, message in (
        ("idempotency_key", "a request with this Idempotency-Key was already applied; retry"),
        ("slug", "an organization with this slug already exists"),
        ("external_ref", "a processor with this externalRef already exists"),
        ("version", "a privacy policy with this version already exists"),
        ("token_hash", "token already exists"),
    ):
        if needle in text:
            return message
    return "the change conflicts with a concurrent change; retry"


# --- the guard ---------------------------------------------------------------------------


def _guard_flush(session: Session, _ctx: Any, _instances: Iterable[Any] | None) -> None:
    allowed: set[int] = session.info.get(_ALLOWED, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _GUARDED) and id(obj) not in allowed:
            raise LedgerGuardError(
                f"{type(obj).__name__} written outside the write path: every change to a "
                "record goes through a service function, which appends its ledger entry"
            )


def _guard_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if _ALLOWED in state.session.info:
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) in _GUARDED_TABLES:
        raise LedgerGuardError(
            f"bulk {table.name} statement outside the write path: use a service function"
        )


event.listen(Session, "before_flush", _guard_flush)
event.listen(Session, "do_orm_execute", _guard_execute)


def rotate_signing_key(
    db: Database, actor: Actor, old: SigningKey, new: SigningKey, record_id: str
) -> list[Receipt]:
    """Append a rotation entry (LEDGER-SPEC §4) to every ledger, in one transaction.

    Each entry is signed by the old key; the checkpoint that includes it by both (old
    first, spec §5 v1.1), and everything after by the new one alone. The key registry
    gains the new key in the same transaction, so either every ledger has rotated or none
    has.
    """
    session = db.write_session()
    session.info[_ALLOWED] = set()
    allowed: set[int] = session.info[_ALLOWED]
    receipts: list[Receipt] = []
    try:
        with session.begin():
            check_key(session, old)
            table = LedgerHead.__table__  # type: ignore[attr-defined]
            heads = [
                LedgerHead.model_validate(r._mapping)
                for r in session.execute(
                    select(table).order_by(table.c.org_id).with_for_update()
                )
            ]
            ts = now_ts()
            after = {"verifierKey": new.verifier_key, "previousKeyId": old.key_id.hex()}
            pending = ledger_store.Pending()
            written = []
            for head in heads:
                entry_ts = max(ts, head.last_ts or "")
                entry = {
                    "v": 1,
                    "origin": head.origin,
                    "seq": head.size,
                    "ts": entry_ts,
                    "actor": actor.as_json(),
                    "op": "rotateSigningKey",
                    "entity": {"type": "SigningKey", "id": record_id},
                    "before": None,
                    "after": after,
                }
                row = ledger_store.append_entry(head, old, entry, pending)
                note = ledger_store.seal(head, new, entry_ts, pending, retiring=old)
                written.append((row, note))
            conn = session.connection()
            ledger_store.write(conn, pending)
            for head in heads:
                ledger_store.store_head(conn, head, new=False)
            record = SigningKeyRecord(
                id=record_id,
                name=new.name,
                key_id=new.key_id.hex(),
                verifier_key=new.verifier_key,
                previous_key_id=old.key_id.hex(),
                created_at=max(ts, _latest_key_time(session)),
            )
            session.add(record)
            allowed.update(id(o) for o in session.new)
        receipts = [ledger_store.receipt(row, note) for row, note in written]
    finally:
        session.close()
    return receipts


def _latest_key_time(session: Session) -> str:
    latest = session.execute(
        select(col(SigningKeyRecord.created_at))
        .order_by(col(SigningKeyRecord.created_at).desc())
        .limit(1)
    ).scalar_one_or_none()
    return latest or ""
