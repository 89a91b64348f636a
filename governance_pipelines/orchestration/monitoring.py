"""Per-model operations monitoring: daily inference-log ingestion, drift, performance, SLA.

Every monitoring asset is partitioned by UTC day. The day's validated requests are kept
as a parquet file beside the store; drift compares them with the reference profile of
the serving version's training rows, which is its own asset, computed once per version.
Each daily result is also a (WARN) asset check, stored in the governance store, which is
what the alert sensor watches.
"""

from datetime import date, datetime
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from governance_pipelines import check_names
from governance_pipelines.config import GovernanceConfig, ModelConfig, expand_env
from governance_pipelines.development.run_record import RunRecord
from governance_pipelines.operations.daily_monitoring import (
    current_frame,
    describe_performance,
    drift_policy,
    performance_by_version,
    reference_frame,
    served_version,
)
from governance_pipelines.operations.drift import DriftReport, compute_drift
from governance_pipelines.operations.drift_reference import ReferenceProfile
from governance_pipelines.operations.ingestion import validate_inference_batch
from governance_pipelines.operations.sla import sla_report
from governance_pipelines.operations.usage import usage_by_consumer
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.daily_assets import (
    MONITORING_CODE_VERSION,
    DailyAsset,
    DailyVerdict,
    daily_asset,
    day_rows,
    monitoring_folder,
    no_traffic,
)
from governance_pipelines.orchestration.markdown import bar_chart, markdown_table
from governance_pipelines.orchestration.model_context import (
    model_owners,
    model_tags,
    review_version,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.usage_monitoring import usage_asset
from governance_pipelines.reporting import clauses
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.inference_log import read_inference_log


def build_monitoring_definitions(
    config: GovernanceConfig, model: ModelConfig, partitions: dg.DailyPartitionsDefinition
) -> dg.Definitions:
    common = {
        "group_name": model.name,
        "owners": model_owners(config, model),
        "tags": model_tags(model),
    }
    specs = (*DAILY_ASSETS, usage_asset(config))
    daily = [daily_asset(spec, model, partitions, common) for spec in specs]
    return dg.Definitions(assets=[*daily, _reference_profile_asset(model, common)])


def _reference_profile_asset(model: ModelConfig, common: dict[str, Any]) -> dg.AssetsDefinition:
    version_key = naming.model_asset_key(model.name, naming.MODEL_VERSION)

    @dg.asset(
        key=naming.model_asset_key(model.name, naming.REFERENCE_PROFILE),
        ins={"model_version": dg.AssetIn(version_key)},
        kinds={"numpy"},
        code_version=MONITORING_CODE_VERSION,
        **common,
    )
    def reference_profile(
        context: dg.AssetExecutionContext,
        governance_store: GovernanceStoreResource,
        model_version: int,
    ) -> dg.MaterializeResult:
        """Reference statistics (sorted values, category counts) of the latest version's training
        rows and of its predictions on them, computed once per version so that daily drift never
        rescans the training data."""
        store = governance_store.store
        version = model_version
        review = review_version(store, model, version)
        frame = reference_frame(review.frame, review.trained)
        profile = ReferenceProfile.from_frame(
            frame, categorical=review.trained.spec.categorical_features
        )
        path = monitoring_folder(store, model, "reference") / f"v{version}.profile"
        profile.save(path)
        return dg.MaterializeResult(
            metadata={
                "version": dg.MetadataValue.int(version),
                "rows": dg.MetadataValue.int(len(frame)),
                "columns": ", ".join(profile.names),
                "path": dg.MetadataValue.path(str(path)),
            },
            data_version=dg.DataVersion(f"v{version}"),
        )

    return reference_profile


# --- the days -----------------------------------------------------------------------------


def ingest_day(
    context: dg.AssetExecutionContext, store: GovernanceStore, model: ModelConfig, day: date
) -> DailyVerdict:
    """Seal, read and validate the day; keep valid rows for the monitors, recount usage."""
    window = context.partition_time_window
    in_store = model.monitoring.inference_log_url is None
    # Seal what has arrived for the day into the audit chain before reading it (a log kept
    # outside the store is not the store's to vouch for).
    sealed = (
        store.seal_inference_day(model.name, day, actor=naming.run_actor(context))
        if in_store
        else None
    )
    frame = _read_day(store, model, window.start, window.end)
    versions = store.list_model_versions(model.name)
    categorical = (
        set(RunRecord.from_dict(versions[-1].record).features.categorical) if versions else set()
    )
    result = validate_inference_batch(
        frame,
        features=list(model.data.features),
        known_versions={v.version for v in versions},
        categorical=categorical,
        task=model.training.task,
    )
    folder = monitoring_folder(store, model, "inference")
    result.valid.to_parquet(folder / f"{day}.parquet")
    rejected_path = folder / f"{day}.rejected.parquet"
    if len(result.rejected):
        result.rejected.to_parquet(rejected_path)
    usage = usage_by_consumer(result.valid) if len(result.valid) else pd.DataFrame()
    store.replace_usage_day(model.name, day, usage.to_dict("records"))
    rejected = len(result.rejected)
    counts = {reason: count for reason, count in result.counts_by_reason.items() if count}
    summary = (
        f"all {result.total} requests well-formed"
        if not rejected
        else f"{rejected} of {result.total} requests malformed: "
        + ", ".join(f"{reason} {count}" for reason, count in counts.items())
        + f"; see {rejected_path}"
    )
    if sealed:
        seal = f"{sealed.rows} requests and {sealed.labels} labels sealed (sha256 {sealed.sha256[:12]}…)"
    else:
        seal = "nothing new to seal" if in_store else "not sealed: the log lives outside the store"
    table = [{"reason": r, "rows": c} for r, c in counts.items()]
    return DailyVerdict(
        passed=rejected == 0,
        summary=summary,
        evidence={"counts_by_reason": result.counts_by_reason, "total": result.total},
        metadata={
            "requests": dg.MetadataValue.int(result.total),
            "valid": dg.MetadataValue.int(len(result.valid)),
            "rejected": dg.MetadataValue.int(rejected),
            "rejected_share": dg.MetadataValue.float(result.rejected_share),
            "rejections": dg.MetadataValue.md(markdown_table(table) if rejected else "none"),
            "path": dg.MetadataValue.path(str(folder / f"{day}.parquet")),
            "sealed": seal,
        },
    )


def drift_day(
    context: dg.AssetExecutionContext, store: GovernanceStore, model: ModelConfig, day: date
) -> DailyVerdict:
    """Data and prediction drift of the day against the serving version's reference."""
    valid = day_rows(store, model, day)
    version = served_version(valid)
    if version is None:
        return no_traffic()
    profile_path = monitoring_folder(store, model, "reference") / f"v{version}.profile"
    if not profile_path.exists():
        raise dg.Failure(
            f"no reference profile for {model.name} v{version}; materialize "
            f"{model.name}/reference_profile while v{version} is the latest version"
        )
    report = compute_drift(
        ReferenceProfile.load(profile_path),
        current_frame(valid, list(model.data.features), version),
        drift_policy(model),
    )
    drifted = [c.column for c in report.columns if c.drifted]
    summary = (
        f"{len(drifted)} of {len(report.columns)} columns drifted (share {report.drift_share:.2f}, "
        f"threshold {report.share_threshold:.2f})" + (f": {', '.join(drifted)}" if drifted else "")
    )
    if report.not_assessed:
        summary += f"; not assessed (fewer than {report.min_sample_size} values): " + ", ".join(
            report.not_assessed
        )
    if not report.enough_data:
        summary = f"{report.verdict}; {len(valid)} requests that day"
    share = dg.MetadataValue.float(round(report.drift_share, 4))
    return DailyVerdict(
        # Too little traffic to judge fails the (WARN) check: "no drift" would be a claim
        # about data that was not there.
        passed=report.enough_data and not report.dataset_drift,
        summary=summary,
        evidence={**report.to_dict(), "drifted": drifted},
        version=version,
        metadata={
            "version": dg.MetadataValue.int(version),
            "drift_share": share,
            "dataset_drift": report.dataset_drift,
            "drifted_columns": ", ".join(drifted) or "none",
            **drift_tables(report),
        },
        check_metadata={"drift_share": share},
    )


def drift_tables(report: DriftReport) -> dict[str, Any]:
    """Per-column statistics as a Markdown table, a PSI chart and PSI figures that plot."""
    rows = [
        {
            "column": c.column,
            "method": c.method,
            "statistic": c.statistic,
            "threshold": c.threshold,
            "drifted": c.drifted,
            "effect": c.effect_size,
            "psi": c.psi,
            "psi_band": c.psi_band,
        }
        for c in report.columns
    ]
    bars = [(c.column, float(c.psi), "drifted" if c.drifted else "") for c in report.columns]
    return {
        "columns": dg.MetadataValue.md(markdown_table(rows)),
        "psi": dg.MetadataValue.md(
            bar_chart("PSI per column (0.1 moderate, 0.25 significant)", bars)
        ),
        **{
            f"psi/{c.column}": dg.MetadataValue.float(round(float(c.psi), 4))
            for c in report.columns
        },
    }


def performance_day(
    context: dg.AssetExecutionContext, store: GovernanceStore, model: ModelConfig, day: date
) -> DailyVerdict:
    """The online metric on the day's labelled requests, per serving version."""
    valid = day_rows(store, model, day)
    version = served_version(valid)
    if version is None:
        return no_traffic()
    records = {v.version: v.record for v in store.list_model_versions(model.name)}
    results = performance_by_version(valid, model, records)
    headline = next(r for r in results if r.version == version)
    metadata = {
        "version": dg.MetadataValue.int(version),
        "metric": headline.metric,
        "label_coverage": dg.MetadataValue.float(headline.label_coverage),
        "labelled": dg.MetadataValue.int(headline.labelled),
        "validation_value": dg.MetadataValue.float(headline.validation_value),
    }
    if headline.value is not None:
        metadata["value"] = dg.MetadataValue.float(headline.value)
    for result in results:
        if result.value is not None and result.version != version:
            metadata[f"value/v{result.version}"] = dg.MetadataValue.float(result.value)
    return DailyVerdict(
        passed=not any(r.degraded for r in results),
        summary=clauses(describe_performance(r) for r in results),
        evidence={**headline.to_dict(), "versions": [r.to_dict() for r in results]},
        version=version,
        metadata=metadata,
    )


def sla_day(
    context: dg.AssetExecutionContext, store: GovernanceStore, model: ModelConfig, day: date
) -> DailyVerdict:
    """Availability, error rate and latency percentiles of the day against the SLA."""
    report = sla_report(day_rows(store, model, day), model.sla, day=day)
    summary = "within SLA" if report.passed else clauses(report.breaches)
    if report.requests == 0:
        summary = "no requests this day"
    figures = {
        name: dg.MetadataValue.float(float(value))
        for name, value in (
            ("availability", report.availability),
            ("error_rate", report.error_rate),
            ("p50_latency_ms", report.p50_latency_ms),
            ("p95_latency_ms", report.p95_latency_ms),
            ("p99_latency_ms", report.p99_latency_ms),
        )
        if value is not None
    }
    return DailyVerdict(
        passed=report.passed,
        summary=summary,
        evidence=report.to_dict(),
        metadata={
            "requests": dg.MetadataValue.int(report.requests),
            **figures,
            "breaches": summary,
        },
    )


DAILY_ASSETS = (
    DailyAsset(
        naming.INFERENCE_LOG,
        check_names.INFERENCE_ROWS_VALID,
        "Every logged request of the day is well-formed (malformed rows are counted, never dropped).",
        "One UTC day of the model's inference log, sealed into the audit chain and validated: "
        "well-formed requests are kept for the monitors; malformed ones (bad JSON, missing "
        "features, wrong types, unknown version, bad predictions) are counted by reason and kept "
        "aside for inspection. Also recounts usage per consumer.",
        ingest_day,
        kinds=frozenset({"sql", "pandas"}),
    ),
    DailyAsset(
        naming.DRIFT_REPORT,
        check_names.NO_DATASET_DRIFT,
        "The share of drifted features (and predictions) stays below the threshold.",
        "Data drift per feature and prediction drift for the day, against the serving "
        "version's training rows (Evidently-compatible tests by default; PSI always reported).",
        drift_day,
        deps=(naming.INFERENCE_LOG, naming.REFERENCE_PROFILE),
    ),
    DailyAsset(
        naming.MODEL_PERFORMANCE,
        check_names.PERFORMANCE_WITHIN_TOLERANCE,
        "The online metric on labelled requests stays within tolerance of validation.",
        "The online metric of the day's requests whose ground truth has arrived, per version, "
        "compared with the version's validation metric (concept drift shows here).",
        performance_day,
        deps=(naming.INFERENCE_LOG,),
    ),
    DailyAsset(
        naming.SLA_REPORT,
        check_names.WITHIN_SLA,
        "Availability, error rate and latency percentiles meet the SLA in governance.yaml.",
        "Availability, error rate and p50/p95/p99 latency of the day against the declared SLA.",
        sla_day,
        deps=(naming.INFERENCE_LOG,),
    ),
)


def _read_day(
    store: GovernanceStore, model: ModelConfig, start: datetime, end: datetime
) -> pd.DataFrame:
    """The day's rows from the store, or from the model's own log database (an engine made
    for this read and disposed after it)."""
    url = model.monitoring.inference_log_url
    if url is None:
        return read_inference_log(store.engine, model.name, start=start, end=end)
    engine = sa.create_engine(expand_env(url))
    try:
        return read_inference_log(engine, model.name, start=start, end=end)
    finally:
        engine.dispose()
