"""Small purpose-built training sets, importable as `data.source.callable` in test configs."""

from __future__ import annotations

import numpy as np
import pandas as pd


def applicants(
    n_rows: int = 1200, seed: int = 0, leaky: bool = False, biased: bool = False
) -> pd.DataFrame:
    """Label depends on income and debt; `leaky` adds a copy of the label, `biased` ties it to gender."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["female", "male"], n_rows)
    income = rng.normal(0, 1, n_rows)
    debt = rng.normal(0, 1, n_rows)
    logit = -0.5 - 1.2 * income + 1.5 * debt + (2.5 * (gender == "male") - 1.25 if biased else 0)
    label = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {
            "income": income,
            "debt": debt,
            "region": rng.choice(["north", "south", "east"], n_rows),
            "gender": gender,
            "label": label,
        }
    )
    if leaky:
        frame["collections_flag"] = label + rng.normal(0, 0.05, n_rows)
    if biased:
        frame["gender_code"] = (gender == "male").astype(float)
    return frame
