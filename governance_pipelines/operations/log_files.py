"""The files teams hand in (parquet, CSV, JSON lines), read into frames and written back.

Why a module of its own: an inference log exported by someone else's serving stack is the
first input of every monitor, and the ways a file goes wrong (a wrong suffix, a header
without `request_id`, line 40,112 cut in half, an id `007` read as the number 7) must each
get a message naming the file and the fix, before any row is judged. Row-level problems
are not raised here: they are the validator's (`ingestion.py`, `log_ingestion.py`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "FORMATS",
    "LogFileError",
    "LogIngestionError",
    "read_table",
    "require_columns",
    "table_format",
    "write_table",
]

FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")
_SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


class LogIngestionError(ValueError):
    """The ingestion cannot start (an undeclared model, a log kept outside the store)."""


class LogFileError(LogIngestionError):
    """The file as a whole cannot be read as a table of the contract's columns."""


def table_format(path: str | os.PathLike[str], given: str | None = None) -> str:
    """The file's format: `given` when set, else from its suffix."""
    if given is not None:
        if given not in FORMATS:
            raise LogFileError(f"unknown format {given!r}; use one of {', '.join(FORMATS)}")
        return given
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise LogFileError(
            f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; name the "
            f"file *.parquet, *.csv or *.jsonl, or pass --format ({', '.join(FORMATS)})"
        )
    return _SUFFIXES[suffix]


def read_table(
    path: str | os.PathLike[str],
    file_format: str | None = None,
    *,
    text_columns: Sequence[str] = (),
) -> tuple[pd.DataFrame, str]:
    """The file's rows (index 0..n-1, so a row's number is its position + 1) and its format.

    `text_columns` are read from CSV as text, so identifiers keep their exact spelling.
    """
    source = Path(path)
    if not source.exists():
        raise LogFileError(f"{path}: no such file; check the path")
    if not source.is_file():
        raise LogFileError(f"{path}: is not a file (a directory?); pass one file")
    chosen = table_format(path, file_format)
    try:
        if chosen == "parquet":
            frame = pd.read_parquet(source)
        elif chosen == "csv":
            frame = pd.read_csv(source, dtype=dict.fromkeys(text_columns, str))
        else:
            frame = _read_json_lines(source)
    except pd.errors.EmptyDataError:
        raise LogFileError(
            f"{path}: the file is empty; a CSV file needs at least its header line"
        ) from None
    except LogFileError:
        raise
    except (OSError, ValueError, ImportError) as error:  # pyarrow's errors subclass these
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise LogFileError(
            f"{path}: cannot be read as {chosen} ({first}); check the file, or pass --format "
            "if its suffix does not say what it holds"
        ) from None
    return frame.reset_index(drop=True), chosen


def _read_json_lines(path: Path) -> pd.DataFrame:
    """One JSON object per line (blank lines skipped); a broken line is named by number."""
    records: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise LogFileError(
                    f"{path}: line {number} is not valid JSON ({error}); JSON lines files hold "
                    "one complete JSON object per line"
                ) from None
            if not isinstance(record, dict):
                what = (
                    "an array: is the file one JSON array?"
                    if isinstance(record, list)
                    else (f"a JSON {type(record).__name__}")
                )
                raise LogFileError(
                    f"{path}: line {number} is {what}; JSON lines files hold one JSON object "
                    "per line (one row each)"
                )
            records.append(record)
    return pd.DataFrame.from_records(records)


def require_columns(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    required: Sequence[str],
    optional: Sequence[str],
    what: str,
) -> tuple[str, ...]:
    """Raise naming the file and the missing columns; return the columns that are ignored."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise LogFileError(
            f"{path}: lacks column(s) {', '.join(missing)} (found: {found}). {what} needs "
            f"{', '.join(required)}"
            + (f" (optional: {', '.join(optional)})" if optional else "")
            + "; rename or add the columns (see README, 'Sending your traffic: the "
            "inference-log contract')"
        )
    known = set(required) | set(optional)
    return tuple(str(c) for c in frame.columns if c not in known)


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write rows in the format of `path`'s suffix (rejected rows, for whoever fixes them).

    Parquet columns need one type, and rejected rows are exactly the ones whose cells have
    the wrong type, so mixed columns are written as text there.
    """
    chosen = table_format(path)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if chosen == "csv":
        frame.to_csv(target, index=False)
    elif chosen == "jsonl":
        frame.to_json(target, orient="records", lines=True, date_format="iso")
    else:
        _as_parquet_safe(frame).to_parquet(target, index=False)


def _as_parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = [
                None if _is_null(v) else v if isinstance(v, str) else str(v) for v in out[name]
            ]
    return out


def _is_null(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))
