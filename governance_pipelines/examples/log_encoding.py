"""How simulated requests are encoded in the `inference_log` table's columns.

Kept apart from `governance_pipelines.examples.traffic` so the simulator reads as a model
of traffic rather than of storage formats. `traffic.decode_features` is the inverse of
`features_json`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def uuid_like(rng: np.random.Generator, n: int) -> np.ndarray:
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


def features_json(frame: pd.DataFrame) -> np.ndarray:
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


def as_scores(raw: object, n: int, what: str) -> np.ndarray:
    """One float per request from a user callback, so a wrong-length output fails loudly.

    A two-column `predict_proba` result is accepted (the positive class is kept), because
    that is what most classifiers hand back.
    """
    scores = np.asarray(raw, dtype=float)
    if scores.ndim == 2 and scores.shape[1] == 2:
        scores = scores[:, 1]  # predict_proba output: keep the positive class
    scores = scores.reshape(-1)
    if scores.shape[0] != n:
        raise ValueError(f"{what} returned {scores.shape[0]} values for {n} requests")
    return scores
