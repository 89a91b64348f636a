"""The run record, typed: attributes for readers, the stored mapping unchanged."""

from __future__ import annotations

import json

import pytest

from governance_pipelines.development.run_record import RunRecord, RunRecordError
from governance_pipelines.development.training import train_model
from governance_pipelines.development.training_spec import TrainingSpec
from governance_pipelines_tests.development.test_leakage import make_frame


def test_a_trained_record_reads_typed_and_round_trips_unchanged() -> None:
    spec = TrainingSpec(
        task="classification",
        target="y",
        features=("a", "b", "segment"),
        estimator="sklearn.linear_model.LogisticRegression",
        categorical_features=("segment",),
        primary_metric="roc_auc",
        metric_threshold=0.5,
    )
    trained = train_model(make_frame(300), spec, snapshot_id="s" * 64)
    stored = json.loads(json.dumps(trained.record))  # as the store hands it back
    record = RunRecord.from_dict(stored)
    assert record.snapshot_id == "s" * 64
    assert record.features.categorical == ("segment",)
    assert record.evaluation.primary_metric == "roc_auc"
    assert record.evaluation.higher_is_better
    assert record.primary_value == pytest.approx(trained.metrics["roc_auc"])
    assert record.artifact_sha256 == trained.artifact_sha256
    assert record.algorithm.class_path.endswith("LogisticRegression")
    assert record.to_dict() == stored


def test_a_record_not_written_by_training_is_named() -> None:
    with pytest.raises(RunRecordError, match="not a run record written by train_model"):
        RunRecord.from_dict({"params": {"n": 1}})
