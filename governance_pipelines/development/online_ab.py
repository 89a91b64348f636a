"""A/B evaluation of two live versions from the inference log's logged outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance_pipelines.config import ModelConfig
from governance_pipelines.development.ab_testing import ABTestResult, evaluate_ab_test
from governance_pipelines.development.specs import ab_test_spec


class OnlineEvaluationError(ValueError):
    """The inference log cannot support the requested comparison."""


def version_outcomes(log: pd.DataFrame, version: int, kpi: str) -> np.ndarray:
    """The KPI of every successful request a version served whose outcome is known."""
    rows = log[(log["model_version"] == version) & (log["status"] == "ok")]
    return rows[kpi].dropna().to_numpy(dtype=float)


def evaluate_versions(
    log: pd.DataFrame, model: ModelConfig, *, candidate: int, control: int
) -> ABTestResult:
    if candidate == control:
        raise OnlineEvaluationError("candidate and control must be different versions")
    kpi = model.ab_test.kpi
    arms = {
        name: version_outcomes(log, version, kpi)
        for name, version in (("control", control), ("candidate", candidate))
    }
    for name, outcomes in arms.items():
        if outcomes.size == 0:
            version = control if name == "control" else candidate
            raise OnlineEvaluationError(
                f"the inference log has no {kpi!r} outcomes for {model.name} v{version} ({name}); "
                "route traffic to it and wait for outcomes to arrive"
            )
    return evaluate_ab_test(arms["control"], arms["candidate"], ab_test_spec(model))
