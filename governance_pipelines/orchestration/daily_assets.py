"""The one shape every daily monitoring asset has, and where its day's files live.

Every daily asset is partitioned by UTC day and judged by a WARN check: it computes the day
(a plain function returning a `DailyVerdict`), records the verdict in the governance store
(what the alert sensor and the nightly summary read) and returns it to Dagster with the
materialization it judges.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from governance_pipelines.config import GovernanceConfig, ModelConfig
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.verdicts import check_verdict
from governance_pipelines.store import GovernanceStore

MONITORING_CODE_VERSION = "1"


def daily_partitions(config: GovernanceConfig) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=config.schedules.monitoring_start_date.isoformat()
    )


def daily_check_spec(
    name: str,
    asset: dg.AssetKey,
    description: str,
    partitions: dg.DailyPartitionsDefinition,
    *,
    blocking: bool = False,
) -> dg.AssetCheckSpec:
    """A check recorded against its day, so the check page, the partition view and the run say
    which day passed or failed (an unpartitioned check on a partitioned asset shows "Partition
    —" and a Skipped twin of each result).

    Partition-scoped checks are a preview in Dagster 1.13; exactly that warning is silenced
    here, and a test pins the behaviour so an upgrade that changes it fails loudly.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Specifying a partitions_def on an AssetCheckSpec",
            category=dg.PreviewWarning,
        )
        return dg.AssetCheckSpec(
            name,
            asset=asset,
            description=description,
            partitions_def=partitions,
            blocking=blocking,
        )


def monitoring_folder(store: GovernanceStore, model: ModelConfig, kind: str) -> Path:
    folder = store.home / "monitoring" / model.name / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class DailyVerdict:
    """What one day's monitoring found: the check's verdict and the asset's metadata."""

    passed: bool
    summary: str
    evidence: dict[str, Any]
    metadata: dict[str, Any]
    version: int | None = None
    check_metadata: dict[str, Any] | None = None


DayCompute = Callable[[dg.AssetExecutionContext, GovernanceStore, ModelConfig, date], DailyVerdict]


@dataclass(frozen=True)
class DailyAsset:
    """A daily-partitioned monitoring asset with the WARN check that judges its day."""

    name: str
    check: str
    check_description: str
    description: str
    compute: DayCompute
    deps: tuple[str, ...] = ()
    kinds: frozenset[str] = frozenset({"numpy"})


def daily_asset(
    spec: DailyAsset,
    model: ModelConfig,
    partitions: dg.DailyPartitionsDefinition,
    common: dict[str, Any],
) -> dg.AssetsDefinition:
    """The one shape every daily asset has: compute the day, record the verdict (what the
    alert sensor watches) in the store, and return it with the materialization it judges."""
    key = naming.model_asset_key(model.name, spec.name)

    @dg.asset(
        key=key,
        deps=[naming.model_asset_key(model.name, dep) for dep in spec.deps],
        kinds=set(spec.kinds),
        check_specs=[daily_check_spec(spec.check, key, spec.check_description, partitions)],
        partitions_def=partitions,
        code_version=MONITORING_CODE_VERSION,
        description=spec.description,
        **common,
    )
    def daily_asset(
        context: dg.AssetExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.MaterializeResult:
        store = governance_store.store
        day = date.fromisoformat(context.partition_key)
        found = spec.compute(context, store, model, day)
        verdict = check_verdict(
            context,
            store,
            model_name=model.name,
            check_name=spec.check,
            passed=found.passed,
            summary=found.summary,
            evidence={"day": day.isoformat(), **found.evidence},
            severity="WARN",
            version=found.version,
            metadata=found.check_metadata,
        )
        return dg.MaterializeResult(metadata=found.metadata, check_results=[verdict])

    return daily_asset


def day_rows(store: GovernanceStore, model: ModelConfig, day: date) -> pd.DataFrame:
    path = monitoring_folder(store, model, "inference") / f"{day}.parquet"
    if not path.exists():
        raise dg.Failure(f"{model.name}/inference_log has no partition {day}; materialize it first")
    return pd.read_parquet(path)


def no_traffic() -> DailyVerdict:
    summary = "no successful requests this day: nothing to compare"
    return DailyVerdict(passed=True, summary=summary, evidence={}, metadata={"summary": summary})
