"""What a model card is made from: :class:`ModelCardInputs`, its validation, and "not written".

Why a frozen dataclass of plain JSON-able fields: the orchestration layer can map whatever
record it stores onto it, and the card is a pure function of data: same inputs, same
bytes (no clock reads; ``generated_at`` is an input).

Validation happens at construction so a malformed record fails with a message naming the
field, instead of surfacing later as a confusing template error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "FEATURE_ROLES",
    "ModelCardInputError",
    "ModelCardInputs",
    "Task",
    "text_or_none",
]

Task = Literal["classification", "regression"]

FEATURE_ROLES = ("input", "output")


class ModelCardInputError(ValueError):
    """The inputs cannot describe a model version (e.g. a feature without a name)."""


def text_or_none(value: Any) -> str | None:
    """A stripped string, or None for None / blank — the definition of "not written"."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class ModelCardInputs:
    """Everything a model card shows, as plain JSON-able data.

    Optional rationale fields default to ``None`` rather than ``""`` so that "not written"
    is distinguishable and can be reported by :func:`documentation_gaps`. For
    ``customisations`` the distinction is deliberate: ``None`` means nobody said, ``[]``
    means "none" was stated explicitly.

    Shapes of the structured fields (extra keys are kept and shown where tables allow):

    - ``features``: ``{"name", "dtype", "description", "role": "input" | "output"}``
    - ``training_examples``: a few rows, ``list[dict]`` column → value
    - ``prediction_request`` / ``prediction_response``: the JSON bodies of a sample call
    - ``validation_results``: ``{"check", "passed": bool | None, "summary"}``
    - ``fairness``: group rows, e.g. ``{"group": "female", "n": 120, "tpr": 0.81}``
    - ``feature_importances``: ``{"feature", "importance", "std"}``
    - ``roc_curve``: ``{"fpr": [...], "tpr": [...]}`` (optional ``"auc"``)
    - ``calibration``: ``{"mean_predicted": [...], "fraction_positive": [...]}``
    - ``predicted_vs_actual``: ``{"predicted": [...], "actual": [...]}`` (regressors)
    - ``data_snapshot``: ``{"id", "sha256", "rows", "columns", "created_at"}`` (+ ``uri``)
    - ``lineage``: upstream items, ``{"name", "kind", "ref"}`` or plain strings
    - ``source``: ``{"commit", "repository_url", "dirty", "branch"}``
    - ``environment``: ``{"python", "image", "packages": {name: version}}``
    - ``approvals``: ``{"user", "role", "decision", "at", "note"}``
    - ``stage_history``: ``{"stage", "at", "by", "note"}``, oldest first
    """

    model_name: str
    version: str
    owner: str
    team: str | None = None
    status: str | None = None
    description: str | None = None
    business_context: str | None = None
    business_justification: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    algorithm: str | None = None
    estimator_class: str | None = None
    task: Task | None = None
    algorithm_explanation: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    features: list[dict[str, Any]] = field(default_factory=list)
    customisations: str | list[str] | None = None
    reproduce_command: str | None = None
    source: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    training_examples: list[dict[str, Any]] = field(default_factory=list)
    prediction_request: Any = None
    prediction_response: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    primary_metric: str | None = None
    metric_threshold: float | None = None
    higher_is_better: bool = True
    validation_results: list[dict[str, Any]] = field(default_factory=list)
    fairness: list[dict[str, Any]] = field(default_factory=list)
    feature_importances: list[dict[str, Any]] = field(default_factory=list)
    roc_curve: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    predicted_vs_actual: dict[str, Any] | None = None
    data_snapshot: dict[str, Any] | None = None
    lineage: list[dict[str, Any] | str] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    stage_history: list[dict[str, Any]] = field(default_factory=list)
    generated_at: str | None = None

    def __post_init__(self) -> None:
        """Reject inputs that cannot be rendered meaningfully, with an actionable message."""
        for name in ("model_name", "version"):
            if not text_or_none(getattr(self, name)):
                raise ModelCardInputError(f"{name} must be a non-empty string")
        if self.task is not None and self.task not in ("classification", "regression"):
            raise ModelCardInputError(
                f"task must be 'classification', 'regression' or None, not {self.task!r}"
            )
        for i, feature in enumerate(self.features):
            if not isinstance(feature, Mapping) or not text_or_none(feature.get("name")):
                raise ModelCardInputError(f"features[{i}] needs a 'name' (got {feature!r})")
            role = feature.get("role", "input")
            if role not in FEATURE_ROLES:
                raise ModelCardInputError(
                    f"features[{i}] ({feature['name']}): role must be one of "
                    f"{FEATURE_ROLES}, not {role!r}"
                )
        for i, row in enumerate(self.feature_importances):
            if "feature" not in row or "importance" not in row:
                raise ModelCardInputError(
                    f"feature_importances[{i}] needs 'feature' and 'importance' (got {row!r})"
                )
        for i, row in enumerate(self.validation_results):
            if "check" not in row:
                raise ModelCardInputError(f"validation_results[{i}] needs a 'check' name")
        _check_curve(self.roc_curve, "roc_curve", "fpr", "tpr")
        _check_curve(self.calibration, "calibration", "mean_predicted", "fraction_positive")
        _check_curve(self.predicted_vs_actual, "predicted_vs_actual", "predicted", "actual")
        if self.metric_threshold is not None and self.primary_metric is None:
            raise ModelCardInputError(
                "metric_threshold is set but primary_metric is not: say which metric "
                "the threshold applies to"
            )
        if self.primary_metric is not None and self.primary_metric not in self.metrics:
            raise ModelCardInputError(
                f"primary_metric {self.primary_metric!r} is not among the metrics "
                f"{sorted(self.metrics)}"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ModelCardInputs:
        """Build from a JSON-like mapping, rejecting unknown keys.

        Unknown keys are an error rather than ignored because a misspelt key
        (``bussiness_context``) would otherwise silently become a documentation gap.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelCardInputError(
                f"unknown model-card fields {unknown}; known fields are {sorted(known)}"
            )
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The inputs as plain data (round-trips through :meth:`from_mapping` and JSON)."""
        return dataclasses.asdict(self)


def _check_curve(curve: Mapping[str, Any] | None, name: str, x: str, y: str) -> None:
    """A curve needs both coordinate lists, of equal length and at least two points."""
    if curve is None:
        return
    if x not in curve or y not in curve:
        raise ModelCardInputError(f"{name} needs '{x}' and '{y}' lists (got keys {sorted(curve)})")
    if len(curve[x]) != len(curve[y]):
        raise ModelCardInputError(
            f"{name}: '{x}' and '{y}' differ in length ({len(curve[x])} != {len(curve[y])})"
        )
    if len(curve[x]) < 2:
        raise ModelCardInputError(f"{name}: need at least two points to draw a curve")
