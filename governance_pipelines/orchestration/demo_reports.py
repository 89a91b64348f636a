"""What the demo shows last: the month's showback and chargeback, and the model catalog.

The catalog is rebuilt after the simulated weeks so it shows their usage, cost and alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.operations.cost_booking import month_reconciliation, month_summary
from governance_pipelines.operations.cost_reports import format_report
from governance_pipelines.operations.showback import cost_report
from governance_pipelines.orchestration.catalog import model_catalog_key
from governance_pipelines.store import GovernanceStore


@dataclass(frozen=True)
class DemoCosts:
    month: str
    showback: str
    chargeback: str
    reconciliation: str
    reconciled: bool
    report: Path | None


def publish_catalog(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    run_config: dict[str, Any],
    tags: dict[str, str],
) -> bool:
    """Rebuild the catalog (and replay its samples) after the traffic was monitored."""
    result = job.get_subset(asset_selection={model_catalog_key()}).execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config, tags=tags
    )
    return result.success


def demo_costs(
    store: GovernanceStore, config: GovernanceConfig, *, days: int, today: date
) -> DemoCosts | None:
    """The month holding most of the simulated days, as `governance costs` prints it."""
    if days <= 0:
        return None
    middle = today - timedelta(days=(days + 1) // 2)
    month = middle.replace(day=1)
    summary = month_summary(store, month)
    if summary.through is None:
        return None
    ledger = summary.lines
    check = month_reconciliation(
        config,
        store,
        month,
        through=summary.through,
        since=config.schedules.monitoring_start_date,
        summary=summary,
    )
    currency = config.costs.currency
    report = store.home / "costs" / "reports" / f"{month:%Y-%m}.html"
    return DemoCosts(
        month=check.scope,
        showback=format_report(cost_report(ledger, "team", currency), "team", "table"),
        chargeback=format_report(cost_report(ledger, "consumer", currency), "consumer", "table"),
        reconciliation=check.summary(),
        reconciled=check.passed,
        report=report if report.is_file() else None,
    )
