"""Build the benchmark organisations through the real write path (so the ledgers are real).

    .venv/bin/python -m bench.generate --backend postgresql            # dashboard orgs
    .venv/bin/python -m bench.generate --backend postgresql --ledger   # + the 1M ledger
    (same with --backend sqlite)

Dashboard set, database `main`:
  bench-1k   1,000 processing activities, each with 2 legal bases, 3 processor
             engagements and a transfer; 300 processors, 120 breaches (30 open), 2 policy
             versions. One transaction per change, as the dashboard and tools make them.
  bench-10k  10,000 activities of the same shape, 800 processors, 400 breaches, written by
             the bulk import use case (`ropa.services.imports`, 1,000 changes a transaction).
Ledger set, database `ledger`:
  bench-ledger  the bench-1k shape (5,420 entries), then reviews of the activities and
             changes of the processors until the ledger holds --entries (1,000,000) entries,
             1,000 changes per import transaction. Every entry is signed and in the tree.

Records are deterministic (seeded); re-running skips organisations that already exist.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bench.common import database_url, in_org, load, runtime
from ropa.errors import NotFoundError
from ropa.services import activities, breaches, organizations, policies, processors, transfers
from ropa.services.access import SYSTEM_PRINCIPAL, Principal
from ropa.services.imports import Step, import_changes
from ropa.services.runtime import Runtime
from ropa.store.migrate import upgrade

CATEGORIES = [
    "user.contact.email", "user.contact.phone_number", "user.contact.address",
    "user.name", "user.account.username", "user.financial.bank_account",
    "user.location.imprecise", "user.device.ip_address", "user.behavior.browsing_history",
    "user.payment", "user.job_title", "user.demographic.date_of_birth",
]
USES = ["essential.service", "marketing.communications", "analytics.reporting",
        "functional.service.improve", "essential.service.payment_processing"]
SUBJECTS = ["customer", "employee", "prospect", "supplier_vendor", "job_applicant"]
SERVICES = ["hosting", "CRM", "helpdesk", "email delivery", "analytics", "payroll",
            "payments", "backup", "identity", "translation"]
# (country, dpf, transfer mechanism when data goes there from DE)
COUNTRIES = [("US", True, "DPF"), ("US", False, "SCC"), ("IE", False, None),
             ("DE", False, None), ("IN", False, "SCC"), ("JP", False, "ADEQUACY"),
             ("GB", False, "ADEQUACY"), ("BR", False, "SCC"), ("NL", False, None)]
PURPOSES = ["Customer accounts", "Order fulfilment", "Newsletter", "Recruiting",
            "Payroll", "Fraud prevention", "Support tickets", "Product analytics",
            "Supplier management", "Event registration"]


@dataclass(frozen=True)
class Shape:
    slug: str
    activities: int
    processors: int
    breaches: int
    open_breaches: int


BENCH_1K = Shape("bench-1k", 1000, 300, 120, 30)
BENCH_10K = Shape("bench-10k", 10_000, 800, 400, 40)
BENCH_LEDGER = Shape("bench-ledger", 1000, 300, 120, 30)


def _uuid(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def _ts(rnd: random.Random, year: int = 2025) -> str:
    return (f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            f"T{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:00.000000Z")


def processor_data(rnd: random.Random, i: int) -> dict[str, Any]:
    country, dpf, _ = rnd.choice(COUNTRIES)
    return {
        "name": f"Vendor {i:04d} {rnd.choice(SERVICES).title()}",
        "legalName": f"Vendor {i:04d} Ltd.",
        "services": rnd.sample(SERVICES, 2),
        "country": country,
        "processingLocations": sorted({country, rnd.choice(["IE", "DE", "US"])}),
        "dpaSignedOn": None if i % 17 == 0 else f"2024-{(i % 12) + 1:02d}-15",
        "dpaReference": f"DPA-{i:05d}",
        "dpaDataCategories": rnd.sample(CATEGORIES, 3),
        "subProcessors": [{"name": f"Sub {i}-1", "country": "US", "service": "hosting"}],
        "certifications": ["ISO 27001"] if i % 3 else ["ISO 27001", "SOC 2"],
        "dpf": dpf,
        "externalRef": f"vendor-{i}",
    }


def activity_data(rnd: random.Random, i: int) -> dict[str, Any]:
    purpose = PURPOSES[i % len(PURPOSES)]
    return {
        "name": f"{purpose} {i:05d}",
        "description": f"{purpose} for business unit {i % 40}.",
        "purposes": [purpose, f"{purpose} reporting"],
        "dataUses": rnd.sample(USES, 2),
        "dataSubjectCategories": rnd.sample(SUBJECTS, 2),
        "dataCategories": rnd.sample(CATEGORIES, 4),
        "legalBases": [
            {"article": "ART6_1_B", "purpose": "Performance of the contract",
             "lia": None, "consentMechanism": None},
            {"article": "ART6_1_F", "purpose": "Service improvement",
             "lia": f"LIA-{i:05d}" if i % 5 else None, "consentMechanism": None},
        ],
        "recipientCategories": ["Service providers", "Group companies"],
        "retention": {"period": "P2Y", "trigger": "after the end of the contract"},
        "securityMeasures": ["Encryption at rest", "Access control"],
        "sources": ["DATA_SUBJECT"],
        "dpia": {"status": "NOT_REQUIRED", "date": None, "reference": None},
        "owner": f"team-{i % 25}",
        "lastReviewedAt": _ts(rnd),
    }


def engagement_data(rnd: random.Random, activity: str, processor: str) -> dict[str, Any]:
    return {"activityId": activity, "processorId": processor,
            "purpose": rnd.choice(SERVICES), "dataCategories": rnd.sample(CATEGORIES, 2),
            "locations": [rnd.choice(["IE", "DE", "US"])]}


def transfer_data(
    rnd: random.Random, activity: str, processor: str, proc: dict[str, Any]
) -> dict[str, Any]:
    mechanism = {"US": "DPF" if proc["dpf"] else "SCC", "IN": "SCC", "BR": "SCC",
                 "JP": "ADEQUACY", "GB": "ADEQUACY"}.get(proc["country"])
    return {
        "activityId": activity, "recipientProcessorId": processor, "recipientName": None,
        "fromCountry": "DE", "toCountry": proc["country"], "mechanism": mechanism,
        "sccModule": 2 if mechanism == "SCC" else None,
        "tia": {"date": "2024-06-01", "reference": "TIA-7"} if mechanism == "SCC" else None,
        "supplementaryMeasures": ["Encryption in transit"], "startedOn": "2024-01-01",
    }


def breach_data(
    rnd: random.Random, i: int, shape: Shape, activity_ids: list[str]
) -> dict[str, Any]:
    is_open = i < shape.open_breaches
    discovered = _ts(rnd, 2025 if is_open else 2024)
    return {
        "title": f"Incident {i:04d}: misdirected email",
        "nature": "Confidentiality breach",
        "discoveredAt": discovered,
        "containedAt": None if is_open else discovered,
        "dataSubjectCategories": ["customer"], "approxDataSubjects": 10 + i,
        "dataCategories": rnd.sample(CATEGORIES, 2), "approxRecords": 20 + i,
        "risk": rnd.choice(["UNLIKELY", "RISK", "HIGH_RISK"]),
        "affectedActivityIds": rnd.sample(activity_ids, 2),
        "status": "OPEN" if is_open else "CONTAINED",
    }


def organisation_steps(shape: Shape, seed: int = 7) -> tuple[dict[str, Any], Iterator[Step]]:
    """The organisation's data and every change that builds it, in order."""
    rnd = random.Random(seed)  # noqa: S311  (reproducible data, not secrets)
    org = {"slug": shape.slug, "name": f"Bench {shape.slug}", "roles": ["CONTROLLER"],
           "country": "DE", "dpo": {"name": "Dana Schmidt", "email": "dpo@bench.example",
                                    "phone": None}}

    def steps() -> Iterator[Step]:
        procs: list[tuple[str, dict[str, Any]]] = []
        for i in range(shape.processors):
            pid, data = _uuid(rnd), processor_data(rnd, i)
            procs.append((pid, data))
            yield Step("registerProcessor", data, new_id=pid)
        activity_ids = []
        for i in range(shape.activities):
            aid = _uuid(rnd)
            activity_ids.append(aid)
            yield Step("createProcessingActivity", activity_data(rnd, i), new_id=aid)
            for pid, _ in rnd.sample(procs, 3):
                yield Step("engageProcessor", engagement_data(rnd, aid, pid), new_id=_uuid(rnd))
            pid, pdata = rnd.choice(procs)
            yield Step("recordTransfer", transfer_data(rnd, aid, pid, pdata), new_id=_uuid(rnd))
        for i in range(shape.breaches):
            yield Step("reportBreach", breach_data(rnd, i, shape, activity_ids),
                       new_id=_uuid(rnd))

    return org, steps()


_SINGLE: dict[str, Callable[..., Any]] = {
    "registerProcessor": processors.register_processor,
    "createProcessingActivity": activities.create_processing_activity,
    "engageProcessor": activities.engage_processor,
    "recordTransfer": transfers.record_transfer,
    "reportBreach": breaches.report_breach,
}


def _create_org(rt: Runtime, org: dict[str, Any]) -> Principal | None:
    try:
        in_org(rt, org["slug"])
    except NotFoundError:
        change = organizations.create_organization(rt, SYSTEM_PRINCIPAL, org)
        assert change.state is not None
        return Principal(SYSTEM_PRINCIPAL.actor, change.state["id"])
    print(f"{org['slug']}: exists")
    return None


def build_one_by_one(rt: Runtime, shape: Shape) -> None:
    """One transaction per change, through the single use-case functions."""
    org, steps = organisation_steps(shape)
    principal = _create_org(rt, org)
    if principal is None:
        return
    started = time.perf_counter()
    ids: dict[str, str] = {}  # generated id -> the id the service gave the record
    n = 0
    for step in steps:
        data = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in step.data.items()}
        if "affectedActivityIds" in data:
            data["affectedActivityIds"] = [ids[a] for a in data["affectedActivityIds"]]
        change = _SINGLE[step.op](rt, principal, data)
        assert step.new_id is not None
        assert change.state is not None
        ids[step.new_id] = change.state["id"]
        n += 1
    for version in ("1.0", "2.0"):
        policies.publish_privacy_policy(rt, principal, {
            "version": version, "effectiveDate": f"202{version[0]}-01-01",
            "url": f"https://bench.example/privacy/{version}", "summary": "Privacy notice"})
    took = time.perf_counter() - started
    print(f"{shape.slug}: {n + 2} changes, one transaction each, in {took:.1f} s "
          f"({(n + 2) / took:.0f} changes/s)")


def build_imported(rt: Runtime, shape: Shape, batch: int = 250) -> int:
    """Through the bulk import use case, `batch` changes a transaction."""
    org, steps = organisation_steps(shape)
    principal = _create_org(rt, org)
    done = 0
    if principal is None:  # exists: resume after the steps already imported (all creates)
        from ropa.services import reads

        principal = in_org(rt, shape.slug)
        done = reads.view_of(rt, principal, principal.org_id or "").size - 1
        total = shape.processors + 5 * shape.activities + shape.breaches
        if done >= total:
            return 0
        print(f"{shape.slug}: resuming after {done} of {total} changes")
    started = time.perf_counter()
    n = 0
    pending: list[Step] = []
    for k, step in enumerate(steps):
        if k < done:
            continue
        pending.append(step)
        if len(pending) >= batch:
            n += len(import_changes(rt, principal, pending))
            pending = []
    if pending:
        n += len(import_changes(rt, principal, pending))
    took = time.perf_counter() - started
    print(f"{shape.slug}: {n} changes, {batch} per import transaction, in {took:.1f} s "
          f"({n / took:.0f} changes/s)")
    return n


def grow_ledger(rt: Runtime, slug: str, entries: int, batch: int = 250) -> None:
    """Reviews of activities and changes of processors until the ledger holds `entries`."""
    from ropa.services import reads

    principal = in_org(rt, slug)
    view = reads.view_of(rt, principal, principal.org_id or "")
    acts = [s["id"] for s in reads.all_records(rt, view, "ProcessingActivity")]
    procs = [s["id"] for s in reads.all_records(rt, view, "Processor")]
    size = view.size
    started, last = time.perf_counter(), time.perf_counter()
    round_no = size // batch
    start_size = size
    while size < entries:
        take = min(batch, entries - size)
        round_no += 1
        if round_no % 3 == 0:  # a vendor sync: DPA references and certifications move
            ids = _next(procs, round_no, take)
            steps = [Step("updateProcessor", {"dpaReference": f"DPA-{round_no}-{k}"},
                          record_id=pid) for k, pid in enumerate(ids)]
        else:  # the yearly review, activity by activity
            ids = _next(acts, round_no, take)
            # a year in the past whatever the month: a review is never in the future
            stamp = f"2025-{(round_no % 12) + 1:02d}-{(round_no % 28) + 1:02d}"
            steps = [Step("updateProcessingActivity",
                          {"lastReviewedAt": f"{stamp}T{k // 60 % 24:02d}:{k % 60:02d}:"
                                             f"{round_no % 60:02d}.000000Z",
                           "owner": f"team-{(round_no + k) % 25}"},
                          record_id=aid) for k, aid in enumerate(ids)]
        size += len(import_changes(rt, principal, steps))
        if time.perf_counter() - last > 30:
            last = time.perf_counter()
            rate = (size - start_size) / (last - started)
            print(f"  {size:,} entries ({rate:.0f} entries/s; load {load()})", flush=True)
    took = time.perf_counter() - started
    print(f"{slug}: ledger grown to {size:,} entries in {took:.0f} s "
          f"({(size - start_size) / max(took, 1e-9):.0f} entries/s, {batch} per transaction)")


def _next(ids: list[str], round_no: int, take: int) -> list[str]:
    """`take` distinct ids, moving round-robin through the list from round to round."""
    start = (round_no * take) % len(ids)
    return (ids[start:] + ids[:start])[: min(take, len(ids))]


def prepare(backend: str, name: str) -> Runtime:
    url = database_url(backend, name)
    if backend == "postgresql":
        import psycopg
        from psycopg import sql

        server, _, db_name = url.rpartition("/")
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (db_name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
    rt = runtime(backend, name)
    upgrade(rt.db)
    return rt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--ledger", action="store_true", help="also the 1M-entry ledger")
    parser.add_argument("--only-ledger", action="store_true")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--no-10k", action="store_true", help="skip bench-10k")
    args = parser.parse_args(argv)
    print(f"load: {load()}", flush=True)
    if not args.only_ledger:
        rt = prepare(args.backend, "main")
        build_one_by_one(rt, BENCH_1K)
        if not args.no_10k:
            build_imported(rt, BENCH_10K)
        rt.db.dispose()
    if args.ledger or args.only_ledger:
        rt = prepare(args.backend, "ledger")
        build_imported(rt, BENCH_LEDGER)
        grow_ledger(rt, BENCH_LEDGER.slug, args.entries)
        rt.db.dispose()
    print(f"load after: {load()}")


if __name__ == "__main__":
    sys.exit(main())
