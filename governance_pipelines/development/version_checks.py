"""The validation gates every new model version must pass, as plain functions.

Each gate takes the version under review and returns a `CheckOutcome` (passed, a
one-line summary a reviewer can act on, and the evidence behind it). The Dagster layer
turns them into blocking asset checks; the store keeps the evidence for auditors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from governance_pipelines.check_names import (
    EXPLAINABLE,
    FAIR,
    METRIC_THRESHOLD,
    NO_LEAKAGE,
    REPRODUCIBLE,
)
from governance_pipelines.config import ModelConfig
from governance_pipelines.development import specs
from governance_pipelines.development.environment import json_safe
from governance_pipelines.development.explainability import explain_model
from governance_pipelines.development.fairness import FairnessError, assess_model_fairness
from governance_pipelines.development.leakage import check_leakage
from governance_pipelines.development.reproducibility import check_reproducibility
from governance_pipelines.development.run_record import RunRecord
from governance_pipelines.development.training import TrainedModel
from governance_pipelines.reporting import clauses


@dataclass(frozen=True)
class VersionUnderReview:
    """A registered version restored from its record and artifact, with its snapshot."""

    model: ModelConfig
    frame: pd.DataFrame
    trained: TrainedModel

    @property
    def record(self) -> dict[str, Any]:
        return self.trained.record


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    table: list[dict[str, Any]] = field(default_factory=list)


def metric_threshold(review: VersionUnderReview) -> CheckOutcome:
    record = RunRecord.from_dict(review.record)
    evaluation = record.evaluation
    metric, value, threshold = evaluation.primary_metric, evaluation.value, evaluation.threshold
    comparison = ">=" if evaluation.higher_is_better else "<="
    passed = evaluation.meets_threshold
    verdict = "meets" if passed else "does not meet"
    return CheckOutcome(
        METRIC_THRESHOLD,
        passed,
        f"held-out {metric} {_fmt(value)} {verdict} the required {comparison} {_fmt(threshold)}",
        {
            "metric": metric,
            "value": value,
            "threshold": threshold,
            "metrics": dict(record.metrics),
        },
    )


def no_leakage(review: VersionUnderReview) -> CheckOutcome:
    trained = review.trained
    result = check_leakage(
        review.frame,
        trained.train_positions,
        trained.test_positions,
        specs.leakage_spec(review.model, trained.spec),
    )
    return CheckOutcome(
        NO_LEAKAGE,
        result.passed,
        result.summary,
        {
            "findings": list(result.findings),
            "checked": list(result.checked),
            "not_checked": dict(result.not_checked),
            **json_safe(result.evidence),
        },
    )


def reproducible(review: VersionUnderReview) -> CheckOutcome:
    result = check_reproducibility(
        review.frame,
        review.record,
        specs.reproducibility_spec(review.model),
        original_artifact=review.trained.artifact,
    )
    if result.passed:
        summary = (
            "retrained from the record alone: identical test-set predictions"
            if result.identical_predictions
            else f"retrained from the record alone: metrics within {review.model.training.reproducibility_tolerance}"
        )
    else:
        summary = clauses(result.findings) or "the retrained model differs from the registered one"
    return CheckOutcome(
        REPRODUCIBLE,
        result.passed,
        summary,
        {
            "mode": result.mode,
            "identical_predictions": result.identical_predictions,
            "max_abs_prediction_difference": result.max_abs_prediction_difference,
            "metric_deltas": json_safe(result.metric_deltas),
            "environment_differences": list(result.environment_differences),
            "findings": list(result.findings),
        },
    )


def explainable(review: VersionUnderReview) -> CheckOutcome:
    result = explain_model(review.frame, review.trained, specs.explainability_spec(review.model))
    top = ", ".join(
        item.feature for item in result.importances[: review.model.validation.top_k_drivers]
    )
    share = "n/a" if result.explained_share is None else f"{result.explained_share:.0%}"
    summary = f"top drivers: {top}; importances explain {share} of the performance gain"
    return CheckOutcome(
        EXPLAINABLE,
        result.passed,
        summary if result.passed else clauses(result.findings),
        {
            "metric": result.metric,
            "baseline_score": result.baseline_score,
            "null_score": result.null_score,
            "performance_gain": result.performance_gain,
            "explained_share": result.explained_share,
            "findings": list(result.findings),
        },
        json_safe(result.table()),
    )


def fair(review: VersionUnderReview) -> CheckOutcome:
    attributes = review.model.data.sensitive_attributes
    if not attributes:
        return CheckOutcome(
            FAIR,
            True,
            "no sensitive attributes declared (data.sensitive_attributes): nothing to compare",
        )
    try:
        result = assess_model_fairness(
            review.frame, review.trained, specs.fairness_spec(review.model, review.frame)
        )
    except FairnessError as error:
        return CheckOutcome(FAIR, True, f"not assessed: {error}")
    gaps = ", ".join(
        f"{a.attribute}: parity gap {a.demographic_parity_difference:.3f}, odds gap {a.equalized_odds_difference:.3f}"
        for a in result.attributes
    )
    return CheckOutcome(
        FAIR,
        result.passed,
        gaps if result.passed else clauses(result.findings),
        {
            "attributes": [
                {
                    "attribute": a.attribute,
                    "demographic_parity_difference": a.demographic_parity_difference,
                    "equalized_odds_difference": a.equalized_odds_difference,
                    "max_demographic_parity_difference": a.max_demographic_parity_difference,
                    "max_equalized_odds_difference": a.max_equalized_odds_difference,
                    "passed": a.passed,
                }
                for a in result.attributes
            ],
            "findings": list(result.findings),
        },
        json_safe(result.table),
    )


VERSION_CHECKS: dict[str, tuple[Callable[[VersionUnderReview], CheckOutcome], str]] = {
    METRIC_THRESHOLD: (
        metric_threshold,
        "The held-out primary metric meets the threshold in governance.yaml.",
    ),
    NO_LEAKAGE: (
        no_leakage,
        "No train/test overlap, no single feature predicts the target implausibly well, no time "
        "leakage (with a time split; otherwise reported as not checked).",
    ),
    REPRODUCIBLE: (
        reproducible,
        "Retraining from the stored record alone reproduces the registered model.",
    ),
    EXPLAINABLE: (
        explainable,
        "Permutation importance explains the performance; excluded features are not top drivers.",
    ),
    FAIR: (
        fair,
        "Group metrics of sensitive attributes stay within the declared parity and equalized-odds limits.",
    ),
}


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)
