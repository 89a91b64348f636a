"""The fitted pipeline as bytes, and the guarded way back.

Artifact format: the fitted ``Pipeline`` is serialised with ``joblib`` (scikit-learn's
recommended persistence, efficient for numpy arrays). Like any pickle it executes code on
load, so :func:`load_artifact` verifies the recorded sha256 before unpickling.
"""

from __future__ import annotations

import hashlib
import io

import joblib
from sklearn.pipeline import Pipeline

from governance_pipelines.development.training_spec import TrainingError

ARTIFACT_FORMAT = "joblib"


class ArtifactIntegrityError(TrainingError):
    """Artifact bytes do not match the recorded sha256 (tampered or wrong file)."""


def serialize_pipeline(pipeline: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    return buffer.getvalue()


def load_artifact(artifact: bytes, expected_sha256: str) -> Pipeline:
    """Unpickle an artifact only after its bytes match the recorded hash."""
    actual = hashlib.sha256(artifact).hexdigest()
    if actual != expected_sha256:
        raise ArtifactIntegrityError(f"Artifact sha256 {actual} != recorded {expected_sha256}.")
    return joblib.load(io.BytesIO(artifact))
