"""What a model card says about a registered version, gathered from its records.

Everything here comes from stored facts — the version record, the snapshot, the check
evidence, approvals and the stage timeline — so a card rendered years later tells the
same story as the day it was first written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from governance_pipelines.config import GovernanceConfig, ModelConfig
from governance_pipelines.development.environment import json_safe
from governance_pipelines.development.run_record import RunRecord
from governance_pipelines.development.training import TrainedModel
from governance_pipelines.documentation.model_card import ModelCardInputs

_EXAMPLES = 5
_CURVE_POINTS = 60


def build_card_inputs(
    config: GovernanceConfig,
    model: ModelConfig,
    *,
    version: int,
    frame: pd.DataFrame,
    trained: TrainedModel,
    snapshot: Mapping[str, Any],
    check_results: Sequence[Mapping[str, Any]],
    approvals: Sequence[Mapping[str, Any]] = (),
    stage_history: Sequence[Mapping[str, Any]] = (),
    status: str | None = None,
) -> ModelCardInputs:
    """The card's inputs for one version, read only from its stored records.

    Each field is one named step, so a card field that looks wrong leads straight to the
    record it was read from; the plots use the held-out rows, never the training rows.
    """
    record = trained.record
    run = RunRecord.from_dict(record)
    evidence = {row["check"]: row for row in check_results}
    test_rows = frame.iloc[trained.test_positions]
    return ModelCardInputs(
        model_name=model.name,
        version=str(version),
        owner=model.owner,
        team=model.team,
        status=status or "registered",
        description=model.description,
        business_context=model.business_context,
        business_justification=model.business_justification,
        labels=dict(model.labels),
        algorithm=run.algorithm.type,
        estimator_class=run.algorithm.class_path,
        task=trained.spec.task,
        parameters=dict(run.algorithm.params),
        features=_features(model, frame),
        customisations=_customisations(record),
        reproduce_command=f"governance reproduce {model.name} {version}",
        source=record.get("code"),
        environment=_environment(record),
        training_examples=_examples(frame, [*model.data.features, model.data.target]),
        prediction_request=_request(test_rows, model),
        prediction_response=_response(trained),
        metrics={k: float(v) for k, v in run.metrics.items() if isinstance(v, int | float)},
        primary_metric=run.evaluation.primary_metric,
        metric_threshold=run.evaluation.threshold,
        higher_is_better=run.evaluation.higher_is_better,
        validation_results=_validation_results(evidence),
        fairness=_fairness(evidence),
        feature_importances=_importances(evidence),
        roc_curve=_roc(trained, test_rows, model),
        calibration=_calibration(trained, test_rows, model),
        predicted_vs_actual=_predicted_vs_actual(trained, test_rows, model),
        data_snapshot=_data_snapshot(snapshot),
        lineage=_lineage(model, snapshot, version),
        approvals=[dict(approval) for approval in approvals],
        stage_history=[dict(stage) for stage in stage_history],
    )


def _customisations(record: Mapping[str, Any]) -> list[str] | None:
    """None, not [], when nothing is recorded: the card reports "not stated" as a gap."""
    return [f"{step['columns']}: {step['steps']}" for step in _transformations(record)] or None


def _validation_results(evidence: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The verdict of every check, without its evidence table (the card shows those apart)."""
    return [
        {"check": name, "passed": row["passed"], "summary": row["summary"]}
        for name, row in evidence.items()
    ]


def _fairness(evidence: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Group rows from the fairness check; empty when it did not run, which is not a gap."""
    return [_fairness_row(row) for row in evidence.get("model_version_fair", {}).get("table", [])]


def _importances(evidence: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The explainability check's rows, renamed to the card's ``feature_importances`` shape."""
    return [
        {
            "feature": row["feature"],
            "importance": row["importance_mean"],
            "std": row["importance_std"],
        }
        for row in evidence.get("model_version_explainable", {}).get("table", [])
    ]


def _data_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """A short id to read and the full hash to verify the training data against."""
    return {
        "id": snapshot["snapshot_id"][:12],
        "sha256": snapshot["snapshot_id"],
        "rows": snapshot["row_count"],
        "columns": snapshot["column_count"],
        "created_at": str(snapshot["created_at"]),
        "uri": snapshot["path"],
    }


def _lineage(
    model: ModelConfig, snapshot: Mapping[str, Any], version: int
) -> list[dict[str, Any] | str]:
    """Source → snapshot → version, so a reader can trace the model back to its data."""
    return [
        {
            "name": f"{model.name}/training_data",
            "kind": "source",
            "ref": json.dumps(snapshot.get("source", {})),
        },
        {
            "name": f"{model.name}/training_snapshot",
            "kind": "snapshot",
            "ref": snapshot["snapshot_id"][:12],
        },
        {"name": f"{model.name}/model_version", "kind": "model", "ref": f"v{version}"},
    ]


_FAIRNESS_ORDER = ("attribute", "group", "count", "included", "selection_rate", "tpr", "fpr", "auc")


def _fairness_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Stored evidence comes back with sorted keys; a reader wants attribute and group first."""
    ordered = {key: row[key] for key in _FAIRNESS_ORDER if key in row}
    return {**ordered, **{key: value for key, value in row.items() if key not in ordered}}


def _features(model: ModelConfig, frame: pd.DataFrame) -> list[dict[str, Any]]:
    declared = model.data.columns
    rows = []
    for name in model.data.features:
        rule = declared.get(name)
        rows.append(
            {
                "name": name,
                "dtype": str(frame[name].dtype) if name in frame else "missing",
                "description": rule.description if rule else None,
                "role": "input",
            }
        )
    target_rule = declared.get(model.data.target)
    rows.append(
        {
            "name": model.data.target,
            "dtype": str(frame[model.data.target].dtype),
            "description": target_rule.description if target_rule else None,
            "role": "output",
        }
    )
    return rows


def _transformations(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        {
            "columns": ", ".join(step.get("columns", [])),
            "steps": " → ".join(map(str, step.get("steps", []))),
        }
        for step in record.get("features", {}).get("transformations", [])
    ]


def _environment(record: Mapping[str, Any]) -> dict[str, Any]:
    environment = record.get("environment", {})
    packages = environment.get("packages", {})
    interesting = ("scikit-learn", "pandas", "numpy", "dagster", "pandera", "governance-pipelines")
    return {
        "python": environment.get("python_version"),
        "image": environment.get("container_image"),
        "packages": {name: packages[name] for name in interesting if name in packages},
    }


def _examples(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return json_safe(frame[columns].head(_EXAMPLES).to_dict("records"))


def _request(test_rows: pd.DataFrame, model: ModelConfig) -> dict[str, Any]:
    row = test_rows[list(model.data.features)].head(1).to_dict("records")[0]
    return {"model": model.name, "features": json_safe(row)}


def _response(trained: TrainedModel) -> dict[str, Any]:
    response: dict[str, Any] = {"prediction": json_safe(trained.predictions[0])}
    if trained.scores is not None and trained.classes is not None:
        response["probabilities"] = {
            str(label): round(float(p), 4)
            for label, p in zip(trained.classes, trained.scores[0], strict=True)
        }
    return response


def _positive_scores(trained: TrainedModel) -> tuple[Any, np.ndarray] | None:
    """The positive class and its scores, for a binary classifier that has scores."""
    if trained.scores is None or trained.classes is None or len(trained.classes) != 2:
        return None
    return trained.classes[1], trained.scores[:, 1]


def _roc(
    trained: TrainedModel, test_rows: pd.DataFrame, model: ModelConfig
) -> dict[str, Any] | None:
    binary = _positive_scores(trained)
    if binary is None:
        return None
    positive, scores = binary
    labels = test_rows[model.data.target].to_numpy() == positive
    fpr, tpr, _ = roc_curve(labels, scores)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), _CURVE_POINTS)).astype(int))
    auc = trained.metrics.get("roc_auc")
    return {
        "fpr": fpr[keep].tolist(),
        "tpr": tpr[keep].tolist(),
        **({"auc": auc} if auc is not None else {}),
    }


def _calibration(
    trained: TrainedModel, test_rows: pd.DataFrame, model: ModelConfig
) -> dict[str, Any] | None:
    binary = _positive_scores(trained)
    if binary is None:
        return None
    positive, scores = binary
    labels = test_rows[model.data.target].to_numpy() == positive
    fraction, mean_predicted = calibration_curve(labels, scores, n_bins=10, strategy="quantile")
    return {"mean_predicted": mean_predicted.tolist(), "fraction_positive": fraction.tolist()}


def _predicted_vs_actual(
    trained: TrainedModel, test_rows: pd.DataFrame, model: ModelConfig
) -> dict[str, Any] | None:
    if trained.spec.task != "regression":
        return None
    sample = slice(0, 500)
    return {
        "predicted": np.asarray(trained.predictions[sample], dtype=float).tolist(),
        "actual": test_rows[model.data.target].to_numpy(dtype=float)[sample].tolist(),
    }
