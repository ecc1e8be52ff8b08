"""Group commit: concurrent changes to one organisation share one transaction and checkpoint.

An organisation's ledger takes one writer at a time (its head row is locked until COMMIT),
so writers that arrive while a transaction holds the head would otherwise queue, each for
a lock, a commit and a signed checkpoint of its own. Here they join the next transaction
instead: the first writer to find no transaction under way leads; the changes that
arrive meanwhile wait, and the next leader writes all of them (up to `MAX_GROUP`), each
as its own signed entry (LEDGER-SPEC §2), seals one checkpoint (§5) and commits once.

Every change still gets its own receipt and its own error:

- a change refused before it wrote anything (validation, NOT_FOUND, CONFLICT found by a
  read) fails alone, and the others go on in the same transaction;
- a change that fails after writing part of itself, a database error before COMMIT, or
  rows the database refuses (a unique index, say) make the group start over one change
  per transaction, so each change's outcome is what it would have been alone;
- a database lost during COMMIT leaves the outcome unknown: the changes are never applied
  again, and each writer gets SERVICE_UNAVAILABLE, as a lone writer would.

Changes are applied in the order they arrived, and each one reads what the changes before
it in its group wrote, as it would after their commits. Within one process only: several
processes (uvicorn workers) each group their own writers, and the head's lock orders the
groups.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import InternalError, OperationalError, SQLAlchemyError

from ropa.errors import ConflictError
from ropa.ledger.keys import SigningKey
from ropa.store.database import Database
from ropa.store.ledger_store import Actor, Receipt, receipt
from ropa.store.tables import IdempotencyKey
from ropa.store.write_path import Transaction, unavailable

T = TypeVar("T")
MAX_GROUP = 64  # changes in one transaction at most


@dataclass(eq=False)
class Job(Generic[T]):
    """One change waiting to be written: `body` applies it to a transaction."""

    actor: Actor
    body: Callable[[Transaction], T]
    idempotency: IdempotencyKey | None = None
    value: Any = None
    receipts: list[Receipt] = field(default_factory=list)
    error: BaseException | None = None
    settled: bool = False  # its value and receipts, or its error, are final
    # the writer's context: its body runs in it, whichever thread writes the group
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    leads: bool = False
    done: bool = False
    wake: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Queue:
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: list[Job[Any]] = field(default_factory=list)
    busy: bool = False  # a leader is writing a group


class GroupCommitter:
    """The groups of one process, per organisation."""

    def __init__(self, db: Database, prefix: str, max_group: int = MAX_GROUP) -> None:
        self.db = db
        self.prefix = prefix
        self.max_group = max_group
        self._queues: dict[str, _Queue] = {}
        self._lock = threading.Lock()
        self.groups = 0  # transactions committed with more than one change (for tests)

    def run(self, org_id: str, key: SigningKey, job: Job[T]) -> tuple[T, list[Receipt]]:
        """Write `job`'s change, alone or with others; its value and receipts, or its error."""
        queue = self._queue(org_id)
        with queue.lock:
            queue.waiting.append(job)
            if not queue.busy:
                queue.busy = True
                job.leads = True
        while not job.done:
            if job.leads:
                self._lead(org_id, key, queue)
            else:
                job.wake.wait()
                job.wake.clear()
        if job.error is not None:
            raise job.error
        return job.value, job.receipts

    def _queue(self, org_id: str) -> _Queue:
        with self._lock:
            queue = self._queues.get(org_id)
            if queue is None:
                queue = self._queues[org_id] = _Queue()
            return queue

    def _lead(self, org_id: str, key: SigningKey, queue: _Queue) -> None:
        """Write the changes waiting now, then hand the lead to the next one waiting."""
        with queue.lock:
            batch = queue.waiting[: self.max_group]
            del queue.waiting[: self.max_group]
        try:
            self._write(org_id, key, batch)
        except BaseException as exc:
            for job in batch:
                if not job.settled:
                    job.error, job.settled = exc, True
            raise
        finally:
            with queue.lock:
                following = queue.waiting[0] if queue.waiting else None
                if following is None:
                    queue.busy = False
                else:
                    following.leads = True
            for job in batch:
                job.done = True
                job.leads = False
                job.wake.set()
            if following is not None:
                following.wake.set()

    def _write(self, org_id: str, key: SigningKey, batch: list[Job[Any]]) -> None:
        if len(batch) == 1 or not self._write_group(org_id, key, batch):
            for job in batch:
                self._write_alone(org_id, key, job)

    def _write_group(self, org_id: str, key: SigningKey, batch: list[Job[Any]]) -> bool:
        """All of `batch` in one transaction; False when it must start over one by one."""
        written: list[tuple[Job[Any], int, int]] = []
        lost: Exception | None = None  # the database failed during COMMIT
        try:
            with Transaction(self.db, org_id, batch[0].actor, key, self.prefix) as tx:
                for job in batch:
                    tx.actor = job.actor
                    start = len(tx.entries)
                    try:
                        value = job.context.run(job.body, tx)
                    except Exception as exc:  # noqa: BLE001 - it is that writer's error
                        if len(tx.entries) != start or isinstance(exc, SQLAlchemyError):
                            return False  # part of it may be written: start over alone
                        job.error = exc
                        continue
                    job.value = value
                    written.append((job, start, len(tx.entries)))
                note = tx.seal()
                if note is None:  # nothing to write: every change was a no-op or refused
                    for job in batch:
                        job.settled = True
                    return True
                for job, start, end in written:
                    job.receipts = [receipt(e, note) for e in tx.entries[start:end]]
                    if job.idempotency is not None:
                        tx.keep_idempotency(job.idempotency, job.receipts)
                try:
                    tx.finish()
                except ConflictError:
                    return False  # refused before COMMIT, nothing written: each alone
                except Exception as exc:  # noqa: BLE001 - given to each writer below
                    lost = exc
        except Exception:  # noqa: BLE001 - each change is retried alone, for its own error
            return False
        if lost is not None:
            # COMMIT may or may not have taken effect: never apply the changes again;
            # each writer is told what a lone writer would be (a retry with its
            # Idempotency-Key settles it)
            error: Exception = lost
            if isinstance(lost, OperationalError | InternalError):
                error = unavailable(lost)
            for job, _, _ in written:
                job.error, job.receipts = error, []
        for job in batch:
            job.settled = True
        if len(written) > 1:
            self.groups += 1
        return True

    def _write_alone(self, org_id: str, key: SigningKey, job: Job[Any]) -> None:
        job.error, job.receipts = None, []
        try:
            with Transaction(
                self.db, org_id, job.actor, key, self.prefix, idempotency=job.idempotency
            ) as tx:
                job.value = job.context.run(job.body, tx)
                job.receipts = tx.commit()
        except Exception as exc:  # noqa: BLE001 - raised again in the writer's thread
            job.error = exc
        job.settled = True
