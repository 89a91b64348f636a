"""How a shadow candidate would have done on the very requests production answered.

A canary's A/B test compares outcomes of different requests; a shadow saw the same
requests, so the comparison is paired: per labelled request, the candidate's error and
production's error, and a paired t-test of their difference (scipy's `ttest_rel`). The
error is the Brier score (squared error of the positive-class probability) for a
classifier, the absolute error for a regressor. Without labels, how often the two agree
(same side of 0.5 for a classifier) and how far their scores are apart still tell whether
the candidate behaves like production.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["MIN_LABELLED", "ShadowComparison", "compare_shadow"]

MIN_LABELLED = 30  # fewer labelled pairs than this: no verdict, whatever the p-value
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class ShadowComparison:
    model_name: str
    shadow_versions: list[int]
    production_versions: list[int]
    scored: int  # shadow scores recorded
    errors: int  # requests the shadow failed to score
    compared: int  # both predictions present
    agreement: float | None  # classification: share with the same decision at 0.5
    mean_abs_difference: float | None
    labelled: int
    error_metric: str  # brier | absolute_error
    production_error: float | None
    shadow_error: float | None
    p_value: float | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_shadow(pairs: pd.DataFrame, model_name: str, task: str) -> ShadowComparison:
    """`pairs`: `store.shadow_log.read_shadow_pairs` rows of one model."""
    classification = task == "classification"
    both = pairs[(pairs["status"] == "ok")].dropna(
        subset=["shadow_prediction", "production_prediction"]
    )
    shadow = both["shadow_prediction"].to_numpy(dtype=float)
    production = both["production_prediction"].to_numpy(dtype=float)
    labelled = both.dropna(subset=["label"])
    label = labelled["label"].to_numpy(dtype=float)
    shadow_loss = _loss(labelled["shadow_prediction"].to_numpy(dtype=float), label, classification)
    production_loss = _loss(
        labelled["production_prediction"].to_numpy(dtype=float), label, classification
    )
    p_value = _paired_p_value(shadow_loss, production_loss)
    return ShadowComparison(
        model_name=model_name,
        shadow_versions=sorted(int(v) for v in pairs["model_version"].unique()),
        production_versions=sorted(int(v) for v in pairs["production_version"].unique()),
        scored=len(pairs),
        errors=int((pairs["status"] != "ok").sum()),
        compared=len(both),
        agreement=float(np.mean((shadow >= 0.5) == (production >= 0.5)))
        if classification and len(both)
        else None,
        mean_abs_difference=float(np.mean(np.abs(shadow - production))) if len(both) else None,
        labelled=len(labelled),
        error_metric="brier" if classification else "absolute_error",
        production_error=float(production_loss.mean()) if len(labelled) else None,
        shadow_error=float(shadow_loss.mean()) if len(labelled) else None,
        p_value=p_value,
        verdict=_verdict(len(labelled), shadow_loss, production_loss, p_value),
    )


def _loss(prediction: np.ndarray, label: np.ndarray, classification: bool) -> np.ndarray:
    return (prediction - label) ** 2 if classification else np.abs(prediction - label)


def _paired_p_value(shadow: np.ndarray, production: np.ndarray) -> float | None:
    if len(shadow) < 2:
        return None
    difference = shadow - production
    if np.allclose(difference, difference[0]):  # no spread: the test is undefined
        return None if difference[0] == 0 else 0.0
    p_value = float(stats.ttest_rel(shadow, production).pvalue)
    return None if math.isnan(p_value) else p_value


def _verdict(
    labelled: int, shadow: np.ndarray, production: np.ndarray, p_value: float | None
) -> str:
    if labelled < MIN_LABELLED:
        return f"not enough labelled requests yet ({labelled} of {MIN_LABELLED})"
    if p_value is None or p_value >= SIGNIFICANCE:
        return "no significant difference"
    return "shadow is better" if shadow.mean() < production.mean() else "shadow is worse"
