"""Reference statistics for drift detection, computed once and stored as their own asset.

The training (reference) data is large and immutable; the daily current window is not. So
everything drift needs from the reference — the sorted distinct finite values with their
counts (enough for *exact* KS and Wasserstein), the standard deviation, the decile PSI
edges, and the category counts — is captured once, serialised to an ``.npz`` blob, and
reused by every daily run. Distinct values with counts instead of the raw sorted column
keep exactness while shrinking discrete or rounded features to a few bytes.

Column inputs (numpy, pandas, pyarrow) are normalised to finite float64 arrays and
``CategoricalChunk`` (dictionary codes, counted with ``np.bincount``, never as strings).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from governance_pipelines.operations.psi import distinct_sorted, psi_edges_from_sorted

NUMERIC = "numeric"
CATEGORICAL = "categorical"
_FORMAT_VERSION = 1


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
    return frame.column(name) if hasattr(frame, "column_names") else frame[name]


@dataclass(frozen=True, eq=False)
class NumericReference:
    """Distinct finite reference values (sorted) with counts: enough for exact KS/Wasserstein."""

    name: str
    support: np.ndarray
    counts: np.ndarray
    std: float
    psi_edges: np.ndarray

    @property
    def n(self) -> int:
        return int(self.cumulative[-1])

    @property
    def kind(self) -> str:
        return NUMERIC

    @cached_property
    def cumulative(self) -> np.ndarray:
        """Running counts: reference values <= each support value (int64)."""
        return np.cumsum(self.counts, dtype=np.int64)

    @classmethod
    def from_values(cls, name: str, values: Any) -> NumericReference:
        finite = to_finite_float(values)
        if finite.size == 0:
            raise DriftInputError(
                f"reference column '{name}' has no finite values; drop it or fix the reference data"
            )
        std = float(np.std(finite))
        support, cumulative = distinct_sorted(np.sort(finite))
        # int32 counts: the profile is 12 bytes per distinct value instead of 16.
        kind = np.int32 if finite.size < 2**31 else np.int64
        if support.size == finite.size:  # all distinct (continuous): no diff needed
            counts = np.ones(support.size, dtype=kind)
        else:
            counts = np.diff(cumulative, prepend=0).astype(kind)
        built = cls(name, support, counts, std, psi_edges_from_sorted(support, cumulative))
        vars(built)["cumulative"] = cumulative  # seed the cached property: computed once
        return built

    def values(self) -> np.ndarray:
        """The sorted reference sample (only needed for small references)."""
        return np.repeat(self.support, self.counts)


@dataclass(frozen=True, eq=False)
class CategoricalReference:
    """Reference category labels and their counts (nulls excluded)."""

    name: str
    labels: tuple[str, ...]
    counts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def kind(self) -> str:
        return CATEGORICAL

    @classmethod
    def from_values(cls, name: str, values: Any) -> CategoricalReference:
        return cls.from_chunks(name, [values])

    @classmethod
    def from_chunks(cls, name: str, chunks: Iterable[Any]) -> CategoricalReference:
        merged: dict[str, int] = {}
        for values in chunks:
            chunk = to_categorical(values)
            valid = chunk.codes[chunk.codes >= 0]
            counts = np.bincount(valid, minlength=len(chunk.labels))
            for label, count in zip(chunk.labels, counts.tolist(), strict=True):
                if count:
                    merged[label] = merged.get(label, 0) + count
        if not merged:
            raise DriftInputError(
                f"reference column '{name}' has only missing values; drop it or fix the reference data"
            )
        return cls(name, tuple(merged), np.array(list(merged.values()), dtype=np.int64))


ColumnReference = NumericReference | CategoricalReference


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """Per-column reference statistics, computed once and serialisable (``to_bytes``/``save``)."""

    columns: tuple[ColumnReference, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnReference:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        categorical: Iterable[str] = (),
        columns: Sequence[str] | None = None,
    ) -> ReferenceProfile:
        """Profile a reference frame (pandas DataFrame, pyarrow Table or mapping of arrays).

        Numeric dtypes are numeric unless listed in ``categorical``; every other dtype
        (strings, bools, dictionaries) is categorical, as in Evidently's type inference.
        """
        return cls.from_source(as_source(frame), categorical, columns)

    @classmethod
    def from_source(
        cls,
        source: ColumnSource,
        categorical: Iterable[str] = (),
        columns: Sequence[str] | None = None,
    ) -> ReferenceProfile:
        """Profile a column source one column at a time (peak memory: one column)."""
        lazy = SourceReference.open(source, categorical, columns)
        return cls(tuple(lazy.column(name) for name in lazy.names))

    def to_bytes(self) -> bytes:
        """An ``.npz`` blob (no pickle): arrays per column plus a JSON header."""
        header: list[dict[str, Any]] = []
        arrays: dict[str, np.ndarray] = {}
        for i, col in enumerate(self.columns):
            if isinstance(col, NumericReference):
                header.append({"name": col.name, "kind": NUMERIC, "std": col.std})
                arrays[f"c{i}_support"] = col.support
                arrays[f"c{i}_psi_edges"] = col.psi_edges
            else:
                header.append({"name": col.name, "kind": CATEGORICAL, "labels": list(col.labels)})
            arrays[f"c{i}_counts"] = col.counts
        meta = json.dumps({"version": _FORMAT_VERSION, "columns": header}).encode()
        arrays["header"] = np.frombuffer(meta, dtype=np.uint8)
        buffer = io.BytesIO()
        # numpy's default, spelled out so the checker knows `arrays` cannot fill it; every
        # array is numeric, so nothing is pickled.
        np.savez_compressed(buffer, allow_pickle=True, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> ReferenceProfile:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            meta = json.loads(data["header"].tobytes().decode())
            if meta.get("version") != _FORMAT_VERSION:
                raise DriftInputError(
                    f"reference profile format {meta.get('version')} is not supported "
                    f"(expected {_FORMAT_VERSION}); rebuild the profile"
                )
            built: list[ColumnReference] = []
            for i, col in enumerate(meta["columns"]):
                counts = data[f"c{i}_counts"]
                if col["kind"] == NUMERIC:
                    built.append(
                        NumericReference(
                            col["name"],
                            data[f"c{i}_support"],
                            counts,
                            float(col["std"]),
                            data[f"c{i}_psi_edges"],
                        )
                    )
                else:
                    built.append(CategoricalReference(col["name"], tuple(col["labels"]), counts))
        return cls(tuple(built))

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> ReferenceProfile:
        return cls.from_bytes(Path(path).read_bytes())


@dataclass(frozen=True)
class SourceReference:
    """Reference statistics built on demand, one column at a time, for one-off comparisons
    (the CLI): a whole ``ReferenceProfile`` would keep every column's distinct values
    resident (~190 MB for 16 continuous 1M-row columns) for no benefit."""

    source: ColumnSource
    names: list[str]
    categorical: frozenset[str]

    @classmethod
    def open(
        cls,
        source: ColumnSource,
        categorical: Iterable[str] = (),
        columns: Sequence[str] | None = None,
    ) -> SourceReference:
        available = set(source.column_names())
        names = list(columns) if columns is not None else source.column_names()
        forced = frozenset(categorical)
        unknown = sorted((forced | set(names)) - available)
        if unknown:
            raise DriftInputError(
                f"column(s) {', '.join(unknown)} not in the reference data; "
                f"available: {', '.join(sorted(available))}"
            )
        return cls(source, names, forced)

    def column(self, name: str) -> ColumnReference:
        chunks = self.source.iter_column(name)
        if name not in self.categorical and self.source.is_numeric(name):
            parts = [to_finite_float(c) for c in chunks]
            values = parts[0] if len(parts) == 1 else np.concatenate(parts)
            return NumericReference.from_values(name, values)
        return CategoricalReference.from_chunks(name, chunks)


class ColumnSource(Protocol):
    """Column-wise access to a data set, so that only one column is ever resident: with a
    columnar file each column is read (in row-group sized chunks) only when processed."""

    def column_names(self) -> list[str]: ...

    def is_numeric(self, name: str) -> bool: ...

    def iter_column(self, name: str) -> Iterator[Any]: ...


@dataclass(frozen=True)
class FrameSource:
    """An in-memory frame (pandas, pyarrow Table or mapping of arrays) as a column source."""

    frame: Any

    def column_names(self) -> list[str]:
        return frame_columns(self.frame)

    def is_numeric(self, name: str) -> bool:
        return is_numeric_column(frame_column(self.frame, name))

    def iter_column(self, name: str) -> Iterator[Any]:
        yield frame_column(self.frame, name)


@dataclass(frozen=True)
class ParquetSource:
    """A parquet file read column by column in record batches (strings as dictionaries).

    The file is opened (footer parsed) once; string columns are read dictionary-encoded
    so categories are counted from integer codes. No ``pre_buffer``: it fetches a column's
    chunks of all row groups up front (8× slower, +150 MB on a 20-row-group column).
    """

    path: Path
    batch_size: int = 1 << 20

    @cached_property
    def _plain(self) -> Any:
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path, pre_buffer=False)

    @cached_property
    def _dictionary(self) -> Any:
        import pyarrow.parquet as pq

        text = [n for n in self.column_names() if not self.is_numeric(n)]
        return pq.ParquetFile(self.path, read_dictionary=text, pre_buffer=False)

    def column_names(self) -> list[str]:
        return list(self._plain.schema_arrow.names)

    def is_numeric(self, name: str) -> bool:
        import pyarrow as pa

        kind = self._plain.schema_arrow.field(name).type
        return pa.types.is_integer(kind) or pa.types.is_floating(kind)

    def iter_column(self, name: str) -> Iterator[Any]:
        handle = self._plain if self.is_numeric(name) else self._dictionary
        for batch in handle.iter_batches(batch_size=self.batch_size, columns=[name]):
            yield batch.column(0)


def as_source(data: Any) -> ColumnSource:
    """Wrap a frame as a ``ColumnSource`` (sources pass through unchanged)."""
    if hasattr(data, "iter_column"):
        return data
    return FrameSource(data)
