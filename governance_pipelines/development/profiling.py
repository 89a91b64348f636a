"""A compact statistical profile of a data snapshot: what the training data looked like.

Model cards quote it years later, and reviewers use it to spot a suspicious column
(all nulls, one value, an implausible range) before a model is trained on it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

_TOP_VALUES = 5


@dataclass(frozen=True)
class ColumnProfile:
    column: str
    dtype: str
    nulls: int
    distinct: int
    mean: float | None = None
    std: float | None = None
    minimum: float | None = None
    p50: float | None = None
    maximum: float | None = None
    top_values: str | None = None


def profile_frame(frame: pd.DataFrame) -> list[ColumnProfile]:
    return [_profile_column(name, frame[name]) for name in frame.columns]


def _profile_column(name: str, series: pd.Series) -> ColumnProfile:
    nulls = int(series.isna().sum())
    distinct = int(series.nunique(dropna=True))
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.dropna().to_numpy(dtype=float)
        if values.size:
            return ColumnProfile(
                name,
                str(series.dtype),
                nulls,
                distinct,
                mean=float(values.mean()),
                std=float(values.std()),
                minimum=float(values.min()),
                p50=float(np.median(values)),
                maximum=float(values.max()),
            )
        return ColumnProfile(name, str(series.dtype), nulls, distinct)
    counts = series.value_counts(dropna=True).head(_TOP_VALUES)
    share = counts / max(len(series) - nulls, 1)
    top = ", ".join(f"{value} ({fraction:.0%})" for value, fraction in share.items())
    return ColumnProfile(name, str(series.dtype), nulls, distinct, top_values=top)


def profile_as_records(profiles: list[ColumnProfile]) -> list[dict[str, Any]]:
    return [asdict(p) for p in profiles]


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"
