"""Re-run a training from its record and compare with the original run.

"Reproducible" is declared per model, because it means different things:
    * exact (default, ``metric_tolerance=None``): the rerun's test-set output —
      probabilities when the model has them, else predictions — is bit-identical.
      Deterministic estimators with a fixed ``random_state`` meet this.
    * within tolerance: every recorded metric of the rerun is within
      ``metric_tolerance`` (absolute) of the original. For estimators that are
      legitimately non-deterministic (threaded GPU training, unseeded forests the team
      chose to accept), this is the honest claim.

The original output comes from, in order of preference: arrays the caller passes, the
original artifact (verified against its recorded sha256, then scored on the recomputed
test rows), or — with nothing else — the output hash in the record, which still proves
or disproves identity but cannot give a size of the difference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance_pipelines.development.environment import (
    capture_environment,
    diff_environments,
    output_sha256,
)
from governance_pipelines.development.model_artifact import load_artifact
from governance_pipelines.development.training import (
    TrainedModel,
    prediction_output,
    retrain_from_record,
)


@dataclass(frozen=True)
class ReproducibilitySpec:
    """``metric_tolerance=None`` demands identical predictions; a number accepts metric
    differences up to that absolute amount (e.g. 0.01 AUC)."""

    metric_tolerance: float | None = None


@dataclass(frozen=True)
class ReproducibilityResult:
    """Outcome of one re-run.

    ``max_abs_prediction_difference`` is None when the original output was not available
    (only its hash). For label outputs it is the share of differing labels.
    ``environment_differences`` explain, they do not fail the check.
    """

    passed: bool
    mode: str
    identical_predictions: bool
    max_abs_prediction_difference: float | None
    metric_deltas: dict[str, float]
    findings: tuple[str, ...]
    environment_differences: tuple[str, ...] = ()
    rerun_record: dict[str, Any] = field(default_factory=dict)


def _difference(original: np.ndarray, rerun: np.ndarray) -> float:
    if original.shape != rerun.shape:
        return math.inf
    if original.dtype.kind in "biuf" and rerun.dtype.kind in "biuf":
        return float(np.max(np.abs(original.astype(float) - rerun.astype(float)), initial=0.0))
    return float(np.mean(original != rerun)) if original.size else 0.0


def compare_runs(
    record: Mapping[str, Any],
    rerun: TrainedModel,
    spec: ReproducibilitySpec,
    original_output: np.ndarray | None = None,
) -> ReproducibilityResult:
    """Compare a rerun with the original record (and, if given, its test-set output)."""
    findings: list[str] = []
    if (record.get("data") or {}).get("fingerprint") != rerun.record["data"]["fingerprint"]:
        findings.append(
            "The rerun saw different data than the original (content fingerprint differs); "
            "re-run on the recorded snapshot "
            f"{(record.get('data') or {}).get('snapshot_id', 'unknown')!r}."
        )
    recorded_split = record.get("split") or {}
    if (
        recorded_split.get("test_positions_sha256")
        != rerun.record["split"]["test_positions_sha256"]
    ):
        findings.append("The recomputed train/test split differs from the recorded one.")
    rerun_output = rerun.comparable_output
    identical = output_sha256(rerun_output) == (record.get("predictions") or {}).get("sha256")
    difference = None
    if original_output is not None:
        difference = _difference(np.asarray(original_output), rerun_output)
        identical = difference == 0.0  # the arrays themselves outrank the recorded hash
    recorded_metrics = record.get("metrics") or {}
    deltas: dict[str, float] = {}
    for name, value in rerun.metrics.items():
        old = recorded_metrics.get(name)
        if old is None or value is None or math.isnan(value):
            continue
        deltas[name] = float(value) - float(old)
    if spec.metric_tolerance is None:
        mode = "exact"
        if not identical:
            size = "" if difference is None else f" (max abs difference {difference:.6g})"
            findings.append(
                f"Re-running from the record gave different test-set predictions{size}. Fix the "
                "estimator's random_state, or declare a metric tolerance if the estimator is "
                "non-deterministic by design."
            )
    else:
        mode = f"metrics within {spec.metric_tolerance:g}"
        missing = sorted(set(recorded_metrics) - set(deltas))
        if missing:
            findings.append(f"Metrics {missing} were recorded but could not be recomputed.")
        for name, delta in sorted(deltas.items()):
            if abs(delta) > spec.metric_tolerance:
                findings.append(
                    f"{name} moved by {delta:+.4g} on re-run, beyond the declared tolerance "
                    f"{spec.metric_tolerance:g}."
                )
    environment_now = rerun.record["environment"]
    differences = diff_environments(record.get("environment") or {}, environment_now)
    return ReproducibilityResult(
        passed=not findings,
        mode=mode,
        identical_predictions=identical,
        max_abs_prediction_difference=difference,
        metric_deltas=deltas,
        findings=tuple(findings),
        environment_differences=tuple(differences),
        rerun_record=rerun.record,
    )


def check_reproducibility(
    frame: pd.DataFrame,
    record: Mapping[str, Any],
    spec: ReproducibilitySpec | None = None,
    *,
    original_artifact: bytes | None = None,
    original_output: np.ndarray | None = None,
    repo_path: Path | str | None = None,
) -> ReproducibilityResult:
    """Retrain from ``record`` on ``frame`` (the recorded snapshot) and compare.

    ``original_artifact`` lets the check measure the size of a difference without the
    original arrays: the artifact is hash-verified, then scored on the rerun's test rows.
    """
    spec = spec or ReproducibilitySpec()
    rerun = retrain_from_record(frame, record, repo_path=repo_path)
    if original_output is None and original_artifact is not None:
        pipeline = load_artifact(original_artifact, record["artifact"]["sha256"])
        x_test = frame.iloc[rerun.test_positions][list(rerun.spec.features)]
        scores = pipeline.predict_proba(x_test) if rerun.scores is not None else None
        original_output = prediction_output(pipeline.predict(x_test), scores)
    return compare_runs(record, rerun, spec, original_output)


def check_model_reproducibility(
    frame: pd.DataFrame,
    model: TrainedModel,
    spec: ReproducibilitySpec | None = None,
    *,
    repo_path: Path | str | None = None,
) -> ReproducibilityResult:
    """Convenience: reproduce an in-memory run, comparing against its own outputs."""
    return check_reproducibility(
        frame, model.record, spec, original_output=model.comparable_output, repo_path=repo_path
    )


def current_environment_differences(record: Mapping[str, Any]) -> list[str]:
    """How today's interpreter and packages differ from the recorded ones (no retraining)."""
    return diff_environments(record.get("environment") or {}, capture_environment().to_dict())
