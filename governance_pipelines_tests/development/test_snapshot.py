"""Snapshots are content-addressed: same data, same id; any change, another id; damage is caught."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_pipelines.development.snapshot import (
    CorruptSnapshotError,
    SnapshotError,
    read_snapshot,
    verify_snapshot,
    write_snapshot,
)


def _frame(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "income": rng.normal(50_000, 10_000, rows),
            "age": rng.integers(18, 80, rows),
            "region": pd.Categorical(rng.choice(["north", "south"], rows)),
            "name": [f"applicant-{i}" for i in range(rows)],
            "applied": pd.date_range("2025-01-01", periods=rows, freq="h"),
        }
    )


def test_same_data_gives_the_same_snapshot(tmp_path: Path) -> None:
    first = write_snapshot(_frame(), tmp_path / "a")
    second = write_snapshot(_frame(), tmp_path / "b")
    assert first.snapshot_id == second.snapshot_id
    assert len(first.snapshot_id) == 64


def test_the_index_is_not_part_of_the_snapshot(tmp_path: Path) -> None:
    shuffled_index = _frame().set_axis(range(1000, 1200))
    assert (
        write_snapshot(shuffled_index, tmp_path).snapshot_id
        == write_snapshot(_frame(), tmp_path).snapshot_id
    )


def test_writing_the_same_data_twice_reuses_the_file(tmp_path: Path) -> None:
    first = write_snapshot(_frame(), tmp_path)
    write_snapshot(_frame(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{first.snapshot_id}.json",
        f"{first.snapshot_id}.parquet",
    ]


def test_one_changed_cell_changes_the_id(tmp_path: Path) -> None:
    changed = _frame()
    changed.loc[117, "income"] += 0.01
    assert (
        write_snapshot(changed, tmp_path).snapshot_id
        != write_snapshot(_frame(), tmp_path).snapshot_id
    )


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.integers(-1000, 1000), min_size=1, max_size=30),
    position=st.integers(0, 29),
    delta=st.integers(1, 50),
)
def test_any_cell_change_changes_the_id(
    tmp_path_factory, values: list[int], position: int, delta: int
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    original = pd.DataFrame({"v": values})
    changed = original.copy()
    changed.loc[position % len(values), "v"] += delta
    assert (
        write_snapshot(original, folder).snapshot_id != write_snapshot(changed, folder).snapshot_id
    )


def test_read_back_returns_the_same_frame_and_file_is_read_only(tmp_path: Path) -> None:
    manifest = write_snapshot(_frame(), tmp_path)
    back = read_snapshot(manifest.path, manifest.snapshot_id)
    pd.testing.assert_frame_equal(back, _frame())
    assert manifest.row_count == 200
    assert manifest.column_count == 5
    assert manifest.columns["region"] == "category"
    assert not os.stat(manifest.path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert verify_snapshot(manifest.path, manifest.snapshot_id)


def test_a_corrupted_file_is_detected_on_read(tmp_path: Path) -> None:
    manifest = write_snapshot(_frame(), tmp_path)
    path = Path(manifest.path)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptSnapshotError, match=r"is corrupt.*modified or damaged"):
        read_snapshot(path, manifest.snapshot_id)
    assert not verify_snapshot(path, manifest.snapshot_id)


def test_a_missing_file_says_how_to_recover(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="is missing; restore it"):
        read_snapshot(tmp_path / "gone.parquet", "0" * 64)
    assert not verify_snapshot(tmp_path / "gone.parquet", "0" * 64)


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    unsupported = pd.DataFrame({"x": [object(), object()]})
    with pytest.raises(Exception, match="object"):  # pyarrow's own conversion error
        write_snapshot(unsupported, tmp_path)
    assert list(tmp_path.iterdir()) == []
