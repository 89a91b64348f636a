"""Explainability: permutation importance that must account for the model's performance.

Importance of feature *j* = the drop in the primary metric (oriented so that bigger is
better) when column *j* of the held-out rows is shuffled, averaged over ``n_repeats``
seeded shuffles (``sklearn.inspection.permutation_importance``). Working on raw input
columns — not one-hot outputs — keeps importances in the vocabulary of the feature
definitions in the model card.

The check asks whether those importances *explain* the performance:

    baseline = metric of the model on the held-out rows
    null     = metric of the same predictions shuffled across rows (mean over repeats):
               what is left when every feature is permuted jointly, i.e. when the inputs
               carry no information about which row they belong to (≈ 0.5 for AUC,
               ≈ the chance agreement for accuracy, ≈ a worse-than-mean RMSE)
    gain     = baseline - null                  (performance above the no-information level)
    explained_share = sum(max(importance_j, 0)) / gain

It fails when ``gain <= min_performance_gain`` (there is no performance to explain: the
model is no better than its own shuffled predictions), when ``explained_share`` is below
``min_explained_share`` (the single-feature drops leave most of the gain unattributed —
typically redundant, correlated features that substitute for each other, so the ranking
understates what drives the model), or when a feature declared not to be used (e.g. a
sensitive attribute) is among the top-k drivers with a positive importance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from governance_pipelines.development import metrics as metric_registry
from governance_pipelines.development.training import TrainedModel


class ExplainabilityError(ValueError):
    """Importance cannot be computed as declared (e.g. a score-based metric without scores)."""


@dataclass(frozen=True)
class ExplainabilitySpec:
    """Fields:
    metric: registry name; ``None`` uses the training run's primary metric.
    n_repeats, seed: permutation repeats and their seed (small and fixed → repeatable).
    min_explained_share: the least share of ``gain`` the importances must add up to.
    min_performance_gain: the least ``gain`` (metric units) worth explaining.
    prohibited_features: features that must not drive the model (sensitive attributes).
    top_k: how many top-ranked features count as "drivers".
    max_rows: subsample held-out rows (seeded) to bound the cost; ``None`` = all.
    """

    metric: str | None = None
    n_repeats: int = 5
    seed: int = 0
    min_explained_share: float = 0.5
    min_performance_gain: float = 0.0
    prohibited_features: tuple[str, ...] = ()
    top_k: int = 3
    max_rows: int | None = 2000

    def __post_init__(self) -> None:
        object.__setattr__(self, "prohibited_features", tuple(self.prohibited_features))


@dataclass(frozen=True)
class FeatureImportance:
    feature: str
    rank: int
    importance_mean: float
    importance_std: float


@dataclass(frozen=True)
class ExplainabilityResult:
    """Ranked importances plus the accounting that decides ``passed``.

    ``baseline_score``/``null_score`` are in the metric's own units (an RMSE stays an
    RMSE); ``performance_gain`` and importances are oriented so that positive = better.
    """

    passed: bool
    metric: str
    baseline_score: float
    null_score: float
    performance_gain: float
    explained_share: float | None
    importances: tuple[FeatureImportance, ...]
    findings: tuple[str, ...]

    @property
    def top_features(self) -> tuple[str, ...]:
        return tuple(item.feature for item in self.importances)

    def table(self) -> list[dict[str, Any]]:
        """Rows for a model card or ``MetadataValue.table``."""
        return [asdict(item) for item in self.importances]


def _score(metric: str, estimator: Any, x: pd.DataFrame, y: np.ndarray) -> float:
    definition = metric_registry.get_metric(metric)
    classes = getattr(estimator, "classes_", None)
    scores = estimator.predict_proba(x) if definition.needs_scores else None
    predictions = None if definition.needs_scores else estimator.predict(x)
    value = metric_registry.compute_metric(metric, y, predictions, scores, classes)
    return metric_registry.oriented(metric, value)


def explain_predictions(
    pipeline: Any,
    x: pd.DataFrame,
    y: pd.Series | np.ndarray,
    metric: str,
    spec: ExplainabilitySpec | None = None,
) -> ExplainabilityResult:
    """Permutation importance of ``pipeline`` on held-out ``x``/``y`` and the explanation check."""
    spec = spec or ExplainabilitySpec()
    definition = metric_registry.get_metric(metric)
    if definition.needs_scores and not hasattr(pipeline, "predict_proba"):
        raise ExplainabilityError(f"Metric {metric!r} needs predict_proba; choose a label metric.")
    y = np.asarray(y)
    rng = np.random.default_rng(spec.seed)
    if spec.max_rows is not None and len(x) > spec.max_rows:
        keep = np.sort(rng.choice(len(x), size=spec.max_rows, replace=False))
        x, y = x.iloc[keep], y[keep]
    baseline = _score(metric, pipeline, x, y)
    # Joint permutation of all features == shuffling the model's outputs across rows.
    classes = getattr(pipeline, "classes_", None)
    output = pipeline.predict_proba(x) if definition.needs_scores else pipeline.predict(x)
    null_values = []
    for _ in range(spec.n_repeats):
        shuffled = output[rng.permutation(len(output))]
        scores, labels = (shuffled, None) if definition.needs_scores else (None, shuffled)
        value = metric_registry.compute_metric(metric, y, labels, scores, classes)
        null_values.append(metric_registry.oriented(metric, value))
    null = float(np.nanmean(null_values))
    result = permutation_importance(
        pipeline,
        x,
        y,
        scoring=lambda est, xx, yy: _score(metric, est, xx, np.asarray(yy)),
        n_repeats=spec.n_repeats,
        random_state=spec.seed,
    )
    order = np.argsort(-result.importances_mean, kind="stable")
    importances = tuple(
        FeatureImportance(
            feature=str(x.columns[i]),
            rank=rank + 1,
            importance_mean=float(result.importances_mean[i]),
            importance_std=float(result.importances_std[i]),
        )
        for rank, i in enumerate(order)
    )
    gain = baseline - null
    explained = float(np.clip(result.importances_mean, 0.0, None).sum())
    share = explained / gain if gain > 0 else None
    findings: list[str] = []
    if not gain > spec.min_performance_gain:
        findings.append(
            f"The model's {metric} ({metric_registry.oriented(metric, baseline):.4g}) is no better "
            f"than its own predictions shuffled across rows ({metric_registry.oriented(metric, null):.4g}; "
            f"gain {gain:.4g} <= {spec.min_performance_gain:g}): there is no signal to explain."
        )
    elif share is not None and share < spec.min_explained_share:
        findings.append(
            f"Single-feature importances add up to {share:.0%} of the {metric} gain over the "
            f"no-information level (required {spec.min_explained_share:.0%}); the drivers are "
            "probably redundant or interacting features — inspect correlated groups."
        )
    drivers = [item for item in importances[: spec.top_k] if item.importance_mean > 0]
    for item in drivers:
        if item.feature in spec.prohibited_features:
            findings.append(
                f"Feature {item.feature!r} is declared not to be used but is driver #{item.rank} "
                f"(importance {item.importance_mean:.4g} {metric}); remove it and its proxies."
            )
    return ExplainabilityResult(
        passed=not findings,
        metric=metric,
        baseline_score=float(metric_registry.oriented(metric, baseline)),
        null_score=float(metric_registry.oriented(metric, null)),
        performance_gain=float(gain),
        explained_share=share,
        importances=importances,
        findings=tuple(findings),
    )


def explain_model(
    frame: pd.DataFrame, model: TrainedModel, spec: ExplainabilitySpec | None = None
) -> ExplainabilityResult:
    """Explain a trained model on its own held-out rows, with its primary metric by default."""
    spec = spec or ExplainabilitySpec()
    rows = frame.iloc[model.test_positions]
    metric = spec.metric or model.spec.primary_metric
    return explain_predictions(
        model.pipeline, rows[list(model.spec.features)], rows[model.spec.target], metric, spec
    )
