"""Time to train and validate the demo models: the development job, in-process, cold.

Issue target: training + all checks for the demo models complete in under a minute on
2 cores. Each repeat starts from an empty governance home (so nothing is reused) and runs
`governance_development_job`: snapshot + 2 checks, training, the 5 validation gates, the
reference profile and the model card for both demo models.

    python benchmarks/development_job_time.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg

from governance_pipelines.config import PACKAGED_DEMO_CONFIG, load_config
from governance_pipelines.orchestration.definitions_builder import (
    DEVELOPMENT_JOB,
    build_definitions,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def one_run() -> tuple[float, dict[str, float]]:
    config = load_config(PACKAGED_DEMO_CONFIG)
    with tempfile.TemporaryDirectory() as home, dg.instance_for_test() as instance:
        resource = GovernanceStoreResource(home=str(Path(home)))
        job = build_definitions(config, governance_store=resource).resolve_job_def(DEVELOPMENT_JOB)
        started = time.perf_counter()
        result = job.execute_in_process(instance=instance, run_config=QUIET, raise_on_error=False)
        elapsed = time.perf_counter() - started
        if not result.success:
            raise SystemExit("the development job failed; run `governance demo` to see why")
        steps = {
            stats.step_key: (stats.end_time or 0) - (stats.start_time or 0)
            for stats in instance.get_run_step_stats(result.run_id)
        }
    return elapsed, steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times, last_steps = [], {}
    for _ in range(args.repeats):
        elapsed, last_steps = one_run()
        times.append(elapsed)
    print(
        f"development job, both demo models: median {statistics.median(times):.1f} s "
        f"(min {min(times):.1f}, max {max(times):.1f}, n={len(times)}); target < 60 s"
    )
    print("slowest steps of the last run:")
    for step, seconds in sorted(last_steps.items(), key=lambda item: -item[1])[:8]:
        print(f"  {seconds:6.2f} s  {step}")


if __name__ == "__main__":
    main()
