"""The JSON features payload of an inference-log row, decoded into typed columns.

One `json.loads` per row (stdlib, exact float round-trip), then one `pd.DataFrame` call;
type checks run per element only for columns pandas could not infer as numeric. A row is
given the reason it fails (unparsable, missing a declared feature, wrong type) and a detail
an on-call engineer can act on; values are shown shortened, never whole.
"""

from __future__ import annotations

import json
import math
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd


def reals(values: pd.Series, *, booleans: bool = False) -> np.ndarray:
    """Floats; values that are not real numbers (text, objects) become NaN.

    Booleans become NaN too unless `booleans` is set: a latency of `True` is a bug,
    while a boolean feature is a legitimate 0/1 input.
    """
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float) if booleans else np.full(len(values), np.nan)
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values.to_numpy(dtype=object)):
        if isinstance(value, Real) and (booleans or not isinstance(value, bool)):
            out[i] = float(value)
    return out


def shown(value: Any) -> str:
    """repr of a cell, with numpy scalars shown as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)


_UNPARSABLE = object()
_DECODE = json.JSONDecoder().decode  # skips json.loads' per-call argument handling
# `pd.api.types.infer_dtype` answers for columns that need no per-value type check.
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "boolean", "empty"})
_SCALAR_KINDS = _NUMBER_KINDS | {"string", "bytes", "decimal", "date", "datetime"}


def _loads(text: Any) -> Any:
    if text.__class__ is not str and not isinstance(text, str | bytes | bytearray):
        return _UNPARSABLE
    try:
        return _DECODE(text if isinstance(text, str) else bytes(text).decode("utf-8"))
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        return _UNPARSABLE


def _payload_problem(text: Any, payload: Any) -> str:
    if payload is not _UNPARSABLE:
        return f"features is a JSON {type(payload).__name__}, expected an object"
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return "features is null"
    if not isinstance(text, str | bytes | bytearray):
        return f"features is a {type(text).__name__}, expected JSON text"
    shown: str | bytes | bytearray
    if isinstance(text, str):
        shown = text if len(text) <= 60 else text[:57] + "..."
    else:  # bytes or bytearray: shortened with a bytes ellipsis
        shown = text if len(text) <= 60 else text[:57] + b"..."
    return f"features is not valid JSON: {shown!r}"


def decode_features(
    texts: np.ndarray, features: list[str], categorical: set[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Parse payloads into one row per text, with a reason/detail per text (None if fine).

    Rows that failed come back as all-NaN rows; callers keep rows whose reason is None.
    """
    n = len(texts)
    code = np.full(n, None, dtype=object)
    detail = np.full(n, None, dtype=object)
    required = frozenset(features)
    records: list[dict[str, Any]] = []
    for i, payload in enumerate(map(_loads, texts)):
        if not isinstance(payload, dict):
            code[i], detail[i] = "unparsable_features", _payload_problem(texts[i], payload)
            records.append({})
        elif not required <= payload.keys():
            missing = ", ".join(f for f in features if f not in payload)
            code[i], detail[i] = "missing_features", f"features lack {missing}"
            records.append({})
        else:
            records.append(payload)
    if n == 0:
        return pd.DataFrame(columns=features, index=pd.RangeIndex(0)), code, detail
    decoded = pd.DataFrame.from_records(records, columns=features, index=pd.RangeIndex(n))
    for name in features:
        column = decoded[name]
        numeric = name not in categorical
        if pd.api.types.is_bool_dtype(column) or (
            pd.api.types.is_numeric_dtype(column) and not numeric
        ):
            continue
        if pd.api.types.is_numeric_dtype(column):  # fast path: pandas inferred numbers
            bad = np.isinf(column.to_numpy(dtype=float))
        elif pd.api.types.infer_dtype(column, skipna=True) in (
            _NUMBER_KINDS if numeric else _SCALAR_KINDS
        ):  # fast path: a C-level scan proved every value has an acceptable type
            bad = np.isinf(reals(column, booleans=True)) if numeric else np.zeros(n, bool)
        else:
            check = _is_number_or_null if numeric else _is_scalar
            bad = np.fromiter((not check(v) for v in column.to_numpy(dtype=object)), bool, n)
        bad &= pd.isna(code)
        for row in np.flatnonzero(bad):
            expected = "a finite number" if numeric else "a scalar (text, number or bool)"
            code[row] = "wrong_type"
            detail[row] = f"feature {name!r} is {shown(column.iat[row])}, expected {expected}"
        if numeric and column.dtype == object:
            decoded[name] = reals(column.mask(bad, None), booleans=True)
    return decoded, code, detail


def _is_number_or_null(value: Any) -> bool:
    if value is None:
        return True  # a missing value, not a wrong type
    return isinstance(value, Real) and not (isinstance(value, float) and math.isinf(value))


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)
