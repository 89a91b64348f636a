"""Per-model operations monitoring: daily inference-log ingestion, drift, performance, SLA.

Every monitoring asset is partitioned by UTC day. The day's validated requests are kept
as a parquet file beside the store; drift compares them with the reference profile of
the serving version's training rows, which is its own asset, computed once per version.
Each daily result is also a (WARN) asset check, stored in the governance store, which is
what the alert sensor watches.
"""

from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from governance_pipelines.config import GovernanceConfig, ModelConfig, expand_env
from governance_pipelines.operations.daily_monitoring import (
    current_frame,
    describe_performance,
    drift_policy,
    performance_by_version,
    reference_frame,
    served_version,
)
from governance_pipelines.operations.drift import compute_drift
from governance_pipelines.operations.drift_reference import ReferenceProfile
from governance_pipelines.operations.ingestion import validate_inference_batch
from governance_pipelines.operations.sla import sla_report
from governance_pipelines.operations.usage import usage_by_consumer
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.model_development import (
    materialized_version,
    review_version,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.training_data import model_owners
from governance_pipelines.orchestration.verdicts import check_verdict
from governance_pipelines.reporting import bar_chart, clauses, markdown_table
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.inference_log import read_inference_log

MONITORING_CODE_VERSION = "1"


def daily_partitions(config: GovernanceConfig) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=config.schedules.monitoring_start_date.isoformat()
    )


def monitoring_folder(store: GovernanceStore, model: ModelConfig, kind: str) -> Path:
    folder = store.home / "monitoring" / model.name / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def build_monitoring_definitions(
    config: GovernanceConfig, model: ModelConfig, partitions: dg.DailyPartitionsDefinition
) -> dg.Definitions:
    key = lambda name: naming.model_asset_key(model.name, name)  # noqa: E731
    common = {
        "group_name": model.name,
        "owners": model_owners(config, model),
        "tags": {"governance/model": model.name, "governance/team": model.team},
    }
    daily = {**common, "partitions_def": partitions, "code_version": MONITORING_CODE_VERSION}

    @dg.asset(
        key=key(naming.INFERENCE_LOG),
        kinds={"sql", "pandas"},
        check_specs=[
            dg.AssetCheckSpec(
                naming.INFERENCE_ROWS_VALID,
                asset=key(naming.INFERENCE_LOG),
                description="Every logged request of the day is well-formed (malformed rows are counted, never dropped).",
            )
        ],
        **daily,
    )
    def inference_log(
        context: dg.AssetExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.MaterializeResult:
        """One UTC day of the model's inference log, validated: well-formed requests are kept for
        the monitors; malformed ones (bad JSON, missing features, wrong types, unknown version)
        are counted by reason and kept aside for inspection. Also recounts usage per consumer."""
        store = governance_store.store
        day = _day(context)
        window = context.partition_time_window
        # Seal what has arrived for the day into the audit chain before reading it (a log
        # kept outside the store is not the store's to vouch for).
        sealed = (
            store.seal_inference_day(model.name, day, actor=naming.run_actor(context))
            if model.monitoring.inference_log_url is None
            else None
        )
        frame = read_inference_log(
            _log_engine(store, model), model.name, start=window.start, end=window.end
        )
        versions = store.list_model_versions(model.name)
        categorical = set(versions[-1].record["features"]["categorical"]) if versions else set()
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
        summary = (
            f"all {result.total} requests well-formed"
            if not rejected
            else f"{rejected} of {result.total} requests malformed: "
            + ", ".join(
                f"{reason} {count}" for reason, count in result.counts_by_reason.items() if count
            )
            + f"; see {rejected_path}"
        )
        return _daily_result(
            context,
            store,
            model,
            naming.INFERENCE_ROWS_VALID,
            passed=rejected == 0,
            summary=summary,
            day=day,
            version=None,
            evidence={"counts_by_reason": result.counts_by_reason, "total": result.total},
            metadata={
                "requests": dg.MetadataValue.int(result.total),
                "valid": dg.MetadataValue.int(len(result.valid)),
                "rejected": dg.MetadataValue.int(rejected),
                "rejected_share": dg.MetadataValue.float(result.rejected_share),
                "rejections": dg.MetadataValue.md(
                    markdown_table(
                        [{"reason": r, "rows": c} for r, c in result.counts_by_reason.items() if c]
                    )
                    if rejected
                    else "none"
                ),
                "path": dg.MetadataValue.path(str(folder / f"{day}.parquet")),
                "sealed": (
                    f"{sealed.rows} requests and {sealed.labels} labels sealed "
                    f"(sha256 {sealed.sha256[:12]}…)"
                    if sealed
                    else "nothing new to seal"
                    if model.monitoring.inference_log_url is None
                    else "not sealed: the log lives outside the governance store"
                ),
            },
        )

    @dg.asset(
        key=key(naming.REFERENCE_PROFILE),
        deps=[key(naming.MODEL_VERSION)],
        kinds={"numpy"},
        code_version=MONITORING_CODE_VERSION,
        **common,
    )
    def reference_profile(
        context: dg.AssetExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.MaterializeResult:
        """Reference statistics (sorted values, category counts) of the latest version's training
        rows and of its predictions on them, computed once per version so that daily drift never
        rescans the training data."""
        store = governance_store.store
        version = materialized_version(context, key(naming.MODEL_VERSION))
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

    @dg.asset(
        key=key(naming.DRIFT_REPORT),
        deps=[key(naming.INFERENCE_LOG), key(naming.REFERENCE_PROFILE)],
        kinds={"numpy"},
        check_specs=[
            dg.AssetCheckSpec(
                naming.NO_DATASET_DRIFT,
                asset=key(naming.DRIFT_REPORT),
                description="The share of drifted features (and predictions) stays below the threshold.",
            )
        ],
        **daily,
    )
    def drift_report(
        context: dg.AssetExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.MaterializeResult:
        """Data drift per feature and prediction drift for the day, against the serving version's
        training rows (Evidently-compatible tests by default; PSI always reported)."""
        store = governance_store.store
        day = _day(context)
        valid = _day_rows(store, model, day)
        version = served_version(valid)
        if version is None:
            return _no_traffic(context, store, model, naming.NO_DATASET_DRIFT, day)
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
            f"threshold {report.share_threshold:.2f})"
            + (f": {', '.join(drifted)}" if drifted else "")
        )
        if report.not_assessed:
            summary += f"; not assessed (fewer than {report.min_sample_size} values): " + ", ".join(
                report.not_assessed
            )
        if not report.enough_data:
            summary = f"{report.verdict}; {len(valid)} requests that day"
        # Too little traffic to judge fails the (WARN) check: "no drift" would be a claim
        # about data that was not there.
        passed = report.enough_data and not report.dataset_drift
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
        return _daily_result(
            context,
            store,
            model,
            naming.NO_DATASET_DRIFT,
            passed=passed,
            summary=summary,
            day=day,
            version=version,
            evidence={**report.to_dict(), "drifted": drifted},
            metadata={
                "version": dg.MetadataValue.int(version),
                "drift_share": dg.MetadataValue.float(round(report.drift_share, 4)),
                "dataset_drift": report.dataset_drift,
                "drifted_columns": ", ".join(drifted) or "none",
                "columns": dg.MetadataValue.md(markdown_table(rows)),
                "psi": dg.MetadataValue.md(
                    bar_chart(
                        "PSI per column (0.1 moderate, 0.25 significant)",
                        [
                            (c.column, float(c.psi), "drifted" if c.drifted else "")
                            for c in report.columns
                        ],
                    )
                ),
                **{
                    f"psi/{c.column}": dg.MetadataValue.float(round(float(c.psi), 4))
                    for c in report.columns
                },
            },
            check_metadata={"drift_share": dg.MetadataValue.float(round(report.drift_share, 4))},
        )

    @dg.asset(
        key=key(naming.MODEL_PERFORMANCE),
        deps=[key(naming.INFERENCE_LOG)],
        kinds={"numpy"},
        check_specs=[
            dg.AssetCheckSpec(
                naming.PERFORMANCE_WITHIN_TOLERANCE,
                asset=key(naming.MODEL_PERFORMANCE),
                description="The online metric on labelled requests stays within tolerance of validation.",
            )
        ],
        **daily,
    )
    def model_performance(
        context: dg.AssetExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.MaterializeResult:
        """The online metric of the day's requests whose ground truth has arrived, per version,
        compared with the version's validation metric (concept drift shows here)."""
        store = governance_store.store
        day = _day(context)
        valid = _day_rows(store, model, day)
        version = served_version(valid)
        if version is None:
            return _no_traffic(context, store, model, naming.PERFORMANCE_WITHIN_TOLERANCE, day)
        records = {v.version: v.record for v in store.list_model_versions(model.name)}
        results = performance_by_version(valid, model, records)
        headline = next(r for r in results if r.version == version)
        passed = not any(r.degraded for r in results)
        summary = "; ".join(describe_performance(r) for r in results)
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
        return _daily_result(
            context,
            store,
            model,
            naming.PERFORMANCE_WITHIN_TOLERANCE,
            passed=passed,
            summary=summary,
            day=day,
            version=version,
            evidence={**headline.to_dict(), "versions": [r.to_dict() for r in results]},
            metadata=metadata,
        )

    @dg.asset(
        key=key(naming.SLA_REPORT),
        deps=[key(naming.INFERENCE_LOG)],
        kinds={"numpy"},
        check_specs=[
            dg.AssetCheckSpec(
                naming.WITHIN_SLA,
                asset=key(naming.SLA_REPORT),
                description="Availability, error rate and latency percentiles meet the SLA in governance.yaml.",
            )
        ],
        **daily,
    )
    def sla(
        context: dg.AssetExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.MaterializeResult:
        """Availability, error rate and p50/p95/p99 latency of the day against the declared SLA."""
        store = governance_store.store
        day = _day(context)
        report = sla_report(_day_rows(store, model, day), model.sla, day=day)
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
        return _daily_result(
            context,
            store,
            model,
            naming.WITHIN_SLA,
            passed=report.passed,
            summary=summary,
            day=day,
            version=None,
            evidence=report.to_dict(),
            metadata={
                "requests": dg.MetadataValue.int(report.requests),
                **figures,
                "breaches": summary,
            },
        )

    return dg.Definitions(
        assets=[inference_log, reference_profile, drift_report, model_performance, sla]
    )


def _day(context: dg.AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)


def _log_engine(store: GovernanceStore, model: ModelConfig) -> sa.Engine:
    url = model.monitoring.inference_log_url
    return store.engine if url is None else sa.create_engine(expand_env(url))


def _day_rows(store: GovernanceStore, model: ModelConfig, day: date) -> pd.DataFrame:
    path = monitoring_folder(store, model, "inference") / f"{day}.parquet"
    if not path.exists():
        raise dg.Failure(f"{model.name}/inference_log has no partition {day}; materialize it first")
    return pd.read_parquet(path)


def _daily_result(
    context: dg.AssetExecutionContext,
    store: GovernanceStore,
    model: ModelConfig,
    check_name: str,
    *,
    passed: bool,
    summary: str,
    day: date,
    version: int | None,
    evidence: dict,
    metadata: dict,
    check_metadata: dict | None = None,
) -> dg.MaterializeResult:
    """The day's verdict (what the alert sensor watches) with the materialization it judges."""
    verdict = check_verdict(
        context,
        store,
        model_name=model.name,
        check_name=check_name,
        passed=passed,
        summary=summary,
        evidence={"day": day.isoformat(), **evidence},
        severity="WARN",
        version=version,
        metadata=check_metadata,
    )
    return dg.MaterializeResult(metadata=metadata, check_results=[verdict])


def _no_traffic(
    context: dg.AssetExecutionContext,
    store: GovernanceStore,
    model: ModelConfig,
    check_name: str,
    day: date,
) -> dg.MaterializeResult:
    summary = "no successful requests this day: nothing to compare"
    return _daily_result(
        context,
        store,
        model,
        check_name,
        passed=True,
        summary=summary,
        day=day,
        version=None,
        evidence={},
        metadata={"summary": summary},
    )
