"""The daily cost rollup at scale: a month of 200 models and 1M requests a day.

Issue target: "a month of 200 models with 1M requests a day in total; report wall time and
peak memory (target: a day's allocation in under 10 s, memory bounded by one day's log,
not the month's)."

Each day runs what production runs, through the product API on a fresh store:

1. the day's inference log (model_name, model_version, consumer_team, requested_at,
   status, latency_ms; `--requests-per-day` rows across all models) is generated with
   numpy (seeded) in memory, one day at a time: the month's log is never held. Models get
   Zipf-like traffic (a few get none), each its own Zipf-like mix of ~30 consumer teams
   (some not declared in the config), one or two live versions, an error rate and a
   latency distribution. Generation is timed but it is not the product;
2. per model, as the daily `inference_log` asset does: `usage_by_consumer(frame)` on the
   model's rows and `store.replace_usage_day(model, day, rows)`;
3. `cost_booking.book_day(...)` with each model's training/governance hours: usage counts
   read back, charges on every driver (requests, request time, training and governance
   hours, bytes on disk — sparse files under the home —, the fixed monthly share, two
   shared costs split by usage and by weights), the allocation to consumer teams, the
   ledger rows booked with their audit event, and the day reconciled.

At the end: `month_reconciliation(...)` through the last day, and the showback/chargeback
`cost_report(month_ledger(store, month), by, currency)` by team, model and consumer.

`--month-to-date` adds, after each day, what the daily `cost_allocation` asset does next
(orchestration/costs.py): the month so far read back from the ledger, reconciled, rendered
as the HTML report, and its showback/chargeback metadata.

Memory: each day's own peak RSS (VmHWM, reset when the day begins through
/proc/self/clear_refs, which also resets `ru_maxrss`, so the process's peak is tracked
across the resets), the RSS after the day, and the size of the day's log frame
(`memory_usage(deep=True)`). tracemalloc (peak of what the day allocates, per phase, and
what is still allocated after it) runs on day 1, every `--trace-every`th day and the last:
it makes this code 3-4x slower, so the time figures come from the other days. The month
end is timed without it, then run again under it for its memory.

Correct results are part of the benchmark: every day must reconcile, every logged request
must be charged, and at month end allocated must equal incurred (the ledger's sum and
every report's total too); the script exits 1 otherwise.

    python benchmarks/cost_rollup.py                                 # 30 days × 1M × 200
    python benchmarks/cost_rollup.py --days 3 --requests-per-day 50000 --models 40   # smoke
    python benchmarks/cost_rollup.py --month-to-date --trace-every 0   # as the asset runs
    python benchmarks/cost_rollup.py --days 10 --profile-day 2 --profile-month-end
    python benchmarks/cost_rollup.py \\
        --database-url postgresql+psycopg2://postgres@127.0.0.1:5432/test

With a PostgreSQL URL, a fresh database named after the URL's database plus a random
suffix is created through the server's `postgres` database and dropped afterwards
(WITH (FORCE)); the URL's own database is never touched.
"""

from __future__ import annotations

import argparse
import calendar
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa

from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.operations.cost_booking import (
    BookedDay,
    ComputeHours,
    book_day,
    month_ledger,
    month_reconciliation,
    month_summary,
)
from governance_pipelines.operations.cost_reports import write_month_report
from governance_pipelines.operations.showback import ReportBy, cost_report
from governance_pipelines.operations.usage import usage_by_consumer
from governance_pipelines.store import GovernanceStore

T = TypeVar("T")
MIB = 1024 * 1024
DECLARED_TEAMS = 24  # all with a cost centre; the first OWNING_TEAMS own the models
OWNING_TEAMS = 12
UNDECLARED_TEAMS = 6  # consumers the config does not know: charged without a cost centre
IDLE_MODEL_SHARE = 0.02  # models nobody calls: the owning team bears their costs
DAY_NS = 86_400 * 10**9
_SECONDS_PER_HOUR = Decimal(3600)
REPORTS: tuple[ReportBy, ...] = ("team", "model", "consumer")
# What the cost_allocation asset puts in its metadata each day.
METADATA_REPORTS: tuple[ReportBy, ...] = ("team", "consumer")


# --- the organisation --------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """The config plus what the generator draws from (fixed for the month)."""

    config: GovernanceConfig
    models: list[str]
    traffic: np.ndarray  # share of the day's requests per model (sums to 1)
    consumers: list[str]  # the consumer pool: declared and undeclared teams
    consumer_p: list[np.ndarray]  # per model: probability of each consumer
    versions: list[tuple[int, ...]]  # per model: live versions
    canary: np.ndarray  # per model: share of the second version
    error_rate: np.ndarray
    latency_mu: np.ndarray  # log-normal location of latency_ms, per model
    storage_bytes: np.ndarray
    trains_every: np.ndarray  # days between training runs, per model


def zipf(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def build_scenario(n_models: int, seed: int) -> Scenario:
    """`n_models` models of 12 owning teams, 30 consumer teams, rates on every driver."""
    rng = np.random.default_rng(seed)
    teams = [f"team_{i:02d}" for i in range(DECLARED_TEAMS)]
    undeclared = [f"external_{i:02d}" for i in range(UNDECLARED_TEAMS)]
    models = [f"model_{i:03d}" for i in range(n_models)]
    owners = [f"owner_{i:02d}" for i in range(OWNING_TEAMS)]
    team_blocks = []
    for i, team in enumerate(teams):
        block: dict[str, Any] = {"name": team, "cost_center": f"CC-{1000 + 100 * i}"}
        if i < OWNING_TEAMS and i % 2 == 0:  # team defaults, overridden rate by rate below
            block["cost"] = {
                "per_1k_requests": "0.35",
                "serving_per_hour": "1.20",
                "per_training_hour": "2.50",
                "storage_per_gb_month": "0.023",
            }
        team_blocks.append(block)
    model_blocks = []
    for i, name in enumerate(models):
        rates = {
            "per_1k_requests": f"{rng.uniform(0.05, 0.80):.4f}",
            "serving_per_hour": f"{rng.uniform(0.40, 3.50):.2f}",
            "per_training_hour": f"{rng.uniform(1.0, 6.0):.2f}",
            "storage_per_gb_month": "0.023",
            "monthly_fixed": f"{rng.choice([0, 50, 120, 250, 400])}",
        }
        if (i % OWNING_TEAMS) % 2 == 0 and i % 3 == 0:
            # some models rely on their team's defaults for the variable rates
            rates = {"monthly_fixed": rates["monthly_fixed"]}
        model_blocks.append(
            {
                "name": name,
                "owner": owners[i % OWNING_TEAMS],
                "team": teams[i % OWNING_TEAMS],
                "description": f"Synthetic model {i} for the cost benchmark.",
                "labels": {"risk_tier": ["high", "medium", "low"][i % 3]},
                "data": {
                    "source": {"kind": "file", "path": f"data/{name}.parquet"},
                    "target": "y",
                    "features": ["a", "b"],
                },
                "training": {
                    "estimator": {"class": "sklearn.linear_model.LogisticRegression"},
                    "min_metric": 0.6,
                },
                "cost": rates,
            }
        )
    weighted = models[: max(1, n_models // 10)]  # the high-risk tenth carries model risk's cost
    raw = {
        "organisation": "Cost benchmark",
        "teams": team_blocks,
        "people": [
            {"name": owner, "team": teams[i], "roles": ["data_scientist"]}
            for i, owner in enumerate(owners)
        ],
        "costs": {
            "currency": "USD",
            "shared": [
                {"name": "platform", "monthly": "18000", "split": "usage"},
                {
                    "name": "model_risk_office",
                    "monthly": "7500",
                    "split": "weights",
                    "weights": {m: str(1 + k % 3) for k, m in enumerate(weighted)},
                },
            ],
        },
        "models": model_blocks,
    }
    config = parse_config(json.dumps(raw), source="cost_rollup benchmark")

    traffic = zipf(n_models, 1.0)[rng.permutation(n_models)]
    idle = rng.choice(n_models, size=round(n_models * IDLE_MODEL_SHARE), replace=False)
    traffic[idle] = 0.0
    traffic /= traffic.sum()
    consumers = teams + undeclared
    # Undeclared teams sit in the tail of every model's mix (ranks drawn from the back).
    consumer_p = []
    for _ in models:
        k = int(rng.integers(3, len(consumers) + 1))  # how many teams call this model
        chosen = rng.choice(len(consumers), size=k, replace=False)
        p = np.zeros(len(consumers))
        p[chosen] = zipf(k, 1.2)
        consumer_p.append(p)
    versions: list[tuple[int, ...]] = []
    for _ in models:
        first = int(rng.integers(1, 12))
        versions.append((first, first + 1) if rng.random() < 0.4 else (first,))
    return Scenario(
        config=config,
        models=models,
        traffic=traffic,
        consumers=consumers,
        consumer_p=consumer_p,
        versions=versions,
        canary=rng.choice([0.05, 0.1, 0.5], size=n_models),
        error_rate=rng.uniform(0.002, 0.03, size=n_models),
        latency_mu=np.log(rng.uniform(15, 200, size=n_models)),
        storage_bytes=np.exp(rng.uniform(np.log(5e7), np.log(2e10), size=n_models)).astype(
            np.int64
        ),
        trains_every=rng.choice([1, 7, 14, 30], size=n_models),
    )


def write_storage(home: Path, scenario: Scenario) -> int:
    """One sparse file per model under artifacts/: `storage_bytes` sees its apparent size,
    the disk holds nothing."""
    total = 0
    for name, size in zip(scenario.models, scenario.storage_bytes, strict=True):
        folder = home / "artifacts" / name
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "model.joblib", "wb") as handle:
            handle.truncate(int(size))
        total += int(size)
    return total


# --- one day ----------------------------------------------------------------------------


def generate_day(
    scenario: Scenario, day: date, requests: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, list[tuple[str, int, int]]]:
    """The day's log, grouped by model (as each model's read returns it) and in time order
    within a model; plus each model's (name, first row, end row)."""
    counts = rng.multinomial(requests, scenario.traffic)
    start_ns = pd.Timestamp(day, tz="UTC").value
    names = np.array(scenario.models, dtype=object)
    teams = np.array(scenario.consumers, dtype=object)
    model_idx = np.repeat(np.arange(len(counts)), counts)
    parts_version, parts_team, parts_time = [], [], []
    for m, n in enumerate(counts):
        if not n:
            continue
        live = scenario.versions[m]
        version = np.full(n, live[0], dtype=np.int64)
        if len(live) > 1:
            version[rng.random(n) < scenario.canary[m]] = live[1]
        parts_version.append(version)
        parts_team.append(rng.choice(len(teams), size=n, p=scenario.consumer_p[m]))
        parts_time.append(np.sort(rng.integers(0, DAY_NS, size=n)))
    frame = pd.DataFrame(
        {
            "model_name": names[model_idx],
            "model_version": np.concatenate(parts_version),
            "consumer_team": teams[np.concatenate(parts_team)],
            "requested_at": pd.to_datetime(start_ns + np.concatenate(parts_time), utc=True),
            "status": np.where(
                rng.random(requests) < scenario.error_rate[model_idx], "error", "ok"
            ).astype(object),
            "latency_ms": np.round(
                rng.lognormal(scenario.latency_mu[model_idx], 0.6).astype(np.float64), 3
            ),
        }
    )
    ends = np.cumsum(counts)
    bounds = [
        (scenario.models[m], int(ends[m] - counts[m]), int(ends[m]))
        for m in range(len(counts))
        if counts[m]
    ]
    return frame, bounds


def compute_hours(
    scenario: Scenario, day: date, rng: np.random.Generator
) -> dict[str, ComputeHours]:
    """Step hours as the Dagster shell measures them: Decimal(repr(seconds)) / 3600."""
    hours = {}
    for m, name in enumerate(scenario.models):
        trains = (day.toordinal() + m) % int(scenario.trains_every[m]) == 0
        training = float(rng.uniform(300, 7200)) if trains else 0.0
        governance = float(rng.uniform(20, 900))
        hours[name] = ComputeHours(
            training=Decimal(repr(training)) / _SECONDS_PER_HOUR,
            governance=Decimal(repr(governance)) / _SECONDS_PER_HOUR,
        )
    return hours


def roll_up(
    store: GovernanceStore, frame: pd.DataFrame, bounds: list[tuple[str, int, int]], day: date
) -> tuple[int, float]:
    """What the daily inference_log asset does per model: count, then replace the day.
    Returns (usage rows written, seconds spent writing)."""
    written, writing = 0, 0.0
    for name, first, end in bounds:
        usage = usage_by_consumer(frame.iloc[first:end])
        rows = usage.to_dict("records")
        start = time.perf_counter()
        written += store.replace_usage_day(name, day, rows)
        writing += time.perf_counter() - start
    return written, writing


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Phase:
    seconds: float = 0.0
    peak: int | None = None  # tracemalloc peak during the phase, bytes (traced days only)
    cpu: float = 0.0  # this process's CPU seconds: less sensitive to other load


@dataclass
class DayFigures:
    day: date
    traced: bool
    log_bytes: int
    usage_rows: int
    ledger_rows: int
    generate: Phase
    rollup: Phase
    write_seconds: float
    book: Phase
    peak_rss: int  # VmHWM of the day (reset when it begins): log, roll-up and booking
    rss: int  # after the day, once its log is dropped
    max_rss: int  # the process's peak RSS so far
    traced_after: int | None  # traced memory allocated during the day and still alive
    month_to_date: Phase | None
    month_to_date_rss: int | None
    problems: list[str]


def measured(work: Callable[[], T], trace: bool) -> tuple[T, Phase]:
    """Wall time, and tracemalloc's peak (of what was allocated since the day's start)."""
    if trace:
        tracemalloc.reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return result, Phase(seconds, tracemalloc.get_traced_memory()[1] if trace else None, cpu)


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakRss:
    """Peak RSS per phase (VmHWM, reset through /proc/self/clear_refs on Linux) and of the
    whole process. Resetting VmHWM resets ru_maxrss too, so the process's peak is kept here."""

    def __init__(self) -> None:
        self.process = 0
        self.resettable = self.reset()

    def reset(self) -> bool:
        self.process = max(self.process, self.since_reset())
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def since_reset(self) -> int:
        kib = _status_kib("VmHWM")
        if kib is None:  # not Linux: the process's peak is all there is
            kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kib * 1024

    def process_peak(self) -> int:
        max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        return max(self.process, self.since_reset(), max_rss)


def rss_bytes() -> int:
    return (_status_kib("VmRSS") or 0) * 1024


def check_day(booked: BookedDay, requests: int) -> list[str]:
    problems = [] if booked.reconciliation.passed else [booked.reconciliation.summary()]
    if booked.booking is None or booked.booking.restatement != 0:
        problems.append(f"{booked.computed.day}: expected a first booking, got {booked.booking}")
    if booked.booking is not None and booked.booking.rows != len(booked.booked):
        problems.append(f"{booked.booking.rows} rows bound, {len(booked.booked)} booked")
    charged = sum(
        (c.quantity for c in booked.computed.charges if c.cost_type == "serving_requests"),
        Decimal(0),
    )
    if charged != requests:
        problems.append(f"{booked.computed.day}: {charged} requests charged, {requests} logged")
    if booked.computed.allocated != booked.computed.incurred:
        problems.append(
            f"{booked.computed.day}: allocated {booked.computed.allocated} "
            f"≠ incurred {booked.computed.incurred}"
        )
    return problems


def profiled(work: Callable[[], T], label: str, lines: int = 25) -> Callable[[], T]:
    def run() -> T:
        profiler = cProfile.Profile()
        result = profiler.runcall(work)
        for sort in ("cumulative", "tottime"):
            buffer = io.StringIO()
            pstats.Stats(profiler, stream=buffer).sort_stats(sort).print_stats(lines)
            print(f"\n--- cProfile of {label}, by {sort} ---\n{buffer.getvalue()}")
        return result

    return run


# --- stores ------------------------------------------------------------------------------


@contextmanager
def fresh_store(database_url: str | None, home: Path) -> Iterator[GovernanceStore]:
    """An empty, migrated store: SQLite in `home`, or a new PostgreSQL database."""
    if database_url is None:
        store = GovernanceStore.open(f"sqlite:///{home / 'governance.db'}", home)
        try:
            yield store
        finally:
            store.dispose()
        return
    parsed = sa.make_url(database_url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("--database-url must be a postgresql:// URL (SQLite is the default)")
    name = f"{parsed.database or 'governance'}_costbench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = parsed.set(database=name).render_as_string(hide_password=False)
        store = GovernanceStore.open(url, home)
        try:
            yield store
        finally:
            store.dispose()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# --- the month ---------------------------------------------------------------------------


def run_day(
    store: GovernanceStore,
    scenario: Scenario,
    day: date,
    requests: int,
    rng: np.random.Generator,
    *,
    trace: bool,
    profile: bool,
    month_to_date: bool,
    rss: PeakRss,
) -> DayFigures:
    rss.reset()
    if trace:
        tracemalloc.start()
    (frame, bounds), generate = measured(lambda: generate_day(scenario, day, requests, rng), trace)
    log_bytes = int(frame.memory_usage(deep=True).sum())
    hours = compute_hours(scenario, day, rng)

    rollup_work: Callable[[], tuple[int, float]] = partial(roll_up, store, frame, bounds, day)
    book_work: Callable[[], BookedDay] = partial(
        book_day, scenario.config, store, day, compute_hours=hours, actor="benchmark"
    )
    if profile:
        rollup_work = profiled(rollup_work, f"the roll-up of {day}")
        book_work = profiled(book_work, f"book_day of {day}")
    (usage_rows, writing), rollup = measured(rollup_work, trace)
    del frame, bounds, rollup_work  # the allocation reads usage_records, not the log
    booked, book = measured(book_work, trace)
    problems = check_day(booked, requests)
    ledger_rows = len(booked.booked)
    del booked
    traced_after = tracemalloc.get_traced_memory()[0] if trace else None
    if trace:
        tracemalloc.stop()
    peak_rss = rss.since_reset()
    mtd, mtd_rss = None, None
    if month_to_date:
        rss.reset()
        start = time.perf_counter()
        problems += month_so_far(store, scenario, day)
        mtd, mtd_rss = Phase(time.perf_counter() - start), rss.since_reset()
    return DayFigures(
        day=day,
        traced=trace,
        log_bytes=log_bytes,
        usage_rows=usage_rows,
        ledger_rows=ledger_rows,
        generate=generate,
        rollup=rollup,
        write_seconds=writing,
        book=book,
        peak_rss=peak_rss,
        rss=rss_bytes(),
        max_rss=rss.process_peak(),
        traced_after=traced_after,
        month_to_date=mtd,
        month_to_date_rss=mtd_rss,
        problems=problems,
    )


def month_so_far(store: GovernanceStore, scenario: Scenario, day: date) -> list[str]:
    """What the daily `cost_allocation` asset does after `book_day` (orchestration/costs.py):
    the month so far read back, reconciled, written as the HTML report, and the showback
    and chargeback tables for its metadata."""
    config = scenario.config
    month = month_summary(store, day)  # summed in the database, as the asset does
    through = max(day, month.through or day)
    check = month_reconciliation(
        config,
        store,
        day,
        through=through,
        since=config.schedules.monitoring_start_date,
        summary=month,
    )
    write_month_report(
        config,
        month.lines,
        through,
        store.home / "costs" / "reports",
        check,
        daily=month.daily,
        restated=month.restated,
    )
    for by in METADATA_REPORTS:
        [line.to_dict() for line in cost_report(month.lines, by, config.costs.currency)]
    return [] if check.passed else [check.summary()]


def month_end(
    store: GovernanceStore, scenario: Scenario, month: date, through: date, trace: bool
) -> tuple[dict[str, Phase], list[str], int]:
    """The month's reconciliation and its three reports; with `trace`, only their memory
    is of interest (the times are tracemalloc's)."""
    config = scenario.config
    currency = config.costs.currency
    phases: dict[str, Phase] = {}
    if trace:
        tracemalloc.start()
    reconciliation, phases["month_reconciliation"] = measured(
        lambda: month_reconciliation(config, store, month, through=through), trace
    )
    ledger, phases["month_ledger"] = measured(lambda: month_ledger(store, month), trace)
    reports, phases["cost_report ×3"] = measured(
        lambda: {by: cost_report(ledger, by, currency) for by in REPORTS}, trace
    )
    if trace:
        tracemalloc.stop()
    problems = [] if reconciliation.passed else [reconciliation.summary()]
    if reconciliation.allocated != reconciliation.incurred or reconciliation.unallocated:
        problems.append(f"month: {reconciliation.summary()}")
    allocated = sum((row.amount for row in ledger), Decimal(0))
    if allocated != reconciliation.incurred:
        problems.append(f"ledger holds {allocated}, incurred {reconciliation.incurred}")
    for by, lines in reports.items():
        total = sum((line.total for line in lines), Decimal(0))
        if total != reconciliation.incurred:
            problems.append(f"report by {by}: total {total} ≠ incurred {reconciliation.incurred}")
    if not trace:
        print(f"month end: {reconciliation.summary()}")
        for by, lines in reports.items():
            top = ", ".join(f"{line.key} {line.total}" for line in lines[:3])
            print(f"  cost_report by {by}: {len(lines)} lines; largest: {top}")
    return phases, problems, len(ledger)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30, help="days booked, from --month's first")
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--requests-per-day", type=int, default=1_000_000, help="all models")
    parser.add_argument("--month", default="2026-04", help="YYYY-MM (April: 30 days)")
    parser.add_argument("--database-url", help="PostgreSQL server to use instead of SQLite")
    parser.add_argument("--seed", type=int, default=20260401)
    parser.add_argument(
        "--trace-every",
        type=int,
        default=10,
        help="tracemalloc on day 1, every Nth day and the last (1: all days, 0: none); "
        "it slows Python 3-4x, so traced days are left out of the time figures",
    )
    parser.add_argument(
        "--month-to-date",
        action="store_true",
        help="also run, after each day, the month-so-far work of the cost_allocation asset",
    )
    parser.add_argument("--print-every", type=int, default=1, help="print every Nth day")
    parser.add_argument("--profile-day", type=int, help="cProfile the roll-up and booking of day N")
    parser.add_argument("--profile-month-end", action="store_true", help="cProfile the month end")
    args = parser.parse_args()

    month = date.fromisoformat(f"{args.month}-01")
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    if not 1 <= args.days <= days_in_month:
        parser.error(f"--days must be between 1 and {days_in_month} (the days of {args.month})")
    days = [month.replace(day=d) for d in range(1, args.days + 1)]
    every = args.trace_every
    traced = {i for i in range(1, args.days + 1) if every and (i == 1 or i % every == 0)}
    if every:
        traced.add(args.days)
    scenario = build_scenario(args.models, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{backend}; {args.models} models, {args.requests_per_day:,} requests/day, "
        f"{args.days} days of {args.month}; seed {args.seed}; tracemalloc on days "
        f"{', '.join(map(str, sorted(traced))) or 'none'}; load average {_load()}; "
        f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}, pandas {pd.__version__}, "
        f"numpy {np.__version__}, SQLAlchemy {sa.__version__}"
    )
    rss = PeakRss()
    if not rss.resettable:
        print("note: /proc/self/clear_refs is not writable: 'day peak RSS' is the process peak")
    figures: list[DayFigures] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, fresh_store(args.database_url, Path(tmp)) as store:
        stored = write_storage(store.home, scenario)
        print(
            f"{len(scenario.config.teams)} declared teams, {len(scenario.consumers)} consumer "
            f"teams ({UNDECLARED_TEAMS} undeclared), "
            f"{sum(1 for v in scenario.versions if len(v) > 1)} models with two live versions, "
            f"{int((scenario.traffic == 0).sum())} idle models, "
            f"{stored / 1e9:.0f} GB of (sparse) model files"
        )
        print("times marked * ran under tracemalloc (3-4x slower) and are left out of the summary")
        header = (
            "| day | log MiB | generate s | roll-up s (write) | usage rows | book_day s (CPU) "
            "| ledger rows | day peak RSS MiB | RSS after MiB | process peak RSS MiB "
            "| traced peak roll-up / book MiB | traced after MiB |"
            + (" month-to-date s | its peak RSS MiB |" if args.month_to_date else "")
        )
        print(header)
        print("|" + "---:|" * (header.count("|") - 1))
        for index, day in enumerate(days, start=1):
            figure = run_day(
                store,
                scenario,
                day,
                args.requests_per_day,
                rng,
                trace=index in traced,
                profile=index == args.profile_day,
                month_to_date=args.month_to_date,
                rss=rss,
            )
            figures.append(figure)
            if index % args.print_every == 0 or index in (1, len(days)) or figure.problems:
                print(_day_row(index, figure), flush=True)
            for problem in figure.problems:
                print(f"  PROBLEM {problem}", flush=True)
        rss.reset()
        run_month_end: Callable[[], tuple[dict[str, Phase], list[str], int]] = partial(
            month_end, store, scenario, month, days[-1], trace=False
        )
        if args.profile_month_end:
            run_month_end = profiled(run_month_end, "the month end")
        month_phases, month_problems, month_rows = run_month_end()
        month_rss = rss.since_reset()
        month_traced = month_end(store, scenario, month, days[-1], trace=True)[0] if every else None
    total = time.perf_counter() - started
    problems = [p for f in figures for p in f.problems] + month_problems
    _summary(figures, month_phases, month_traced, month_rss, month_rows, total, rss.process_peak())
    if problems:
        print(f"FAILED: {len(problems)} problem(s); first: {problems[0]}")
        raise SystemExit(1)
    print("OK: every day reconciled, every request charged, month allocated = incurred")


def _mib(value: int | None) -> str:
    return "—" if value is None else f"{value / MIB:.0f}"


def _day_row(index: int, f: DayFigures) -> str:
    star = "*" if f.traced else ""
    row = (
        f"| {index} ({f.day}) | {_mib(f.log_bytes)} | {f.generate.seconds:.2f}{star} "
        f"| {f.rollup.seconds:.2f}{star} ({f.write_seconds:.2f}) | {f.usage_rows:,} "
        f"| {f.book.seconds:.2f}{star} ({f.book.cpu:.2f}) | {f.ledger_rows:,} | {_mib(f.peak_rss)} | {_mib(f.rss)} "
        f"| {_mib(f.max_rss)} | {_mib(f.rollup.peak)} / {_mib(f.book.peak)} "
        f"| {_mib(f.traced_after)} |"
    )
    if f.month_to_date is not None:
        row += f" {f.month_to_date.seconds:.2f} | {_mib(f.month_to_date_rss)} |"
    return row


def _summary(
    figures: list[DayFigures],
    month_phases: dict[str, Phase],
    month_traced: dict[str, Phase] | None,
    month_rss: int,
    month_rows: int,
    total: float,
    process_peak: int,
) -> None:
    timed = [f for f in figures if not f.traced] or figures
    note = "" if any(not f.traced for f in figures) else " (all days traced: times inflated)"

    def spread(values: list[float], cpu: list[float] | None = None) -> str:
        text = (
            f"median {statistics.median(values):.2f} s, max {max(values):.2f} s, "
            f"min {min(values):.2f} s"
        )
        if cpu:
            text += f" (CPU median {statistics.median(cpu):.2f} s, max {max(cpu):.2f} s)"
        return text

    print(
        f"\nsummary: times over the {len(timed)} days of {len(figures)} run without "
        f"tracemalloc{note}; "
        f"load average {_load()}"
    )
    print(f"- log generation (not the product): {spread([f.generate.seconds for f in timed])}")
    rollup = [f.rollup.seconds for f in timed]
    print(f"- roll-up + replace_usage_day:      {spread(rollup, [f.rollup.cpu for f in timed])}")
    print(f"    of which replace_usage_day:     {spread([f.write_seconds for f in timed])}")
    book = [f.book.seconds for f in timed]
    verdict = "under" if max(book) < 10 else "OVER"
    book_cpu = [f.book.cpu for f in timed]
    print(
        f"- book_day (the allocation):        {spread(book, book_cpu)}: {verdict} the 10 s target"
    )
    if figures[0].month_to_date is not None:
        mtd = [f.month_to_date.seconds for f in figures if f.month_to_date]
        print(
            f"- the asset's month-to-date work:   day 1 {mtd[0]:.2f} s, day {len(mtd)} "
            f"{mtd[-1]:.2f} s (grows with the month); peak RSS day 1 "
            f"{_mib(figures[0].month_to_date_rss)} MiB, day {len(mtd)} "
            f"{_mib(figures[-1].month_to_date_rss)} MiB"
        )
    first = figures[0]
    log = first.log_bytes
    print(
        f"- one day's log frame: {_mib(log)} MiB (memory_usage(deep=True)); "
        f"{first.usage_rows:,} usage rows and {first.ledger_rows:,} ledger rows per day"
    )
    # RSS from the days without tracemalloc (its own tables would count otherwise).
    a, b = timed[0], timed[-1]
    n_a, n_b = figures.index(a) + 1, figures.index(b) + 1
    print(
        f"- day peak RSS (log + roll-up + booking; untraced days): day {n_a} {_mib(a.peak_rss)} "
        f"MiB, day {n_b} {_mib(b.peak_rss)} MiB, max {_mib(max(f.peak_rss for f in timed))} MiB; "
        f"RSS after day {n_a} {_mib(a.rss)} MiB, after day {n_b} {_mib(b.rss)} MiB"
    )
    traced = [f for f in figures if f.traced]
    if traced:
        t1, tn = traced[0], traced[-1]

        def day_peak(f: DayFigures) -> int:
            return max(f.generate.peak or 0, f.rollup.peak or 0, f.book.peak or 0)

        print(
            f"- traced peak of a day (allocated during it): day {figures.index(t1) + 1} "
            f"{_mib(day_peak(t1))} MiB, day {figures.index(tn) + 1} {_mib(day_peak(tn))} MiB "
            f"= {day_peak(tn) / log:.2f}× one day's log; book_day alone {_mib(t1.book.peak)} → "
            f"{_mib(tn.book.peak)} MiB; still allocated after the day {_mib(t1.traced_after)} → "
            f"{_mib(tn.traced_after)} MiB"
        )
    print(f"- month end ({month_rows:,} ledger rows), peak RSS {_mib(month_rss)} MiB:")
    for name, phase in month_phases.items():
        memory = ""
        if month_traced is not None:
            memory = f", traced peak {_mib(month_traced[name].peak)} MiB"
        print(f"    {name}: {phase.seconds:.2f} s{memory}")
    print(f"- peak RSS of the process {_mib(process_peak)} MiB; total wall time {total:.0f} s")


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
