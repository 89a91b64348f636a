"""From `governance.yaml` to the plain specs the development checks take.

The checks are pure functions over frozen dataclasses; this module is the single place
that decides how a model's declared settings map onto them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance_pipelines.config import ModelConfig
from governance_pipelines.development.ab_testing import ABTestSpec
from governance_pipelines.development.explainability import ExplainabilitySpec
from governance_pipelines.development.fairness import FairnessSpec, SensitiveAttribute
from governance_pipelines.development.leakage import LeakageSpec
from governance_pipelines.development.reproducibility import ReproducibilitySpec
from governance_pipelines.development.training_spec import TrainingSpec

_QUARTILES = (0.0, 0.25, 0.5, 0.75, 1.0)


def categorical_features(model: ModelConfig, frame: pd.DataFrame) -> tuple[str, ...]:
    """Features whose data is not numeric are one-hot encoded."""
    return tuple(
        name
        for name in model.data.features
        if name in frame.columns
        and (
            not pd.api.types.is_numeric_dtype(frame[name])
            or pd.api.types.is_bool_dtype(frame[name])
        )
    )


def training_spec(model: ModelConfig, frame: pd.DataFrame) -> TrainingSpec:
    training = model.training
    return TrainingSpec(
        task=training.task,
        target=model.data.target,
        features=tuple(model.data.features),
        estimator=training.estimator.class_path,
        params=training.estimator.params,
        categorical_features=categorical_features(model, frame),
        split_rule=training.split,
        time_column=model.data.time_column,
        test_size=training.test_size,
        seed=training.seed,
        primary_metric=training.metric,
        metric_threshold=training.min_metric,
    )


def leakage_spec(model: ModelConfig, spec: TrainingSpec) -> LeakageSpec:
    limits = model.validation
    return LeakageSpec(
        task=spec.task,
        target=spec.target,
        features=spec.features,
        categorical_features=spec.categorical_features,
        time_column=model.data.time_column if model.training.split == "time" else None,
        unchecked_time_column=model.data.time_column if model.training.split != "time" else None,
        max_single_feature_auc=limits.max_single_feature_auc,
        max_single_feature_correlation=limits.max_single_feature_correlation,
    )


def reproducibility_spec(model: ModelConfig) -> ReproducibilitySpec:
    tolerance = model.training.reproducibility_tolerance
    return ReproducibilitySpec(metric_tolerance=tolerance or None)


def explainability_spec(model: ModelConfig) -> ExplainabilitySpec:
    limits = model.validation
    return ExplainabilitySpec(
        metric=model.training.metric,
        n_repeats=limits.permutation_repeats,
        seed=model.training.seed,
        min_explained_share=limits.min_explained_share,
        prohibited_features=tuple(model.fairness.excluded_from_drivers),
        top_k=limits.top_k_drivers,
    )


def fairness_spec(model: ModelConfig, frame: pd.DataFrame) -> FairnessSpec:
    fairness = model.fairness
    attributes = tuple(
        SensitiveAttribute(
            column=name,
            bins=_bins(name, frame, fairness.bins.get(name)),
            max_demographic_parity_difference=fairness.max_demographic_parity_difference,
            max_equalized_odds_difference=fairness.max_equalized_odds_difference,
        )
        for name in model.data.sensitive_attributes
    )
    return FairnessSpec(attributes=attributes, min_group_size=fairness.min_group_size)


def _bins(name: str, frame: pd.DataFrame, declared: list[float] | None) -> tuple[float, ...] | None:
    if declared:
        return tuple(declared)
    column = frame[name] if name in frame.columns else None
    if column is None or not pd.api.types.is_numeric_dtype(column) or column.nunique() <= 10:
        return None
    edges = np.unique(np.quantile(column.dropna().to_numpy(dtype=float), _QUARTILES))
    return tuple(float(edge) for edge in edges)


def ab_test_spec(model: ModelConfig) -> ABTestSpec:
    settings = model.ab_test
    return ABTestSpec(
        kpi_type=settings.kpi_type,
        direction=settings.direction,
        alpha=settings.alpha,
        power=settings.power,
        min_samples_per_arm=settings.min_samples_per_arm,
        kpi_name=settings.kpi,
    )
