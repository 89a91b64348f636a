"""Sample requests: a real input row of a version and the response its artifact gave.

A catalog sample that nobody ever ran is documentation that rots. Each version's sample is
taken from its own training snapshot, scored by its own verified artifact, and recorded
once as an audit event; the catalog's asset check replays it against the artifact on every
run, so a replaced artifact, a changed library or a sample edited by hand shows up as a
failed check instead of a misleading page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from governance_pipelines.catalog.entries import json_safe
from governance_pipelines.compliance.artifacts import ArtifactRefused, verified_version
from governance_pipelines.development.model_artifact import load_artifact
from governance_pipelines.development.model_versions import read_artifact
from governance_pipelines.development.run_record import RunRecord
from governance_pipelines.development.snapshot import read_snapshot
from governance_pipelines.operations.daily_monitoring import served_predictions
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.audit import events_with_action

__all__ = [
    "SAMPLE_ACTION",
    "ReplayResult",
    "Sample",
    "ensure_sample",
    "recorded_sample",
    "replay_sample",
]

SAMPLE_ACTION = "catalog.sample_recorded"
# Scores are compared as stored JSON numbers: equal up to float round-off only.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Sample:
    model_name: str
    version: int
    request: dict[str, Any]
    response: dict[str, Any]


@dataclass(frozen=True)
class ReplayResult:
    model_name: str
    version: int
    passed: bool
    detail: str


def recorded_sample(store: GovernanceStore, model: str, version: int) -> Sample | None:
    """The sample recorded for the version (the first one: a sample is never replaced)."""
    with store.engine.connect() as connection:
        for event in events_with_action(connection, SAMPLE_ACTION):
            if event.model_name == model and event.version == version:
                payload = event.payload
                return Sample(model, version, dict(payload["request"]), dict(payload["response"]))
    return None


def _predict(pipeline: Any, record: RunRecord, task: str, request: Mapping[str, Any]) -> float:
    frame = pd.DataFrame([{name: request.get(name) for name in record.features.all}])
    return float(served_predictions(pipeline, task, frame)[0])


def _verified_pipeline(
    store: GovernanceStore, model: str, version: int, actor: str
) -> tuple[Any, RunRecord]:
    registered = verified_version(store, model, version, actor=actor, purpose="catalog sample")
    pipeline = load_artifact(read_artifact(registered.artifact_path), registered.artifact_sha256)
    return pipeline, RunRecord.from_dict(registered.record)


def ensure_sample(
    store: GovernanceStore, model: str, version: int, task: str, *, actor: str
) -> Sample:
    """The version's recorded sample, recording it first if there is none: the first row
    of its training snapshot, scored by its verified artifact."""
    found = recorded_sample(store, model, version)
    if found is not None:
        return found
    pipeline, record = _verified_pipeline(store, model, version, actor)
    snapshot = store.get_snapshot(record.snapshot_id, model)
    frame = read_snapshot(snapshot.path, snapshot.snapshot_id)
    request = {name: json_safe(_plain(frame[name].iloc[0])) for name in record.features.all}
    response = {"prediction": _predict(pipeline, record, task, request), "model_version": version}
    store.record_event(
        actor=actor,
        action=SAMPLE_ACTION,
        model_name=model,
        version=version,
        payload={"request": request, "response": response},
    )
    return Sample(model, version, request, response)


def replay_sample(store: GovernanceStore, sample: Sample, task: str, *, actor: str) -> ReplayResult:
    """Score the recorded request again with the version's verified artifact."""
    name, version = sample.model_name, sample.version
    try:
        pipeline, record = _verified_pipeline(store, name, version, actor)
    except (ArtifactRefused, FileNotFoundError) as error:
        return ReplayResult(name, version, False, f"{name} v{version}: {error}")
    try:
        actual = _predict(pipeline, record, task, sample.request)
    except (ValueError, TypeError, KeyError) as error:
        return ReplayResult(
            name,
            version,
            False,
            f"{name} v{version}: the sample request no longer scores ({error})",
        )
    expected = float(sample.response["prediction"])
    if math.isclose(actual, expected, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE):
        return ReplayResult(name, version, True, f"{name} v{version}: replayed {actual:.6g}")
    return ReplayResult(
        name,
        version,
        False,
        f"{name} v{version}: the artifact now answers {actual!r} to the catalog's sample "
        f"request, which was recorded with {expected!r}; the artifact or its libraries changed",
    )


def _plain(value: Any) -> Any:
    """numpy scalars and pandas timestamps as the Python values JSON can hold."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
