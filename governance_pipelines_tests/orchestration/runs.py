"""Running one asset of a built code location, and reading why its step failed."""

from __future__ import annotations

from typing import Any

import dagster as dg


def materialize_only(
    definitions: dg.Definitions, key: dg.AssetKey, instance: dg.DagsterInstance, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """Materialize `key` alone with the definitions' own resources (upstream loads as in the UI)."""
    return dg.materialize(
        list(definitions.assets or []),  # type: ignore[arg-type]
        selection=[key],
        instance=instance,
        resources=dict(definitions.resources),
        raise_on_error=False,
        **kwargs,
    )


def step_failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The one failed step's error message (the run must have failed in exactly one step)."""
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    error = failure.step_failure_data.error
    assert error is not None
    return error.message
