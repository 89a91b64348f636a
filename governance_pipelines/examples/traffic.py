"""A production-traffic simulator: the inference log a deployed model would produce.

Drift monitoring, SLA checks, cost attribution and delayed-label performance tracking all
read an inference log. The demo has no production system, so this module fabricates one
that has the properties those monitors must cope with:

- a diurnal request pattern (peak ~14:00 UTC, trough ~02:00 UTC) and skewed usage across
  consumer teams (Zipf-like: the first team in `consumer_teams` sends the most traffic);
- log-normal latency (median ~35 ms, a little slower at peak load) with incident days
  (`latency_spike_days`) where latency and error rate jump;
- failed requests (`status == "error"`) that carry no prediction;
- labels that arrive late (`label_delay_days` after the request), so the most recent
  requests are still unlabelled;
- injected drift from `drift_from_day` onward, described by a small mapping (see
  `apply_drift`), so that feature drift shows — and, because `label_fn` is evaluated on
  the drifted features, so does the resulting shift in outcomes (e.g. the default rate).

Everything is vectorised and deterministic for a given seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from types import MappingProxyType

import numpy as np
import pandas as pd

from governance_pipelines.examples.credit import sample_defaults
from governance_pipelines.store.inference_log import COLUMNS

INFERENCE_LOG_COLUMNS: tuple[str, ...] = COLUMNS  # the inference_log table's columns, in order

# A plausible deterioration of the applicant pool for the credit demo: a downturn cuts
# incomes by 20%, debt ratios rise by 35%, rates rise 1.5 points, and a new broker deal
# switches 25% of drifted applications to the southeast region. With
# `credit_default_label_fn` the default rate rises from ~10% to ~17% (faster than
# linearly, through the debt-ratio hinge in `CreditRiskModel`). P(default | features) is
# unchanged: a well-specified model keeps its ranking and roughly its calibration, while
# the outcome-rate and feature-drift monitors fire.
CREDIT_DEMO_DRIFT: Mapping[str, float] = MappingProxyType(
    {
        "annual_income": 0.8,
        "debt_to_income": 1.35,
        "interest_rate+": 1.5,
        "region=southeast": 0.25,
    }
)

MEDIAN_LATENCY_MS = 35.0
LATENCY_SIGMA = 0.35
SPIKE_DAY_ERROR_MULTIPLIER = 5.0

_NO_DRIFT: Mapping[str, float] = MappingProxyType({})
# Relative request volume per UTC hour: 1 + 0.8·cos(2π(h − 14)/24), peak at 14:00.
_HOURLY_WEIGHTS = 1.0 + 0.8 * np.cos(2.0 * np.pi * (np.arange(24) - 14) / 24.0)
_HOURLY_SHARES = _HOURLY_WEIGHTS / _HOURLY_WEIGHTS.sum()
_SECONDS_PER_DAY = 86_400


def credit_default_label_fn(frame: pd.DataFrame, *, seed: int = 0) -> np.ndarray:
    """Default outcomes (0/1) for credit requests, from the same model as the training data.

    Uses `governance_pipelines.examples.credit.CREDIT_RISK_MODEL`, so drifted features
    (lower income, higher debt ratio) raise the true default rate after the drift day.
    Deterministic for a given frame and seed.
    """
    return sample_defaults(frame, np.random.default_rng(seed))


def apply_drift(frame: pd.DataFrame, drift: Mapping[str, float], *, seed: int = 0) -> pd.DataFrame:
    """Return a copy of `frame` with the drift described by `drift` applied to every row.

    Keys of `drift` say what to shift and how:

    - `"col"` (or `"col*"`): multiply a numeric column by the value — `0.8` means 20% lower;
    - `"col+"`: add the value to a numeric column — `"interest_rate+": 1.5`;
    - `"col=category"`: switch each row to `category` with probability value (0–1), so the
      category's share becomes `share + value · (1 − share)`.

    Integer columns stay integers (rounded). Unknown columns raise `ValueError`.
    """
    return _apply_drift(frame, drift, np.random.default_rng(seed), np.ones(len(frame), dtype=bool))


def _apply_drift(
    frame: pd.DataFrame,
    drift: Mapping[str, float],
    rng: np.random.Generator,
    rows: np.ndarray,
) -> pd.DataFrame:
    """`apply_drift` restricted to the rows where `rows` is true (dtypes are preserved)."""
    drifted = frame.copy()
    for key, amount in drift.items():
        if "=" in key:
            column, category = key.split("=", 1)
            _require_column(drifted, column, key)
            if not 0.0 <= amount <= 1.0:
                raise ValueError(f"drift {key!r}: a category share shift must be in [0, 1]")
            switch = rows & (rng.random(len(drifted)) < amount)
            values = drifted[column]
            if isinstance(values.dtype, pd.CategoricalDtype) and (
                category not in values.cat.categories
            ):
                values = values.cat.add_categories([category])
            drifted[column] = values.mask(switch, category)
            continue
        additive = key.endswith("+")
        column = key.rstrip("+*")
        _require_column(drifted, column, key)
        values = drifted[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise ValueError(
                f"drift {key!r}: column {column!r} is not numeric; use '{column}=<category>'"
            )
        original = values.to_numpy(dtype=float)
        shifted = np.where(rows, original + amount if additive else original * amount, original)
        if pd.api.types.is_integer_dtype(values):
            drifted[column] = np.round(shifted).astype(values.dtype)
        else:
            drifted[column] = shifted
    return drifted


def _require_column(frame: pd.DataFrame, column: str, key: str) -> None:
    if column not in frame.columns:
        raise ValueError(
            f"drift {key!r} names column {column!r}, which is not in the feature pool "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )


def _uuid_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` random version-4 UUID strings, built without a per-row Python loop."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hex_chars = np.frombuffer(raw.tobytes().hex().encode("ascii"), dtype="S1").reshape(n, 32)
    dashed = np.full((n, 36), b"-", dtype="S1")
    # 8-4-4-4-12 groups: (position in the dashed string, position in the hex, width).
    for target, source, width in ((0, 0, 8), (9, 8, 4), (14, 12, 4), (19, 16, 4), (24, 20, 12)):
        dashed[:, target : target + width] = hex_chars[:, source : source + width]
    return np.ascontiguousarray(dashed).view("S36").ravel().astype(str).astype(object)


def _features_json(frame: pd.DataFrame) -> np.ndarray:
    """One compact JSON object per row, with dates as ISO strings and NaN as null."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            naive = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ms]")
            # numpy's stubs leave None out of ArrayLike; at run time it is an object element.
            safe[column] = np.where(  # type: ignore[call-overload]
                np.isnat(naive), None, np.char.add(naive.astype(str), "Z").astype(object)
            )
        elif pd.api.types.is_datetime64_any_dtype(values):
            stamps = values.to_numpy()
            is_midnight = bool(np.all((stamps - stamps.astype("datetime64[D]")) == 0))
            text = stamps.astype("datetime64[D]" if is_midnight else "datetime64[ms]")
            safe[column] = np.where(np.isnat(stamps), None, text.astype(str).astype(object))
    if len(safe) == 0:
        return np.array([], dtype=object)
    lines = safe.to_json(orient="records", lines=True, date_format="iso").rstrip("\n")
    return np.array(lines.split("\n"), dtype=object)


def _as_scores(raw: object, n: int, what: str) -> np.ndarray:
    scores = np.asarray(raw, dtype=float)
    if scores.ndim == 2 and scores.shape[1] == 2:
        scores = scores[:, 1]  # predict_proba output: keep the positive class
    scores = scores.reshape(-1)
    if scores.shape[0] != n:
        raise ValueError(f"{what} returned {scores.shape[0]} values for {n} requests")
    return scores


def simulate_inference_log(
    model_name: str,
    version: int,
    features: pd.DataFrame,
    predict: Callable[[pd.DataFrame], np.ndarray],
    *,
    start: date,
    days: int,
    requests_per_day: int,
    consumer_teams: Sequence[str],
    drift_from_day: int | None = None,
    drift: Mapping[str, float] = _NO_DRIFT,
    label_fn: Callable[[pd.DataFrame], np.ndarray] | None = None,
    label_delay_days: int = 3,
    error_rate: float = 0.005,
    latency_spike_days: Sequence[int] = (),
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate `days` × `requests_per_day` inference requests to one model version.

    Each request samples a row (with replacement) from `features` — pass feature columns
    only, not the label — applies `drift` (see `apply_drift`) when the request falls on day
    `drift_from_day` (0-based, counted from `start`) or later, and is scored by `predict`
    (a probability/score per row; a two-column `predict_proba` output is accepted). Errors
    occur with probability `error_rate` (× 5 on spike days) and have a NaN prediction.
    Day indices in `latency_spike_days` are incident days: every request is ~1.6× slower
    and a third of them ~6× slower, which multiplies the day's p95 several times over.

    When `label_fn` is given it is called once on the (drifted) request features and its
    outcome becomes known `label_delay_days` after each request; outcomes not yet known at
    the end of the simulated window (midnight UTC after the last day) are NaN with a NaT
    `label_at`. Failed requests still get their label: the outcome happens regardless.

    Returns one row per request, sorted by `requested_at`, with exactly the columns in
    `INFERENCE_LOG_COLUMNS`.
    """
    if days < 1 or requests_per_day < 1:
        raise ValueError("days and requests_per_day must both be at least 1")
    if len(features) == 0:
        raise ValueError("the feature pool is empty; pass at least one feature row")
    if not consumer_teams:
        raise ValueError("consumer_teams must name at least one team")
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError(f"error_rate must be in [0, 1], got {error_rate}")
    if label_delay_days < 0:
        raise ValueError(f"label_delay_days must be >= 0, got {label_delay_days}")

    (rng_time, rng_rows, rng_team, rng_latency, rng_error, rng_drift, rng_id) = (
        np.random.default_rng(seed).spawn(7)
    )
    n = days * requests_per_day

    # Arrival times: a fixed number per day, hour by diurnal share, uniform within the hour.
    day = np.repeat(np.arange(days), requests_per_day)
    hour = rng_time.choice(24, size=n, p=_HOURLY_SHARES)
    seconds = day * _SECONDS_PER_DAY + hour * 3600 + rng_time.uniform(0.0, 3600.0, n)
    order = np.argsort(seconds, kind="stable")
    day, hour, seconds = day[order], hour[order], seconds[order]
    window_start = pd.Timestamp(start)
    window_start = (
        window_start.tz_localize("UTC")
        if window_start.tzinfo is None
        else window_start.tz_convert("UTC")
    )
    requested_at = window_start + pd.to_timedelta(np.round(seconds * 1e3), unit="ms")

    sampled = features.iloc[rng_rows.integers(0, len(features), n)].reset_index(drop=True)
    if drift_from_day is not None and drift:
        sampled = _apply_drift(sampled, drift, rng_drift, day >= drift_from_day)

    team_weights = 1.0 / np.arange(1, len(consumer_teams) + 1) ** 1.2
    consumer_team = np.asarray(list(consumer_teams), dtype=object)[
        rng_team.choice(len(consumer_teams), size=n, p=team_weights / team_weights.sum())
    ]

    spike = np.isin(day, np.asarray(list(latency_spike_days), dtype=int))
    load = _HOURLY_WEIGHTS[hour] / _HOURLY_WEIGHTS.max()
    latency_ms = MEDIAN_LATENCY_MS * np.exp(rng_latency.normal(0.0, LATENCY_SIGMA, n))
    latency_ms *= 0.9 + 0.25 * load
    tail = rng_latency.random(n) < 1.0 / 3.0
    spike_factor = np.where(tail, np.exp(rng_latency.normal(np.log(6.0), 0.5, n)), 1.6)
    latency_ms = np.where(spike, latency_ms * spike_factor, latency_ms).round(2)

    error_probability = np.where(
        spike, min(1.0, error_rate * SPIKE_DAY_ERROR_MULTIPLIER), error_rate
    )
    failed = rng_error.random(n) < error_probability
    prediction = _as_scores(predict(sampled), n, "predict")
    prediction = np.where(failed, np.nan, prediction)

    window_end = window_start + pd.Timedelta(days=days)
    label_at = requested_at + pd.Timedelta(days=label_delay_days)
    if label_fn is None:
        label = np.full(n, np.nan)
        label_known = np.zeros(n, dtype=bool)
    else:
        label = _as_scores(label_fn(sampled), n, "label_fn")
        label_known = np.asarray(label_at <= window_end)
        label = np.where(label_known, label, np.nan)

    return pd.DataFrame(
        {
            "request_id": _uuid_like(rng_id, n),
            "model_name": np.full(n, model_name, dtype=object),
            "model_version": np.full(n, int(version), dtype=np.int64),
            "requested_at": requested_at,
            "consumer_team": consumer_team,
            "latency_ms": latency_ms.astype(float),
            "status": np.where(failed, "error", "ok").astype(object),
            "features": _features_json(sampled),
            "prediction": prediction.astype(float),
            "label": label.astype(float),
            "label_at": label_at.where(label_known, pd.NaT),
        },
        columns=list(INFERENCE_LOG_COLUMNS),
    )


def decode_features(log: pd.DataFrame) -> pd.DataFrame:
    """Parse the `features` JSON column of an inference log back into a frame.

    Drift monitors need the request features as columns; JSON keeps the log schema fixed
    whatever the model's inputs are.
    """
    return pd.DataFrame([json.loads(text) for text in log["features"]], index=log.index)
