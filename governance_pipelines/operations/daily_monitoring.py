"""How a model's declared monitoring settings turn into one day's drift, SLA and performance.

The daily assets are thin: they load a day of validated inference rows and hand them to
these functions, which decide what is compared with what.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance_pipelines.config import ModelConfig
from governance_pipelines.development.run_record import RunRecord
from governance_pipelines.development.training import TrainedModel
from governance_pipelines.operations.drift import ColumnOverride, DriftPolicy
from governance_pipelines.operations.performance import PerformanceDay, daily_performance

PREDICTION_COLUMN = "prediction"


def drift_policy(model: ModelConfig) -> DriftPolicy:
    monitoring = model.monitoring
    names = set(monitoring.feature_thresholds) | set(monitoring.feature_methods)
    overrides = {
        name: ColumnOverride(
            method=monitoring.feature_methods.get(name),
            threshold=monitoring.feature_thresholds.get(name),
        )
        for name in names
    }
    return DriftPolicy(
        profile=monitoring.drift_profile,
        drift_share=monitoring.drift_share_threshold,
        overrides=overrides,
        require_effect_size=monitoring.require_effect_size,
    )


def positive_scores(trained: TrainedModel, rows: pd.DataFrame) -> np.ndarray:
    """What the model serves as `prediction`: P(positive class), else the prediction."""
    return served_predictions(
        trained.pipeline, trained.spec.task, rows[list(trained.spec.features)]
    )


def served_predictions(pipeline: Any, task: str, features: pd.DataFrame) -> np.ndarray:
    """The `prediction` column's contract, for any fitted pipeline: the probability of the
    positive class for a classifier, the predicted value otherwise."""
    if task == "classification" and hasattr(pipeline, "predict_proba"):
        return np.asarray(pipeline.predict_proba(features), dtype=float)[:, -1]
    return np.asarray(pipeline.predict(features), dtype=float)


def reference_frame(frame: pd.DataFrame, trained: TrainedModel) -> pd.DataFrame:
    """The training rows' features plus the model's predictions on them (prediction drift)."""
    rows = frame.iloc[trained.train_positions]
    reference = rows[list(trained.spec.features)].reset_index(drop=True)
    reference[PREDICTION_COLUMN] = positive_scores(trained, rows)
    return reference


def served_version(valid: pd.DataFrame) -> int | None:
    """The version that answered most of the day's successful requests."""
    served = valid.loc[valid["status"] == "ok", "model_version"]
    return None if served.empty else int(served.value_counts().idxmax())


def current_frame(valid: pd.DataFrame, features: list[str], version: int) -> pd.DataFrame:
    rows = valid[(valid["model_version"] == version) & (valid["status"] == "ok")]
    current = rows[features].reset_index(drop=True)
    current[PREDICTION_COLUMN] = rows["prediction"].to_numpy(dtype=float)
    return current


def day_file(folder: Path, day: str, suffix: str = "parquet") -> Path:
    return folder / f"{day}.{suffix}"


def performance_by_version(
    valid: pd.DataFrame, model: ModelConfig, records: Mapping[int, Mapping[str, Any]]
) -> list[PerformanceDay]:
    """The day's online metric for every version that served it, each against its own
    validation metric (an A/B split or a canary serves several versions on one day)."""
    results: list[PerformanceDay] = []
    for version in sorted(int(v) for v in valid["model_version"].unique()):
        stored = records.get(version)
        if stored is None:
            continue
        record = RunRecord.from_dict(stored)
        results.extend(
            daily_performance(
                valid[valid["model_version"] == version],
                task=model.training.task,
                metric=record.evaluation.primary_metric,
                validation_value=record.primary_value
                if record.primary_value is not None
                else float("nan"),
                tolerance=model.monitoring.performance_tolerance,
                higher_is_better=record.evaluation.higher_is_better,
            )
        )
    return results


def describe_performance(result: PerformanceDay) -> str:
    coverage = f"label coverage {result.label_coverage:.0%}"
    if result.value is None:
        return f"v{result.version}: {result.metric} not measurable yet ({result.note}); {coverage}"
    return (
        f"v{result.version}: online {result.metric} {result.value:.4f} vs validation "
        f"{result.validation_value:.4f} (tolerance {result.tolerance}); {coverage}"
    )
