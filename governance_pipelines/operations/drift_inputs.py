"""Column inputs for drift, normalised once so the statistics never care where they came from.

Drift compares columns that arrive as numpy arrays, pandas Series or pyarrow arrays (whole
or in parquet record batches). Every statistic needs one of two shapes: finite float64
values (nulls, NaN and ±inf dropped, as Evidently does per side) or ``CategoricalChunk``
dictionary codes, which are counted with ``np.bincount`` instead of hashing strings. This
module is the one place that knows the three libraries' quirks (zero-copy arrow buffers,
lazy ``pyarrow.compute`` imports), so the reference and the current window agree on types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class DriftInputError(ValueError):
    """Drift inputs are unusable (missing/empty column, wrong type); the message names the fix."""


@dataclass(frozen=True)
class CategoricalChunk:
    """Dictionary-encoded categorical values: ``codes`` index ``labels``; -1 means missing."""

    codes: np.ndarray
    labels: tuple[str, ...]


def _is_arrow(values: Any) -> bool:
    return type(values).__module__.startswith("pyarrow")


def _is_pandas(values: Any) -> bool:
    return type(values).__module__.startswith("pandas")


def is_numeric_column(values: Any) -> bool:
    """True for int/float columns (bools and strings are categorical, as in Evidently)."""
    if isinstance(values, CategoricalChunk):
        return False
    if _is_arrow(values):
        import pyarrow as pa

        return pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
    dtype = getattr(values, "dtype", None)
    if dtype is None:
        dtype = np.asarray(values).dtype
    return isinstance(dtype, np.dtype) and dtype.kind in "iuf"


def to_finite_float(values: Any) -> np.ndarray:
    """A float64 array with nulls, NaN and ±inf dropped (Evidently drops them per side)."""
    if _is_arrow(values):
        import pyarrow as pa

        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if not pa.types.is_float64(values.type):
            import pyarrow.compute as pc  # ~60 ms to import: only when a cast is needed

            values = pc.cast(values, pa.float64())
        array = _arrow_to_numpy(values, np.float64, np.nan)
    elif _is_pandas(values):
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    return array if finite.all() else array[finite]


def _arrow_to_numpy(array: Any, dtype: Any, null: Any) -> np.ndarray:
    """Zero-copy view of a primitive arrow array; ``Array.to_numpy`` would import pandas."""
    if array.null_count:
        import pyarrow.compute as pc

        array = pc.fill_null(array, null)
    width = np.dtype(dtype).itemsize
    return np.frombuffer(
        array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * width
    )


def _label(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def to_categorical(values: Any) -> CategoricalChunk:
    """Dictionary codes for a categorical column; nulls (and NaN floats) become -1."""
    if isinstance(values, CategoricalChunk):
        return values
    if _is_arrow(values):
        import pyarrow as pa

        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if not pa.types.is_dictionary(values.type):
            import pyarrow.compute as pc

            if pa.types.is_floating(values.type):
                values = pc.if_else(pc.is_nan(values), None, values)
            values = pc.dictionary_encode(values)
        indices = values.indices
        if not pa.types.is_signed_integer(indices.type):  # nulls: filled with -1 below
            indices = indices.cast(pa.int64())
        width = indices.type.bit_width // 8
        codes = _arrow_to_numpy(indices, np.dtype(f"i{width}"), -1)
        labels = tuple(_label(v) for v in values.dictionary.to_pylist())
        return CategoricalChunk(np.asarray(codes, dtype=np.int64), labels)
    if _is_pandas(values):
        import pandas as pd

        codes, uniques = pd.factorize(values)
        return CategoricalChunk(codes.astype(np.int64), tuple(_label(v) for v in uniques))
    array = np.asarray(values)
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        uniques, inverse = np.unique(array[finite], return_inverse=True)
        codes = np.full(array.shape[0], -1, dtype=np.int64)
        codes[finite] = inverse
        return CategoricalChunk(codes, tuple(_label(v) for v in uniques.tolist()))
    lookup: dict[Any, int] = {}
    codes = np.empty(array.shape[0], dtype=np.int64)
    for i, value in enumerate(array.tolist()):
        if value is None or (isinstance(value, float) and value != value):
            codes[i] = -1
        else:
            codes[i] = lookup.setdefault(_label(value), len(lookup))
    return CategoricalChunk(codes, tuple(lookup))


def frame_columns(frame: Any) -> list[str]:
    """Column names of a pandas DataFrame, pyarrow Table/RecordBatch or mapping."""
    if hasattr(frame, "column_names"):
        return list(frame.column_names)
    if _is_pandas(frame):
        return [str(c) for c in frame.columns]
    return list(frame.keys())


def frame_column(frame: Any, name: str) -> Any:
    """A frame's column (arrow tables by ``.column``, pandas and mappings by key)."""
    return frame.column(name) if hasattr(frame, "column_names") else frame[name]
