"""Weeks of simulated production traffic for the demo's production models.

Each model serves from its production version: requests sample rows of its training
snapshot and are scored by the real artifact. The credit model's applicant pool drifts
halfway through (incomes fall, debt ratios and rates rise, one region grows) and one day
has a latency incident; the clinical model sees a stable population.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from governance_pipelines.config import ModelConfig
from governance_pipelines.development.training import TrainedModel
from governance_pipelines.examples.traffic import (
    CREDIT_DEMO_DRIFT,
    credit_default_label_fn,
    simulate_inference_log,
)
from governance_pipelines.operations.daily_monitoring import positive_scores

CONSUMERS = ("underwriting", "collections", "marketing", "risk_reporting")


@dataclass(frozen=True)
class TrafficPlan:
    start: date
    days: int
    requests_per_day: int
    drift_from_day: int | None
    latency_spike_days: tuple[int, ...]


def plan_for(model: ModelConfig, *, today: date, days: int) -> TrafficPlan:
    drifting = model.name == "credit_default"
    return TrafficPlan(
        start=today - timedelta(days=days),
        days=days,
        requests_per_day=1_500 if drifting else 400,
        drift_from_day=days // 2 if drifting else None,
        latency_spike_days=(days // 3,) if drifting else (),
    )


def simulate_model_traffic(
    model: ModelConfig,
    version: int,
    frame: pd.DataFrame,
    trained: TrainedModel,
    plan: TrafficPlan,
    *,
    seed: int = 11,
) -> pd.DataFrame:
    features = frame[list(model.data.features)]
    drift = CREDIT_DEMO_DRIFT if plan.drift_from_day is not None else {}
    return simulate_inference_log(
        model.name,
        version,
        features,
        lambda rows: positive_scores(trained, rows),
        start=plan.start,
        days=plan.days,
        requests_per_day=plan.requests_per_day,
        consumer_teams=list(CONSUMERS),
        drift_from_day=plan.drift_from_day,
        drift=drift,
        label_fn=credit_default_label_fn
        if model.name == "credit_default"
        else _outcomes_from(trained),
        latency_spike_days=plan.latency_spike_days,
        seed=seed + zlib.crc32(model.name.encode()),  # distinct request ids per model
    )


def _outcomes_from(trained: TrainedModel):
    """Ground truth drawn from the model's own calibrated probabilities (a stable world)."""
    rng = np.random.default_rng(5)

    def labels(rows: pd.DataFrame) -> np.ndarray:
        return (rng.random(len(rows)) < positive_scores(trained, rows)).astype(float)

    return labels
