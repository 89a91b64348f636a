"""Snapshot cost vs the floor: one pandas parquet write plus one sha256 pass over the file.

Issue target: on a 1,000,000-row, 25-column frame, `write_snapshot` takes at most 1.25x
(pandas `to_parquet` + `hashlib.sha256` of the written file), both measured in this run.
Also times `read_snapshot` (read + verify) against a plain `pd.read_parquet`.

    python benchmarks/snapshot_overhead.py [--rows 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from governance_pipelines.development.snapshot import read_snapshot, write_snapshot


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    columns: dict[str, object] = {f"num_{i}": rng.normal(size=rows) for i in range(15)}
    columns |= {f"int_{i}": rng.integers(0, 10_000, rows) for i in range(5)}
    columns |= {
        f"cat_{i}": pd.Categorical(rng.choice([f"level_{j}" for j in range(12)], rows))
        for i in range(4)
    }
    columns["event_time"] = pd.date_range("2024-01-01", periods=rows, freq="s")
    return pd.DataFrame(columns)


def baseline(frame: pd.DataFrame, folder: Path) -> float:
    path = folder / "baseline.parquet"
    start = time.perf_counter()
    frame.to_parquet(path, index=False)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    elapsed = time.perf_counter() - start
    path.unlink()
    return elapsed


def snapshot(frame: pd.DataFrame, folder: Path) -> float:
    target = folder / "snapshots"
    start = time.perf_counter()
    write_snapshot(frame, target)
    elapsed = time.perf_counter() - start
    for file in target.iterdir():
        os.chmod(file, 0o644)
    shutil.rmtree(target)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    frame = make_frame(args.rows)
    print(
        f"frame: {args.rows:,} rows x {frame.shape[1]} columns, {frame.memory_usage(deep=True).sum() / 1e6:.0f} MB"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        baseline(frame, folder), snapshot(frame, folder)  # warm-up: page cache, imports
        base_times, snap_times = [], []
        for _ in range(args.repeats):  # interleaved so load drifts hit both equally
            base_times.append(baseline(frame, folder))
            snap_times.append(snapshot(frame, folder))
        manifest = write_snapshot(frame, folder / "kept")
        read_plain = statistics.median(
            _timed(lambda: pd.read_parquet(manifest.path)) for _ in range(args.repeats)
        )
        read_verified = statistics.median(
            _timed(lambda: read_snapshot(manifest.path, manifest.snapshot_id))
            for _ in range(args.repeats)
        )
        for file in (folder / "kept").iterdir():
            os.chmod(file, 0o644)

    base, snap = statistics.median(base_times), statistics.median(snap_times)
    print(f"file size: {manifest.byte_size / 1e6:.1f} MB")
    print(f"baseline (to_parquet + sha256 of file): median {base:.3f} s  {_spread(base_times)}")
    print(f"write_snapshot:                         median {snap:.3f} s  {_spread(snap_times)}")
    print(f"ratio snapshot / baseline: {snap / base:.2f}  (target <= 1.25)")
    print(
        f"read: plain read_parquet {read_plain:.3f} s, read_snapshot (+verify) {read_verified:.3f} s"
    )


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _spread(times: list[float]) -> str:
    return f"(min {min(times):.3f}, max {max(times):.3f}, n={len(times)})"


if __name__ == "__main__":
    main()
