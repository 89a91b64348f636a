"""The daily `usage_report` asset: who called the model, how much, and whether it grows.

Its WARN check flags requests from consumer teams `governance.yaml` does not declare (they
cannot be charged back, and an unknown caller of a model deserves a look), which the alert
sensor turns into a Slack message to the owners.
"""

from datetime import date
from functools import partial

import dagster as dg

from governance_pipelines import check_names
from governance_pipelines.config import GovernanceConfig, ModelConfig
from governance_pipelines.operations.usage_report import usage_day
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.daily_assets import DailyAsset, DailyVerdict, day_rows
from governance_pipelines.orchestration.markdown import markdown_table
from governance_pipelines.store import GovernanceStore


def usage_day_verdict(
    context: dg.AssetExecutionContext,
    store: GovernanceStore,
    model: ModelConfig,
    day: date,
    *,
    known_teams: frozenset[str],
) -> DailyVerdict:
    report = usage_day(
        model.name, day, day_rows(store, model, day), set(known_teams), store.usage(model.name)
    )
    figures = report.to_dict()
    unknown = report.unknown_consumers
    summary = (
        f"{report.requests} requests from {len(report.consumers)} consumer team(s)"
        if not unknown
        else f"{sum(unknown.values())} of {report.requests} requests came from undeclared "
        f"consumer team(s) {', '.join(sorted(unknown))}; declare them under teams: in "
        "governance.yaml (with a cost_center) or revoke their access"
    )
    metadata = {
        "requests": dg.MetadataValue.int(report.requests),
        "errors": dg.MetadataValue.int(report.errors),
        "unique_consumers": dg.MetadataValue.int(len(report.consumers)),
        "consumers": dg.MetadataValue.md(markdown_table(report.rows) or "none"),
        "unknown_consumers": ", ".join(sorted(unknown)) or "none",
    }
    for name in ("mean_latency_ms", "p95_latency_ms", "growth"):
        if figures[name] is not None:
            metadata[name] = dg.MetadataValue.float(round(float(figures[name]), 4))
    if figures["weeks_since_first_call"] is not None:
        metadata["weeks_since_first_call"] = dg.MetadataValue.int(figures["weeks_since_first_call"])
    return DailyVerdict(
        passed=not unknown,
        summary=summary,
        evidence=figures,
        metadata=metadata,
    )


def usage_asset(config: GovernanceConfig) -> DailyAsset:
    return DailyAsset(
        naming.USAGE_REPORT,
        check_names.CONSUMERS_KNOWN,
        "Every request of the day came from a consumer team declared in governance.yaml.",
        "Requests, errors, unique consumer teams and latency of the day per version and "
        "consumer team, with adoption (weeks since the first call, week-over-week growth).",
        partial(usage_day_verdict, known_teams=frozenset(t.name for t in config.teams)),
        deps=(naming.INFERENCE_LOG,),
        kinds=frozenset({"pandas"}),
    )
