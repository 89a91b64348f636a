"""The run record ("lab notebook") of a model version, typed.

`train_model` writes the record as JSON (stored with the version, hashed into its audit
binding); every reader used to pick it apart by string key. `RunRecord.from_dict` gives
readers attributes instead, and `to_dict` gives back exactly the mapping it was read from
(the stored JSON is the record of truth, so a round trip must not change a byte of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class RunRecordError(ValueError):
    """A stored record lacks what every run record has (not written by `train_model`)."""


@dataclass(frozen=True)
class Algorithm:
    type: str
    estimator: str
    class_path: str
    params: Mapping[str, Any]
    declared_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Features:
    all: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    transformations: Any = None


@dataclass(frozen=True)
class Evaluation:
    primary_metric: str
    direction: str  # "higher" | "lower"
    threshold: float | None
    value: float | None
    meets_threshold: bool

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


@dataclass(frozen=True)
class RunRecord:
    algorithm: Algorithm
    features: Features
    evaluation: Evaluation
    metrics: Mapping[str, float | None]
    snapshot_id: str
    data_fingerprint: str | None
    split: Mapping[str, Any]
    artifact_sha256: str
    code: Mapping[str, Any]
    environment: Mapping[str, Any]
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> RunRecord:
        try:
            algorithm, features = record["algorithm"], record["features"]
            evaluation, data = record["evaluation"], record["data"]
            return cls(
                algorithm=Algorithm(
                    type=algorithm["type"],
                    estimator=algorithm["estimator"],
                    class_path=algorithm["class"],
                    params=algorithm["params"],
                    declared_params=algorithm.get("declared_params", {}),
                ),
                features=Features(
                    all=tuple(features["all"]),
                    numeric=tuple(features["numeric"]),
                    categorical=tuple(features["categorical"]),
                    transformations=features.get("transformations"),
                ),
                evaluation=Evaluation(
                    primary_metric=evaluation["primary_metric"],
                    direction=evaluation["direction"],
                    threshold=evaluation.get("threshold"),
                    value=evaluation.get("value"),
                    meets_threshold=bool(evaluation.get("meets_threshold")),
                ),
                metrics=dict(record["metrics"]),
                snapshot_id=data["snapshot_id"],
                data_fingerprint=data.get("fingerprint"),
                split=dict(record.get("split") or {}),
                artifact_sha256=record["artifact"]["sha256"],
                code=dict(record.get("code") or {}),
                environment=dict(record.get("environment") or {}),
                raw=record,
            )
        except (KeyError, TypeError) as error:
            raise RunRecordError(
                f"not a run record written by train_model (missing {error}); it cannot be "
                "reviewed, documented or reproduced"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """The stored mapping, unchanged (see the module docstring)."""
        return dict(self.raw)

    @property
    def primary_value(self) -> float | None:
        """The validation value of the primary metric."""
        value = self.metrics.get(self.evaluation.primary_metric)
        return None if value is None else float(value)
