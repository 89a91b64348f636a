"""What one governance asset hands the next: the exact snapshot or version its run produced.

Reading "the latest materialization" downstream races under concurrent runs and backfills:
a gate could judge version 8 while its own run produced version 7, and a card could document
a snapshot its model was not trained on. Producing assets therefore return a small
reference (a snapshot id, a version number) that this IO manager keeps per run, under the
governance home that every run of a deployment already shares for snapshots and artifacts.
A step of the same run loads exactly what its run produced; a step launched on its own (a
check re-executed from the UI, a card refreshed later) loads what the latest materialization
produced, and says which run that was.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from governance_pipelines.orchestration.resources import GovernanceStoreResource

HANDOFF_IO_MANAGER = "governance_handoff"
HANDOFF_FOLDER = "handoff"

Reference = int | str


class GovernanceHandoffIOManager(dg.ConfigurableIOManager):
    """Keeps each run's snapshot ids and version numbers, one small JSON file per run."""

    governance_store: GovernanceStoreResource

    def handle_output(self, context: dg.OutputContext, obj: Reference) -> None:
        if not isinstance(obj, int | str) or isinstance(obj, bool):
            raise dg.Failure(
                f"{context.asset_key.to_user_string()} handed on {type(obj).__name__}; "
                "governance assets hand on a snapshot id or a version number"
            )
        path = self._path(context.asset_key, context.run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps({"value": obj}), encoding="utf-8")
        os.replace(partial, path)  # a reader never sees half a reference

    def load_input(self, context: dg.InputContext) -> Reference:
        key = context.asset_key
        path = self._path(key, run_id) if (run_id := _producing_run(context)) else None
        if path is None or not path.exists():
            # Not produced in this run (nor in the run this one re-executes): the latest.
            event = context.instance.get_latest_materialization_event(key)
            if event is None:
                raise dg.Failure(
                    f"{key.to_user_string()} has never been materialized; materialize it first"
                )
            path = self._path(key, event.run_id)
            context.log.info(
                f"{key.to_user_string()} was not materialized in this run: using run {event.run_id}"
            )
            if not path.exists():
                raise dg.Failure(
                    f"{key.to_user_string()} left no hand-off for run {event.run_id} "
                    f"(expected {path}); materialize {key.to_user_string()} again"
                )
        value = json.loads(path.read_text(encoding="utf-8"))["value"]
        if not isinstance(value, int | str):
            raise dg.Failure(f"{path} is not a governance hand-off; materialize it again")
        return value

    def _path(self, key: dg.AssetKey, run_id: str) -> Path:
        return self.governance_store.store.home.joinpath(
            HANDOFF_FOLDER, *key.path, f"{run_id}.json"
        )


def _producing_run(context: dg.InputContext) -> str | None:
    """The run Dagster says produced the input: this run (or the run it re-executes) when the
    producing step ran there; otherwise a placeholder that has no hand-off file."""
    upstream = context.upstream_output
    if upstream is None:
        return None
    try:
        return upstream.run_id
    except dg.DagsterInvariantViolationError:
        return None
