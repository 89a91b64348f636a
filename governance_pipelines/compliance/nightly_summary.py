"""The nightly audit's summary: one message an owner can read on Slack in ten seconds.

What the day's monitoring said per model (ingestion, drift, performance, SLA) under the
headline of the integrity audit. The Dagster asset posts it; what it says is decided here.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from governance_pipelines import check_names
from governance_pipelines.operations.performance import PerformanceDay
from governance_pipelines.store.check_records import CheckResultRecord

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig
    from governance_pipelines.store import GovernanceStore

# The day's verdicts, by check, with the words the summary uses for them.
DAY_CHECKS = {
    check_names.INFERENCE_ROWS_VALID: "ingestion",
    check_names.NO_DATASET_DRIFT: "drift",
    check_names.PERFORMANCE_WITHIN_TOLERANCE: "performance",
    check_names.WITHIN_SLA: "SLA",
}


def nightly_summary(
    store: GovernanceStore, config: GovernanceConfig, day: date, headline: str
) -> str:
    """Markdown: the headline, then each model's verdicts for `day`."""
    lines = [f"Governance audit for {day}: {headline}", ""]
    for model in config.models:
        results = {r.check_name: r for r in store.latest_check_results(model.name)}
        today = {
            label: results[name]
            for name, label in DAY_CHECKS.items()
            if name in results and results[name].evidence.get("day") == day.isoformat()
        }
        lines.append(f"- *{model.name}*" + ("" if today else ": no monitoring results for the day"))
        lines += [
            f"  - {label}: {_status(result)} — {result.summary}" for label, result in today.items()
        ]
    return "\n".join(lines)


def _status(result: CheckResultRecord) -> str:
    if not result.passed:
        return "BREACH"
    if result.check_name != check_names.PERFORMANCE_WITHIN_TOLERANCE:
        return "ok"
    # A passed performance check without a measured value is waiting for labels; so is one
    # whose evidence is no `PerformanceDay` (a day without traffic stores only its day).
    try:
        measured = PerformanceDay.from_dict(result.evidence).value is not None
    except ValueError:
        measured = False
    return "ok" if measured else "pending (no labels yet)"
