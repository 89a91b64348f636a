"""What the demo leaves for `dagster dev`: an instance, a workspace and the config it ran.

Kept apart from the demo's story (train, sign off, serve, audit) because it is about where
a user looks afterwards: the demo's runs must be filed under the code location the UI
serves, and its daily partitions must start where its data starts.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import yaml

from governance_pipelines.config import DEMO_CONFIG_COPY, PACKAGED_DEMO_CONFIG
from governance_pipelines.development.declarations import load_checked_config

# The code location `dagster dev` serves (workspace.yaml, and the one the demo writes).
LOCATION_NAME = "governance_pipelines"
# Dagster files a run under its code location by this system tag (what a run launched from
# the UI or the daemon carries); the demo's in-process runs carry it too, so they appear in
# each job's Runs tab and its partition status like any other run, and can be re-executed
# from there. (Overview's timeline also needs a remote origin, which only runs launched
# through a code server have.) A test pins the tag against Dagster's own constants.
DEMO_RUN_TAGS = {".dagster/repository": f"__repository__@{LOCATION_NAME}"}
WORKSPACE_FILE = "workspace.yaml"


def prepare_dagster_home(dagster_home: Path) -> None:
    """A local instance for the demo's runs; telemetry off unless the user configured it."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    settings = dagster_home / "dagster.yaml"
    if not settings.exists():
        settings.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")


def monitoring_window(
    config_path: Path, home: Path, traffic_days: int, today: date
) -> tuple[Path, int]:
    """The config the demo runs and the days it simulates, so that every daily partition
    has its data: a missing partition in the UI then means missing data, never a gap
    between a fixed start date and the demo's weeks.

    The packaged demo is copied to the home with its monitoring starting on the demo's first
    day (`dagster dev` and the commands find that copy there). A user's own file keeps its
    start date, and the demo simulates only the days that file monitors.
    """
    if config_path.resolve() != PACKAGED_DEMO_CONFIG.resolve():
        start = load_checked_config(config_path).schedules.monitoring_start_date
        return config_path, max(0, min(traffic_days, (today - start).days))
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    first_day = today - timedelta(days=max(traffic_days, 0))
    raw.setdefault("schedules", {})["monitoring_start_date"] = first_day.isoformat()
    copy = home / DEMO_CONFIG_COPY
    home.mkdir(parents=True, exist_ok=True)
    copy.write_text(
        f"# Written by `governance demo` from {config_path}:\n"
        f"# the packaged demo with monitoring starting on its first simulated day.\n"
        + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return copy, traffic_days


def write_workspace(home: Path) -> None:
    """A workspace file naming the code location as the demo's runs do, so `dagster dev -w`
    on it works from any folder (an installed package has no repository checkout). The
    working directory is pinned to the home: Dagster puts it on sys.path, and a stray
    module in whatever folder the user stands in must not shadow the standard library."""
    (home / WORKSPACE_FILE).write_text(
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: governance_pipelines.definitions\n"
        f"      location_name: {LOCATION_NAME}\n"
        f"      working_directory: {json.dumps(str(home))}\n",
        encoding="utf-8",
    )
