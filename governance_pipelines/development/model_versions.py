"""Registered model versions: where their artifacts live and how a version is brought back.

Checks run in their own steps (and can be re-run months later), so they restore the
version from what was recorded — the artifact verified against its sha256, the split
recomputed from the recorded seed and rule — instead of trusting anything in memory.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance_pipelines.canonical import canonical_sha256
from governance_pipelines.development import metrics as metric_registry
from governance_pipelines.development.data_split import split_positions
from governance_pipelines.development.model_artifact import load_artifact
from governance_pipelines.development.run_record import RunRecord
from governance_pipelines.development.training import TrainedModel, spec_from_record

_READ_ONLY = 0o444


class ArtifactMissingError(FileNotFoundError):
    """A registered version's artifact file is gone."""


def version_fingerprint(spec: Mapping[str, Any], snapshot_id: str, code_commit: str | None) -> str:
    """What makes two trainings "the same inputs": data, declared spec and code revision."""
    return canonical_sha256({"spec": spec, "snapshot_id": snapshot_id, "code_commit": code_commit})


def save_artifact(folder: Path, artifact: bytes) -> Path:
    """Store an artifact under its sha256 (written once, read-only)."""
    digest = hashlib.sha256(artifact).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.joblib"
    if not path.exists():
        temporary = folder / f".incoming-{digest}"
        temporary.write_bytes(artifact)
        os.chmod(temporary, _READ_ONLY)
        os.replace(temporary, path)
    return path


def read_artifact(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ArtifactMissingError(
            f"model artifact {path} is missing; restore it from backup (its sha256 is in the "
            "version record) or train a new version"
        ) from None


def restore_trained_model(
    frame: pd.DataFrame, record: Mapping[str, Any], artifact: bytes
) -> TrainedModel:
    """The registered version as a TrainedModel, scored again on its recomputed test rows."""
    spec = spec_from_record(record)
    run = RunRecord.from_dict(record)
    pipeline = load_artifact(artifact, run.artifact_sha256)
    train_positions, test_positions = split_positions(frame, spec)
    x_test = frame.iloc[test_positions][list(spec.features)]
    predictions = np.asarray(pipeline.predict(x_test))
    scores, classes = None, None
    if spec.task == "classification":
        classes = tuple(pipeline.classes_.tolist())
        if hasattr(pipeline, "predict_proba"):
            scores = np.asarray(pipeline.predict_proba(x_test), dtype=float)
    metrics = {name: float(value) for name, value in run.metrics.items() if value is not None}
    primary = metrics.get(spec.primary_metric, float("nan"))
    return TrainedModel(
        spec=spec,
        pipeline=pipeline,
        train_positions=train_positions,
        test_positions=test_positions,
        metrics=metrics,
        primary_metric_value=primary,
        meets_threshold=metric_registry.meets_threshold(
            spec.primary_metric, primary, spec.metric_threshold
        ),
        predictions=predictions,
        scores=scores,
        classes=classes,
        artifact=artifact,
        artifact_sha256=run.artifact_sha256,
        record=dict(record),
    )
