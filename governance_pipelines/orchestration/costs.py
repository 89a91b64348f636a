"""The daily `cost_allocation` asset: each day's costs booked into the FOCUS ledger.

Its blocking check reconciles the ledger to the cent (the day, the month so far, and the
imported bill when one is declared); a failed check stops whatever is downstream of the
ledger. Training and governance compute is measured here, from the Dagster instance's
step timings, because only the orchestrator knows how long each step ran.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg

from governance_pipelines import check_names
from governance_pipelines.config import GovernanceConfig
from governance_pipelines.operations.cost_allocation import Allocation
from governance_pipelines.operations.cost_booking import (
    BookedDay,
    ComputeHours,
    book_day,
    month_reconciliation,
    month_summary,
)
from governance_pipelines.operations.cost_reports import write_month_report
from governance_pipelines.operations.focus import BillError, focus_frame
from governance_pipelines.operations.showback import cost_report
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.daily_assets import daily_check_spec
from governance_pipelines.orchestration.markdown import markdown_table
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.verdicts import check_verdict
from governance_pipelines.store import GovernanceStore

COST_ALLOCATION = "cost_allocation"
_SECONDS_PER_HOUR = Decimal(3600)


def build_cost_definitions(
    config: GovernanceConfig, partitions: dg.DailyPartitionsDefinition
) -> dg.Definitions:
    return dg.Definitions(assets=[_cost_allocation_asset(config, partitions)])


def cost_allocation_key() -> dg.AssetKey:
    return naming.governance_asset_key(COST_ALLOCATION)


def _cost_allocation_asset(
    config: GovernanceConfig, partitions: dg.DailyPartitionsDefinition
) -> dg.AssetsDefinition:
    key = cost_allocation_key()

    @dg.asset(
        key=key,
        deps=[naming.model_asset_key(m.name, naming.INFERENCE_LOG) for m in config.models],
        partitions_def=partitions,
        group_name=naming.GOVERNANCE_GROUP,
        kinds={"sql", "parquet"},
        check_specs=[
            daily_check_spec(
                check_names.COSTS_RECONCILED,
                key,
                "Allocated equals incurred to the cent for the day and the month so far "
                "(and equals the imported bill when costs.bill is set).",
                partitions,
                blocking=True,
            )
        ],
    )
    def cost_allocation(
        context: dg.AssetExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.MaterializeResult:
        """One UTC day of every model's costs in FinOps FOCUS rows: serving (requests and
        request time), training and governance compute (Dagster step time), storage (bytes
        on disk), fixed and shared costs, charged to consumer teams by their requests. A
        re-run after late data books corrections; nothing booked is ever rewritten."""
        store = governance_store.store
        day = date.fromisoformat(context.partition_key)
        actor = naming.run_actor(context)
        hours = compute_hours(context.instance, config, day)
        booked = book_day(config, store, day, compute_hours=hours, actor=actor)
        path = _write_booking(store, config, booked)
        # The month so far, summed in the database: a day's run never loads the month's rows.
        month = month_summary(store, day)
        # Re-running an earlier day: the month so far still runs to its latest booked day.
        through = max(day, month.through or day)
        try:
            month_check = month_reconciliation(
                config,
                store,
                day,
                through=through,
                since=config.schedules.monitoring_start_date,
                summary=month,
            )
        except BillError as error:
            raise dg.Failure(str(error)) from None
        report = write_month_report(
            config,
            month.lines,
            through,
            store.home / "costs" / "reports",
            month_check,
            daily=month.daily,
            restated=month.restated,
        )
        passed = booked.reconciliation.passed and month_check.passed
        summary = f"{booked.reconciliation.summary()}; {month_check.summary()}"
        verdict = check_verdict(
            context,
            store,
            model_name=naming.GOVERNANCE_GROUP,
            check_name=check_names.COSTS_RECONCILED,
            passed=passed,
            summary=summary,
            evidence={
                "day": day.isoformat(),
                "day_check": booked.reconciliation.to_dict(),
                "month_check": month_check.to_dict(),
            },
        )
        return dg.MaterializeResult(
            metadata=_metadata(config, booked, month.lines, path, report),
            check_results=[verdict],
        )

    return cost_allocation


def compute_hours(
    instance: dg.DagsterInstance, config: GovernanceConfig, day: date
) -> dict[str, ComputeHours]:
    """Hours of each model's training step and of its other (check, monitoring) steps that
    fall within the UTC day, from the instance's step timings."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    seconds: dict[tuple[str, str], float] = {}
    prefixes = {f"{m.name}__": m.name for m in config.models}
    records = instance.get_run_records(
        filters=dg.RunsFilter(created_after=start - timedelta(days=1), created_before=end)
    )
    for record in records:
        for step in instance.get_run_step_stats(record.dagster_run.run_id):
            model = next((m for p, m in prefixes.items() if step.step_key.startswith(p)), None)
            if model is None or step.start_time is None or step.end_time is None:
                continue
            overlap = min(step.end_time, end.timestamp()) - max(step.start_time, start.timestamp())
            if overlap <= 0:
                continue
            kind = (
                "training" if step.step_key == f"{model}__{naming.MODEL_VERSION}" else "governance"
            )
            seconds[(model, kind)] = seconds.get((model, kind), 0.0) + overlap
    return {
        m.name: ComputeHours(
            training=Decimal(repr(seconds.get((m.name, "training"), 0.0))) / _SECONDS_PER_HOUR,
            governance=Decimal(repr(seconds.get((m.name, "governance"), 0.0))) / _SECONDS_PER_HOUR,
        )
        for m in config.models
    }


def _write_booking(
    store: GovernanceStore, config: GovernanceConfig, booked: BookedDay
) -> Path | None:
    """Each booking's rows as its own FOCUS parquet file: a restatement adds a file."""
    if booked.booking is None or not booked.booked:
        return None
    folder = store.home / "costs" / "focus" / booked.computed.day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"booking-{booked.booking.restatement:03d}.parquet"
    tags = {m.name: dict(m.labels) for m in config.models}
    focus_frame(booked.booked, tags).to_parquet(path, index=False)
    return path


def _metadata(
    config: GovernanceConfig,
    booked: BookedDay,
    month: Sequence[Allocation],
    path: Path | None,
    report: Path,
) -> dict[str, Any]:
    currency = config.costs.currency
    by_model = [
        {"model": name, "incurred": str(amount)}
        for name, amount in sorted(booked.computed.incurred_by_model().items())
    ]
    teams = [line.to_dict() for line in cost_report(month, "team", currency)]
    consumers = [line.to_dict() for line in cost_report(month, "consumer", currency)]
    booking = booked.booking
    return {
        "incurred": dg.MetadataValue.float(float(booked.computed.incurred)),
        "allocated": dg.MetadataValue.float(float(booked.computed.allocated)),
        "currency": currency,
        "booked_rows": dg.MetadataValue.int(len(booked.booked)),
        "booking": (
            "unchanged: nothing to book"
            if booking is None
            else f"restatement {booking.restatement}"
            if booking.restatement
            else "first booking"
        ),
        "incurred_by_model": dg.MetadataValue.md(markdown_table(by_model) or "none"),
        "month_showback": dg.MetadataValue.md(markdown_table(_money_columns(teams)) or "none"),
        "month_chargeback": dg.MetadataValue.md(
            markdown_table(_money_columns(consumers)) or "none"
        ),
        "month_report": dg.MetadataValue.path(str(report)),
        **({"path": dg.MetadataValue.path(str(path))} if path else {}),
    }


def _money_columns(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in line.items() if k != "currency"} for line in lines]
