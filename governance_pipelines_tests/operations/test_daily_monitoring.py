"""Which rows a day's monitors compare, and against what."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance_pipelines.config import ModelConfig
from governance_pipelines.operations.daily_monitoring import (
    current_frame,
    describe_performance,
    drift_policy,
    performance_by_version,
    served_version,
)

MODEL = ModelConfig.model_validate(
    {
        "name": "m",
        "owner": "a",
        "team": "t",
        "description": "d",
        "data": {
            "source": {"kind": "file", "path": "x.csv"},
            "target": "y",
            "features": ["x", "c"],
        },
        "training": {
            "estimator": {"class": "sklearn.linear_model.LogisticRegression"},
            "min_metric": 0.5,
        },
        "monitoring": {
            "drift_profile": "vertex",
            "drift_share_threshold": 0.3,
            "feature_thresholds": {"x": 0.2},
            "feature_methods": {"c": "jensenshannon"},
            "performance_tolerance": 0.05,
        },
    }
)


def _record(value: float) -> dict:
    """The parts of a run record (as train_model writes it) that monitoring reads."""
    return {
        "algorithm": {"type": "linear", "estimator": "e", "class": "m.E", "params": {}},
        "features": {"all": ["x", "c"], "numeric": ["x"], "categorical": ["c"]},
        "data": {"snapshot_id": "s" * 64},
        "artifact": {"sha256": "a" * 64},
        "evaluation": {"primary_metric": "roc_auc", "direction": "higher"},
        "metrics": {"roc_auc": value},
    }


def _day() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, 400).astype(float)
    good = np.clip(label * 0.6 + rng.normal(0.2, 0.1, 400), 0, 1)
    return pd.DataFrame(
        {
            "model_version": [1] * 300 + [2] * 100,
            "status": ["ok"] * 399 + ["error"],
            "x": rng.normal(size=400),
            "c": rng.choice(["a", "b"], 400),
            "prediction": np.r_[good[:300], rng.random(100)],
            "label": label,
            "requested_at": pd.Timestamp("2026-03-01T12:00:00Z"),
        }
    )


def test_the_most_served_version_is_compared() -> None:
    day = _day()
    assert served_version(day) == 1
    current = current_frame(day, ["x", "c"], 1)
    assert list(current.columns) == ["x", "c", "prediction"]
    assert len(current) == 300
    assert served_version(day.assign(status="error")) is None


def test_each_version_is_judged_against_its_own_validation_metric() -> None:
    results = performance_by_version(_day(), MODEL, {1: _record(0.95), 2: _record(0.95)})
    by_version = {r.version: r for r in results}
    assert not by_version[1].degraded  # a well-ranking score
    assert by_version[2].degraded  # random scores: AUC ~0.5, far below 0.95 - 0.05
    assert describe_performance(by_version[2]).startswith("v2: online roc_auc")
    assert (
        performance_by_version(_day(), MODEL, {1: _record(0.95)})[0].version == 1
    )  # unknown versions skipped


def test_drift_policy_follows_governance_yaml() -> None:
    policy = drift_policy(MODEL)
    assert policy.profile == "vertex"
    assert policy.drift_share == 0.3
    assert policy.overrides["x"].threshold == 0.2
    assert policy.overrides["c"].method == "jensenshannon"
