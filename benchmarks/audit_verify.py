"""Full store verification at scale: the audit chain, every record binding, the seals.

Issue target: `governance audit verify` on 1M audit events and 100k governed records is
linear in the size of the store and finishes in under 30 s. What is timed is
`verify_store(store, files=False)` — the chain re-hashed event by event, every row of every
bound table checked against the binding its event carries, and the inference-log seals —
and, for comparison, `verify_chain` alone (the chain without the bindings).

Each store is built directly in SQL, in one transaction (bulk inserts of 10,000 rows, not
1M API calls), and is a store the product would accept: events carry correct `seq`,
`prev_hash` and `hash` (`audit.event_hash` over `canonical_json` payloads), one event in
ten records a governed row (alternately `access_log` and `check_results`, like
`record_access` and `record_check_result` write them) and carries its binding, computed
with `bindings.record_digest` on the row as the database hands it back; the head is moved
to the last event (head trigger dropped and recreated around the update). Verification
runs in a child process per size, so its peak RSS is its own; each run must pass with
exactly the expected counts, and the smallest store is then tampered with (one
`access_log` row edited) to show that the same run does detect it.

    python benchmarks/audit_verify.py [--sizes 100000,300000,1000000] [--repeats 3]
    python benchmarks/audit_verify.py --sizes 20000 --repeats 1        # smoke run
    python benchmarks/audit_verify.py \\
        --database-url postgresql+psycopg2://postgres@127.0.0.1:5432/governance_bench

With `--database-url` (PostgreSQL) each size gets a fresh database named after the URL's
database plus a random suffix, created through the server's `postgres` database and
dropped afterwards (WITH (FORCE)); the URL's own database is never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from governance_pipelines.canonical import canonical_json
from governance_pipelines.compliance.integrity import verify_store
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.audit import GENESIS_HASH, event_hash
from governance_pipelines.store.bindings import RECORD_KEY, record_digest, record_key
from governance_pipelines.store.immutability import (
    create_append_only_triggers,
    create_forward_only_head,
    drop_append_only_triggers,
)
from governance_pipelines.store.schema import access_log, audit_head, audit_log, check_results

BATCH = 10_000
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
USERS = ("alice", "bob", "carol", "dave", "frank", "vera", "erin")
MODELS = ("credit_default", "churn", "fraud", "pricing")
PERMISSIONS = ("model.view", "model.call", "model.promote", "model.approve", "logs.read")
CHECKS = (
    "model_version_metric_above_minimum",
    "training_snapshot_schema_valid",
    "model_version_fairness_gap",
    "drift_report_within_threshold",
)
PLAIN_ACTIONS = (
    "lineage.recorded",
    "usage.recorded",
    "drift.evaluated",
    "cost.recorded",
    "alert.delivered",
    "model.registered",
)


@dataclass(frozen=True)
class Built:
    events: int
    records: int
    seconds: float
    head_hash: str


# --- building a valid store in bulk -----------------------------------------------------


def build_store(store: GovernanceStore, events: int, records: int, seed: int = 7) -> Built:
    """Fill an empty store with `events` chained events, `records` of them bound to rows."""
    if not 0 <= records <= events:
        raise ValueError("records must be between 0 and the number of events")
    rng = random.Random(seed)
    stride = events // records if records else 0
    record_seqs = [stride * (k + 1) for k in range(records)]  # one event in `stride` binds a row
    start = time.perf_counter()
    with store.engine.begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # the hash indexes are random-access: keep them in memory while building
            connection.exec_driver_sql("PRAGMA cache_size = -524288")
        _insert_rows(connection, record_seqs, rng)
        bindings = _read_bindings(connection)
        prev = GENESIS_HASH
        for first in range(1, events + 1, BATCH):
            batch: list[dict[str, Any]] = []
            for seq in range(first, min(first + BATCH, events + 1)):
                row = _event(seq, bindings.get(seq), rng)
                row["prev_hash"] = prev  # event_hash's keywords are audit_log's column names
                row["hash"] = prev = event_hash(**row)
                batch.append(row)
            connection.execute(audit_log.insert(), batch)
        if len(bindings) != records:
            raise RuntimeError(f"{len(bindings)} rows read back, {records} inserted")
        # The head may only move forward by one: lift its guard for this one bulk move.
        drop_append_only_triggers(connection, ("audit_head",))
        connection.execute(
            audit_head.update().where(audit_head.c.id == 1).values(seq=events, hash=prev)
        )
        create_forward_only_head(connection)
        if sqlite:
            connection.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default again
    return Built(events, records, time.perf_counter() - start, prev)


def _insert_rows(connection: sa.Connection, seqs: list[int], rng: random.Random) -> None:
    """Governed rows with fixed timestamps and their future event's number as `audit_seq`."""
    for first in range(0, len(seqs), BATCH):
        access, checks = [], []
        for k in range(first, min(first + BATCH, len(seqs))):
            seq = seqs[k]
            at = BASE_TIME + timedelta(milliseconds=seq * 37)
            model = MODELS[k % len(MODELS)]
            if k % 2 == 0:
                allowed = rng.random() < 0.9
                access.append(
                    {
                        "at": at,
                        "user_name": USERS[k % len(USERS)],
                        "action": PERMISSIONS[k % len(PERMISSIONS)],
                        "resource": f"{model} v{1 + k % 40}",
                        "allowed": allowed,
                        "reason": None if allowed else "lacks the permission",
                        "audit_seq": seq,
                    }
                )
            else:
                passed = rng.random() < 0.8
                checks.append(
                    {
                        "model_name": model,
                        "version": 1 + k % 40,
                        "snapshot_id": None,
                        "check_name": CHECKS[k % len(CHECKS)],
                        "passed": passed,
                        "severity": "ERROR" if k % 3 else "WARN",
                        "summary": f"roc_auc {rng.uniform(0.5, 0.95):.3f} vs 0.70",
                        "evidence_json": canonical_json({"roc_auc": round(rng.random(), 6)}),
                        "run_id": f"run-{seq // 500:08d}",
                        "created_at": at,
                        "audit_seq": seq,
                    }
                )
        for table, rows in ((access_log, access), (check_results, checks)):
            if rows:
                connection.execute(table.insert(), rows)


def _read_bindings(connection: sa.Connection) -> dict[int, dict[str, Any]]:
    """seq -> the event payload of each row, from the rows as the database returns them."""
    bindings: dict[int, dict[str, Any]] = {}
    for table in (access_log, check_results):
        last = 0
        while batch := connection.execute(
            sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all():
            for row in batch:
                binding = {
                    "table": table.name,
                    "key": record_key(table, row),
                    "sha256": record_digest(table, row),
                }
                bindings[row.audit_seq] = _record_payload(table, row, binding)
            last = batch[-1].id
    return bindings


def _record_payload(table: sa.Table, row: sa.Row[Any], binding: dict[str, str]) -> dict[str, Any]:
    """The event that records a row, shaped like `record_access` / `record_check_result`."""
    if table is access_log:
        return {
            "actor": row.user_name,
            "action": "access.allowed" if row.allowed else "access.denied",
            "model_name": row.resource.split(" ")[0],
            "version": None,
            "payload": {
                "permission": row.action,
                "resource": row.resource,
                "roles": ["approver"],
                "reason": row.reason,
                RECORD_KEY: binding,
            },
        }
    return {
        "actor": "dagster:run",
        "action": "check.evaluated",
        "model_name": row.model_name,
        "version": row.version,
        "payload": {
            "check": row.check_name,
            "passed": row.passed,
            "severity": row.severity,
            "summary": row.summary,
            "snapshot_id": row.snapshot_id,
            "run_id": row.run_id,
            RECORD_KEY: binding,
        },
    }


def _event(seq: int, recorded: dict[str, Any] | None, rng: random.Random) -> dict[str, Any]:
    if recorded is None:
        model = MODELS[seq % len(MODELS)]
        recorded = {
            "actor": "dagster:run",
            "action": PLAIN_ACTIONS[seq % len(PLAIN_ACTIONS)],
            "model_name": model,
            "version": 1 + seq % 40,
            "payload": {
                "run_id": f"run-{seq // 500:08d}",
                "asset": f"{model}/drift_report",
                "value": round(rng.random(), 6),
                "rows": rng.randrange(1_000, 1_000_000),
            },
        }
    return {
        "seq": seq,
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "at": (BASE_TIME + timedelta(milliseconds=seq * 37)).isoformat(timespec="microseconds"),
        "actor": recorded["actor"],
        "action": recorded["action"],
        "model_name": recorded["model_name"],
        "version": recorded["version"],
        "payload_json": canonical_json(recorded["payload"]),
    }


# --- measuring (child process) ------------------------------------------------------------


def measure(repeats: int, events: int, records: int) -> dict[str, Any]:
    """Run in a child: time verify_store and verify_chain, interleaved; check every result."""
    store = GovernanceStore.open_existing()  # GOVERNANCE_DATABASE_URL, set by the parent
    baseline_kib = peak_rss_kib()
    full: list[float] = []
    full_cpu: list[float] = []
    chain: list[float] = []
    try:
        for _ in range(repeats):
            start, cpu = time.perf_counter(), time.process_time()
            report = verify_store(store, files=False)
            full.append(time.perf_counter() - start)
            full_cpu.append(time.process_time() - cpu)
            counts = (report.chain_events, report.records_checked, report.seals_checked)
            if not report.passed or counts != (events, records, 0):
                raise SystemExit(f"verification did not pass as expected: {report.summary}")
            start = time.perf_counter()
            result = store.verify_audit_chain()
            chain.append(time.perf_counter() - start)
            if not result.ok or result.verified != events:
                raise SystemExit(f"chain verification failed: {result.problem}")
    finally:
        store.dispose()
    return {
        "full": full,
        "full_cpu": full_cpu,
        "chain": chain,
        "baseline_kib": baseline_kib,
        "peak_kib": peak_rss_kib(),
    }


def peak_rss_kib() -> int:
    """This process's peak RSS since exec: VmHWM (ru_maxrss would include the parent's
    RSS at fork time on Linux, i.e. the builder's); ru_maxrss where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measure_in_child(url: str, repeats: int, events: int, records: int) -> dict[str, Any]:
    env = {**os.environ, "GOVERNANCE_DATABASE_URL": url}  # not argv: it may hold a password
    command = [sys.executable, __file__, "--child", str(repeats), str(events), str(records)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"verification child failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def tamper_check(store: GovernanceStore) -> str:
    """Edit one governed row behind the API's back; the same verification must name it."""
    with store.engine.begin() as connection:
        drop_append_only_triggers(connection, ("access_log",))
        target = connection.execute(sa.select(sa.func.min(access_log.c.id))).scalar_one()
        connection.execute(
            access_log.update().where(access_log.c.id == target).values(allowed=False)
        )
        create_append_only_triggers(connection, ("access_log",))
    report = verify_store(store, files=False)
    kinds = [(p.kind, p.table, p.key) for p in report.record_problems]
    if report.passed or kinds != [("tampered", "access_log", str(target))]:
        raise SystemExit(f"tampering was not reported as expected: {report.summary}")
    return report.problems[0]


# --- stores on each backend -----------------------------------------------------------------


@contextmanager
def fresh_store(database_url: str | None, folder: Path) -> Iterator[tuple[str, GovernanceStore]]:
    """An empty, migrated store: SQLite in `folder`, or a new PostgreSQL database."""
    if database_url is None:
        url = f"sqlite:///{folder / 'governance.db'}"
        store = GovernanceStore.open(url, folder)
        try:
            yield url, store
        finally:
            store.dispose()
        return
    parsed = sa.make_url(database_url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("--database-url must be a postgresql:// URL (SQLite is the default)")
    name = f"{parsed.database or 'governance_bench'}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = parsed.set(database=name).render_as_string(hide_password=False)
        store = GovernanceStore.open(url, folder)
        try:
            yield url, store
        finally:
            store.dispose()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _store_megabytes(store: GovernanceStore) -> float:
    with store.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            size = connection.exec_driver_sql("SELECT pg_database_size(current_database())")
            return size.scalar_one() / 1e6
    database = store.engine.url.database or ""
    checkpoint = sqlite3.connect(database, isolation_level=None)  # outside BEGIN IMMEDIATE
    try:
        checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # fold the WAL into the file
    finally:
        checkpoint.close()
    return sum(p.stat().st_size for p in Path(database).parent.glob("governance.db*")) / 1e6


# --- report ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,300000,1000000", help="events per store")
    parser.add_argument("--record-share", type=float, default=0.1, help="events that bind a row")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url", help="PostgreSQL server to use instead of SQLite")
    parser.add_argument("--no-tamper-check", action="store_true")
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    load_before = os.getloadavg()
    print(f"{backend}; load average before: {_load(load_before)}; {os.cpu_count()} CPUs")
    rows = []
    for index, events in enumerate(sizes):
        records = round(events * args.record_share)
        with (
            tempfile.TemporaryDirectory() as tmp,
            fresh_store(args.database_url, Path(tmp)) as (url, store),
        ):
            built = build_store(store, events, records)
            megabytes = _store_megabytes(store)
            print(
                f"built {events:,} events ({records:,} bound records) in {built.seconds:.1f} s, "
                f"{megabytes:.0f} MB",
                flush=True,
            )
            got = _measure_in_child(url, args.repeats, events, records)
            if index == 0 and not args.no_tamper_check:
                print(f"tamper check (1 access_log row edited): {tamper_check(store)}")
        full, chain = statistics.median(got["full"]), statistics.median(got["chain"])
        rows.append((events, records, built, megabytes, got, full, chain))
        print(
            f"  verify_store {full:.2f} s {_spread(got['full'])} "
            f"(CPU {statistics.median(got['full_cpu']):.2f} s), verify_chain {chain:.2f} s "
            f"{_spread(got['chain'])}, peak RSS {got['peak_kib'] / 1024:.0f} MiB "
            f"(after imports and opening the store {got['baseline_kib'] / 1024:.0f} MiB)",
            flush=True,
        )

    print(f"\n{backend}, median of {args.repeats}; load average after: {_load(os.getloadavg())}")
    print(
        "| events | records | build | store | verify_store | s per 1M events "
        "| CPU | verify_chain only | peak RSS |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for events, records, built, megabytes, got, full, chain in rows:
        print(
            f"| {events:,} | {records:,} | {built.seconds:.0f} s | {megabytes:.0f} MB "
            f"| {full:.2f} s | {full / events * 1e6:.1f} s "
            f"| {statistics.median(got['full_cpu']):.2f} s | {chain:.2f} s "
            f"| {got['peak_kib'] / 1024:.0f} MiB |"
        )


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


def _spread(times: list[float]) -> str:
    return f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})"


if __name__ == "__main__":
    main()
