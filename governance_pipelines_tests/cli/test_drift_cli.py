"""`governance drift`: happy paths (table, json, real subprocess) and every input error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from governance_pipelines.cli.drift import drift


def _table(n: int, shift: float, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "num": rng.normal(shift, 1, n),
            "code": rng.integers(0, 3, n),
            "cat": pa.array(rng.choice(["x", "y", "z"], n)),
        }
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    pq.write_table(_table(2000, 0.0, 1), ref)
    pq.write_table(_table(1500, 1.0, 2), cur)
    return ref, cur


def test_table_output(files):
    result = CliRunner().invoke(drift, [str(files[0]), str(files[1])])
    assert result.exit_code == 0, result.output
    assert "wasserstein" in result.output
    assert "DRIFT" in result.output


def test_json_output_and_fail_on_drift(files, tmp_path):
    args = [str(files[0]), str(files[1]), "--format", "json", "--categorical", "code"]
    result = CliRunner().invoke(drift, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) >= {"dataset_drift", "drift_share", "columns"}
    columns = {c["column"]: c for c in report["columns"]}
    assert columns["num"]["drifted"] is True
    assert columns["code"]["kind"] == "categorical"
    assert {"column", "method", "statistic", "threshold", "drifted"} <= set(columns["num"])
    pq.write_table(_table(1500, 3.0, 3).select(["num"]), tmp_path / "r1.parquet")
    pq.write_table(_table(1500, 0.0, 4).select(["num"]), tmp_path / "c1.parquet")
    failing = CliRunner().invoke(
        drift, [str(tmp_path / "r1.parquet"), str(tmp_path / "c1.parquet"), "--fail-on-drift"]
    )
    assert failing.exit_code == 1


def test_csv_and_profiles(files, tmp_path):
    csv_ref, csv_cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    pacsv.write_csv(pq.read_table(files[0]), csv_ref)
    pacsv.write_csv(pq.read_table(files[1]), csv_cur)
    for profile in ("auto", "evidently", "vertex", "sagemaker"):
        result = CliRunner().invoke(drift, [str(csv_ref), str(csv_cur), "--profile", profile])
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "file not found"),
        ("extension", "unknown file extension"),
        ("unreadable", "cannot read"),
        ("columns", "columns differ"),
        ("empty", "no rows"),
        ("categorical", "--categorical column(s) nope"),
        ("all_null", "no finite"),
    ],
)
def test_input_errors(files, tmp_path, case, message):
    ref, cur = files
    extra: list[str] = []
    if case == "missing":
        cur = tmp_path / "absent.parquet"
    elif case == "extension":
        cur = tmp_path / "cur.txt"
        cur.write_text("x")
    elif case == "unreadable":
        cur = tmp_path / "bad.parquet"
        cur.write_text("not parquet")
    elif case == "columns":
        cur = tmp_path / "fewer.parquet"
        pq.write_table(_table(100, 0, 5).select(["num", "code"]), cur)
    elif case == "empty":
        cur = tmp_path / "empty.parquet"
        pq.write_table(_table(100, 0, 5).slice(0, 0), cur)
    elif case == "categorical":
        extra = ["--categorical", "nope"]
    elif case == "all_null":
        cur = tmp_path / "nulls.parquet"
        table = _table(10, 0, 5)
        nulls = pa.array([None] * 10, type=pa.float64())
        pq.write_table(table.set_column(0, "num", nulls), cur)
    result = CliRunner().invoke(drift, [str(ref), str(cur), *extra])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ")
    assert message in lines[0]


def test_real_subprocess_without_heavy_imports(files):
    exe = shutil.which("governance") or str(Path(sys.executable).parent / "governance")
    result = subprocess.run(
        [exe, "drift", str(files[0]), str(files[1]), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["columns"]
    imported = result.stderr
    for heavy in ("dagster", "pandas", "sklearn", "scipy"):  # scipy: small-sample tests only
        assert f" {heavy}\n" not in imported
        assert f" {heavy}." not in imported
    help_result = subprocess.run(
        [exe, "drift", "--help"], capture_output=True, text=True, check=False
    )
    assert help_result.returncode == 0
    assert "--fail-on-drift" in help_result.stdout
