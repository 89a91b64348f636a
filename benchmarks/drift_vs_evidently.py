"""Benchmark `governance drift` against Evidently 0.7's DataDriftPreset, as whole processes.

Generates 1M reference × 1M current rows × 25 features (20 numeric, 5 categorical, some
shifted) as parquet under ``benchmarks/results/`` (git-ignored), runs both tools as
separate processes (interpreter start, reading, computing, printing), and reports median
wall time, peak RSS (``os.wait4`` rusage of each child), per-column agreement (test name,
verdict, statistic within 1e-9 relative) and a 20M-row current window memory check. The
two tools' runs are interleaved so that both see the same load on a shared machine.

Evidently is not a project dependency: it lives in its own venv (default
``benchmarks/.venv-evidently``, git-ignored), created on first use with
``pip install evidently==0.7.23 "pandas<3" pyarrow``.

    python benchmarks/drift_vs_evidently.py [--rows 1000000] [--repeats 3] [--big-rows 20000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
N_NUMERIC, N_CATEGORICAL = 20, 5
CATEGORICAL = [f"cat_{i}" for i in range(N_CATEGORICAL)]
EVIDENTLY_METHODS = {
    "K-S p_value": "ks",
    "Wasserstein distance (normed)": "wasserstein",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Jensen-Shannon distance": "jensenshannon",
}

EVIDENTLY_RUNNER = """
import json, sys
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
cats = [c for c in sys.argv[3].split(",") if c]
nums = [c for c in ref.columns if c not in cats]
dd = DataDefinition(numerical_columns=nums, categorical_columns=cats)
snap = Report([DataDriftPreset()]).run(
    Dataset.from_pandas(cur, data_definition=dd), Dataset.from_pandas(ref, data_definition=dd)
)
out = []
for m in snap.dict()["metrics"]:
    cfg = m["config"]
    if cfg.get("type", "").endswith("ValueDrift"):
        out.append({"column": cfg["column"], "method": cfg["method"],
                    "threshold": cfg["threshold"], "statistic": m["value"]})
print(json.dumps(out))
"""


def generate(path: Path, rows: int, shifted: bool, seed: int, chunk: int = 1_000_000) -> None:
    """Write a parquet file in row groups of ``chunk`` rows (bounded generation memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    rng = np.random.default_rng(seed)
    labels = [pa.array([f"c{j}" for j in range(k)]) for k in (2, 4, 8, 30, 200)]
    writer = None
    for start in range(0, rows, chunk):
        size = min(chunk, rows - start)
        cols: dict[str, object] = {}
        for i in range(N_NUMERIC):
            shift = 0.15 * (i % 4) if shifted and i < 8 else 0.0
            col = rng.normal(shift, 1.0 + (0.1 if shifted and i == 9 else 0.0), size)
            if i % 5 == 4:
                col = np.round(col * 10)  # a discretised feature
            if i == 19:
                col[rng.random(size) < 0.01] = np.nan
            cols[f"num_{i}"] = col
        for j, name in enumerate(CATEGORICAL):
            k = len(labels[j])
            p = np.ones(k) / k
            if shifted and j in (1, 3):
                p = np.linspace(1.0, 2.0, k)
                p /= p.sum()
            codes = rng.choice(k, size=size, p=p).astype(np.int32)
            cols[name] = pa.DictionaryArray.from_arrays(codes, labels[j])
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def run_measured(cmd: list[str]) -> tuple[float, float, str]:
    """Run via a tiny wrapper that reports the child's own ru_maxrss (per process)."""
    wrapper = (
        "import os,subprocess,sys,time,json;t=time.perf_counter();"
        "p=subprocess.Popen(sys.argv[1:]);_,s,u=os.wait4(p.pid,0);"
        "print(json.dumps([time.perf_counter()-t,u.ru_maxrss/1024,os.waitstatus_to_exitcode(s)]),"
        "file=sys.stderr)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=False
    )
    wall, rss, code = json.loads(proc.stderr.strip().splitlines()[-1])
    if code != 0:
        raise RuntimeError(f"{cmd[0]} failed ({code}): {proc.stderr[-2000:]}")
    return wall, rss, proc.stdout


def evidently_python() -> Path:
    venv = Path(os.environ.get("EVIDENTLY_VENV", HERE / ".venv-evidently"))
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "evidently==0.7.23", "pandas<3", "pyarrow"],
            check=True,
        )
    return python


def compare(ours: dict, theirs: list[dict]) -> tuple[float, bool, bool]:
    """(max relative statistic difference, all tests equal, all verdicts equal)."""
    by_column = {c["column"]: c for c in ours["columns"]}
    worst, same_test, same_verdict = 0.0, True, True
    for ev in theirs:
        mine = by_column[ev["column"]]
        method = EVIDENTLY_METHODS[ev["method"]]
        stat = float(ev["statistic"])
        drifted = (
            stat <= ev["threshold"]
            if method == "ks"
            else (
                stat < ev["threshold"] if method in ("chisquare", "z") else stat >= ev["threshold"]
            )
        )
        same_test &= method == mine["method"]
        same_verdict &= bool(drifted) == mine["drifted"]
        denom = max(abs(stat), 1e-300)
        worst = max(worst, abs(mine["statistic"] - stat) / denom)
        if method != mine["method"] or bool(drifted) != mine["drifted"]:
            print(f"  MISMATCH {ev['column']}: evidently {method} {stat} vs ours {mine}")
    return worst, same_test, same_verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--evidently-repeats", type=int, default=None)
    parser.add_argument("--big-rows", type=int, default=20_000_000, help="0 to skip")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    ref, cur = RESULTS / f"ref_{args.rows}.parquet", RESULTS / f"cur_{args.rows}.parquet"
    generate(ref, args.rows, shifted=False, seed=1)
    generate(cur, args.rows, shifted=True, seed=2)
    governance = shutil.which("governance") or str(Path(sys.executable).parent / "governance")
    ours_cmd = [governance, "drift", str(ref), str(cur), "--format", "json"]
    ours_cmd += ["--categorical", ",".join(CATEGORICAL)]
    runner = RESULTS / "evidently_runner.py"
    runner.write_text(EVIDENTLY_RUNNER)
    ev_cmd = [str(evidently_python()), str(runner), str(ref), str(cur), ",".join(CATEGORICAL)]

    # Interleaved (ours, evidently, ours, …) so that both see the same machine load: the
    # host is shared, and the ratio is only meaningful within one time window.
    ev_repeats = args.evidently_repeats or args.repeats
    ours_runs: list[tuple[float, float, str]] = []
    ev_runs: list[tuple[float, float, str]] = []
    for i in range(max(args.repeats, ev_repeats)):
        if i < args.repeats:
            ours_runs.append(run_measured(ours_cmd))
            print(f"  governance run {i + 1}: {ours_runs[-1][0]:.2f} s, {ours_runs[-1][1]:.0f} MiB")
        if i < ev_repeats:
            ev_runs.append(run_measured(ev_cmd))
            print(f"  evidently  run {i + 1}: {ev_runs[-1][0]:.2f} s, {ev_runs[-1][1]:.0f} MiB")
    worst, same_test, same_verdict = compare(json.loads(ours_runs[0][2]), json.loads(ev_runs[0][2]))
    ours_wall = statistics.median(r[0] for r in ours_runs)
    ev_wall = statistics.median(r[0] for r in ev_runs)
    ours_rss = max(r[1] for r in ours_runs)
    ev_rss = max(r[1] for r in ev_runs)
    frames_mib = (ref.stat().st_size, cur.stat().st_size)  # on-disk, for reference only
    in_memory = 2 * args.rows * (N_NUMERIC * 8 + N_CATEGORICAL * 4) / 2**20
    print(f"\n{args.rows:,} × {args.rows:,} rows × {N_NUMERIC + N_CATEGORICAL} features")
    print(f"{'tool':<12}{'median wall s':>15}{'peak RSS MiB':>15}{'runs':>6}")
    print(f"{'evidently':<12}{ev_wall:>15.2f}{ev_rss:>15.0f}{len(ev_runs):>6}")
    print(f"{'governance':<12}{ours_wall:>15.2f}{ours_rss:>15.0f}{len(ours_runs):>6}")
    print(f"speed-up {ev_wall / ours_wall:.1f}×, memory ratio {ev_rss / ours_rss:.1f}×")
    print(
        f"in-memory size of the two frames {in_memory:.0f} MiB (files {sum(frames_mib) / 2**20:.0f} MiB); "
        f"governance peak = {ours_rss / in_memory:.2f}× of it"
    )
    print(
        f"max relative statistic difference {worst:.3g}; tests equal {same_test}; verdicts equal {same_verdict}"
    )
    if args.big_rows:
        big = RESULTS / f"cur_{args.big_rows}.parquet"
        generate(big, args.big_rows, shifted=True, seed=3)
        wall, rss, _ = run_measured([*ours_cmd[:3], str(big), *ours_cmd[4:]])
        print(
            f"large window: {args.big_rows:,} current rows: wall {wall:.2f} s, peak RSS {rss:.0f} MiB"
        )


if __name__ == "__main__":
    main()
