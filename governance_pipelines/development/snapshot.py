"""Immutable, content-addressed data snapshots: the exact input data a run saw.

A snapshot is one parquet file named by the sha256 of its bytes, plus a JSON manifest.
The hash is computed while the file is written (no second pass over the data) and
re-checked on every read, so a snapshot that changed on disk is never used silently.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from governance_pipelines.canonical import file_sha256

_READ_ONLY = 0o444


class SnapshotError(Exception):
    """A snapshot cannot be written or trusted; the message names the file and the fix."""


class CorruptSnapshotError(SnapshotError):
    """The bytes on disk no longer hash to the snapshot's id."""


@dataclass(frozen=True)
class SnapshotManifest:
    snapshot_id: str
    path: str
    row_count: int
    column_count: int
    byte_size: int
    columns: dict[str, str]
    created_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


class _HashingSink(io.RawIOBase):
    """A write-only file that hashes every byte on its way to disk."""

    def __init__(self, target: io.BufferedWriter) -> None:
        self._target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        self.size += view.nbytes
        return self._target.write(view)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._target.flush()


def write_snapshot(frame: pd.DataFrame, directory: str | os.PathLike[str]) -> SnapshotManifest:
    """Write `frame` once as parquet, hashing as it goes; identical data reuses the same file.

    The index is not part of the snapshot: training data is identified by its columns and
    rows, and a RangeIndex vs a default index must not produce two different snapshots.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    temporary = folder / f".incoming-{uuid.uuid4().hex}.parquet"
    try:
        with open(temporary, "wb") as handle:
            sink = _HashingSink(handle)
            pq.write_table(table, sink)
        snapshot_id = sink.digest.hexdigest()
        final = folder / f"{snapshot_id}.parquet"
        if final.exists():
            temporary.unlink()
        else:
            os.chmod(temporary, _READ_ONLY)
            os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    manifest = SnapshotManifest(
        snapshot_id=snapshot_id,
        path=str(final),
        row_count=table.num_rows,
        column_count=table.num_columns,
        byte_size=sink.size,
        columns={name: str(dtype) for name, dtype in frame.dtypes.items()},
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    manifest_path = folder / f"{snapshot_id}.json"
    if not manifest_path.exists():
        manifest_path.write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def read_snapshot(
    path: str | os.PathLike[str], snapshot_id: str, *, columns: list[str] | None = None
) -> pd.DataFrame:
    """Read a snapshot back, refusing it unless its bytes still hash to `snapshot_id`."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(
            f"snapshot file {file} is missing; restore it from backup, or re-materialize the "
            "model's training_snapshot asset to take a new snapshot"
        ) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != snapshot_id:
        raise CorruptSnapshotError(
            f"snapshot file {file} is corrupt: its sha256 is {actual[:12]}…, expected "
            f"{snapshot_id[:12]}… — it was modified or damaged after it was written. Restore it "
            "from backup, or take a new snapshot (the old one stays recorded in the audit log)"
        )
    table = pq.read_table(pa.BufferReader(data), columns=columns)
    return table.to_pandas()


def verify_snapshot(path: str | os.PathLike[str], snapshot_id: str) -> bool:
    """True when the file exists and still hashes to its id (streamed, constant memory)."""
    return file_sha256(path) == snapshot_id
