"""Promotion latency when the artifact is re-hashed before every release decision.

Issue target: report the latency of `approvals.promote` for a version whose artifact is a
100 MB file, and how much of it is re-hashing the artifact (`measure_artifact` streams the
file through sha256 before the transaction, so a file swapped after approval is caught).

Setup, through the product API on a fresh SQLite store: a high-risk model (two approvals
required), one version whose artifact is a file of seeded random bytes registered with its
real sha256, a passed blocking (ERROR) result for each of the validation gates every
version needs (`REQUIRED_VERSION_CHECKS`) and approvals by two approvers. Then each
repeat runs, interleaved so that load drifts hit every figure alike:

* `canonical.file_sha256` of the artifact alone (the floor: what re-hashing costs);
* `promote(..., "staging")` — re-hashes, checks that no blocking check failed;
* `promote(..., "production")` — re-hashes, checks the gate and both approvals;
* `promote(..., "archived")` — no re-hashing (withdrawing is always allowed): the cost of
  a promotion's transaction, access record and bound audit events without the bytes.

The version thus cycles staging -> production -> archived, one real promotion each, with
its timeline and audit chain growing as in production use; every promotion is checked to
have happened (stage, approvals counted). By default the file is in the page cache (it was
just written), so hashing is CPU-bound; `--cold` evicts it (posix_fadvise DONTNEED)
before every hash and every hashing promotion, so the bytes come from disk.

    python benchmarks/promotion_latency.py [--mb 100] [--repeats 7] [--cold]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from governance_pipelines.canonical import file_sha256
from governance_pipelines.check_names import REQUIRED_VERSION_CHECKS
from governance_pipelines.compliance.integrity import verify_store
from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.security import approvals
from governance_pipelines.store import GovernanceStore

MODEL = "credit"
CONFIG_YAML = f"""
teams: [{{name: risk}}]
people:
  - {{name: alice, team: risk, roles: [data_scientist]}}
  - {{name: bob, team: risk, roles: [approver]}}
  - {{name: carol, team: risk, roles: [approver]}}
  - {{name: frank, team: risk, roles: [admin]}}
models:
  - name: {MODEL}
    owner: alice
    team: risk
    description: Default risk.
    labels: {{risk_tier: high}}
    data: {{source: {{kind: file, path: x.csv}}, target: y, features: [a]}}
    training: {{estimator: {{class: sklearn.linear_model.LogisticRegression}}, min_metric: 0.5}}
"""
CHECKS = REQUIRED_VERSION_CHECKS  # the validation gates production always requires
PROMOTER = "frank"


def write_artifact(path: Path, megabytes: int, seed: int = 11) -> int:
    """`megabytes` × 10^6 seeded random bytes (incompressible, like a serialised model)."""
    rng = random.Random(seed)
    size = megabytes * 1_000_000
    with open(path, "wb") as handle:
        for offset in range(0, size, 1 << 23):
            handle.write(rng.randbytes(min(1 << 23, size - offset)))
        handle.flush()
        os.fsync(handle.fileno())  # dirty pages cannot be evicted for --cold
    return size


def set_up(store: GovernanceStore, config: GovernanceConfig, artifact: Path) -> int:
    """A version ready for production: registered, blocking checks passed, two approvals."""
    store.register_model(
        name=MODEL, team="risk", owner="alice", description="d", config={}, actor="alice"
    )
    snapshot = artifact.with_name("training.parquet")  # stands in for the training snapshot
    snapshot.write_bytes(b"training rows")
    snapshot_id = file_sha256(snapshot) or ""
    store.register_snapshot(
        snapshot_id=snapshot_id,
        model_name=MODEL,
        path=str(snapshot),
        row_count=1,
        column_count=1,
        byte_size=snapshot.stat().st_size,
        columns={"a": "float64"},
        source={},
        actor="alice",
    )
    record, _created = store.register_model_version(
        model_name=MODEL,
        fingerprint="credit-1",
        snapshot_id=snapshot_id,
        artifact_sha256=file_sha256(artifact) or "",
        artifact_path=str(artifact),
        record={"author": "alice"},
        actor="alice",
    )
    for name in CHECKS:
        store.record_check_result(
            model_name=MODEL,
            check_name=name,
            passed=True,
            severity="ERROR",
            summary="within threshold",
            evidence={},
            actor="dagster:run",
            version=record.version,
        )
    for approver in ("bob", "carol"):
        approvals.approve(store, config, MODEL, record.version, approver, note="reviewed")
    return record.version


def evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=100, help="artifact size in 10^6 bytes")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cold", action="store_true", help="evict the file before each hash")
    args = parser.parse_args()

    config = parse_config(CONFIG_YAML)
    print(f"load average before: {_load()}; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = GovernanceStore.open(f"sqlite:///{home / 'governance.db'}", home)
        try:
            artifact = home / "artifacts" / "credit-1.joblib"
            artifact.parent.mkdir()
            size = write_artifact(artifact, args.mb)
            version = set_up(store, config, artifact)
            prepare = (lambda: evict(artifact)) if args.cold else (lambda: None)

            def promote(stage: str) -> Callable[[], Any]:
                def run() -> Any:
                    done = approvals.promote(store, config, MODEL, version, stage, PROMOTER)
                    if done.transition.stage != stage or len(done.approvals) != 2:
                        raise SystemExit(f"promotion to {stage} did not happen as expected")
                    return done

                return run

            steps: dict[str, tuple[Callable[[], Any], bool]] = {
                "file_sha256 alone": (lambda: file_sha256(artifact), True),
                "promote -> staging": (promote("staging"), True),
                "promote -> production": (promote("production"), True),
                "promote -> archived (no hashing)": (promote("archived"), False),
            }
            times: dict[str, list[float]] = {name: [] for name in steps}
            cpu: dict[str, list[float]] = {name: [] for name in steps}
            for repeat in range(args.repeats + 1):  # the first cycle warms up, not counted
                for name, (work, hashes) in steps.items():
                    if hashes:
                        prepare()
                    start, cpu_start = time.perf_counter(), time.process_time()
                    work()
                    if repeat:
                        times[name].append(time.perf_counter() - start)
                        cpu[name].append(time.process_time() - cpu_start)
            report = verify_store(store, files=True)  # the chain, bindings and the artifact
            if not report.passed or report.artifacts_checked != 1:
                raise SystemExit(f"the store does not verify: {report.summary}")
            events = report.chain_events
        finally:
            store.dispose()

    medians = {name: statistics.median(values) for name, values in times.items()}
    hashing = medians["file_sha256 alone"]
    print(
        f"artifact {size / 1e6:.0f} MB ({'evicted before each hash' if args.cold else 'page cache'}); "
        f"median of {args.repeats}; {events} audit events at the end; load average after: {_load()}"
    )
    print("| step | median | min–max | CPU (median) | hashing share |")
    print("|---|---:|---:|---:|---:|")
    for name, (_work, hashes) in steps.items():
        share = f"{hashing / medians[name]:.0%}" if hashes else "—"
        print(
            f"| {name} | {medians[name] * 1e3:.0f} ms | {min(times[name]) * 1e3:.0f}–"
            f"{max(times[name]) * 1e3:.0f} ms | {statistics.median(cpu[name]) * 1e3:.0f} ms "
            f"| {share} |"
        )
    production = medians["promote -> production"]
    print(
        f"sha256 throughput {size / 1e6 / hashing:.0f} MB/s; production promotion "
        f"{size / 1e6 / production:.0f} MB/s end to end; decision overhead without the hash "
        f"~{(production - hashing) * 1e3:.0f} ms (archived: "
        f"{medians['promote -> archived (no hashing)'] * 1e3:.0f} ms)"
    )


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
