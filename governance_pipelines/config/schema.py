"""The schema of `governance.yaml`: frozen pydantic models, strict about unknown keys.

Parsing is strict on purpose: an unknown key is almost always a typo of a governance
setting (`min_metic:`), and silently ignoring it would disable a control the user believes
is on. Every error names the file, the key path and what was expected (the messages are
built in `errors.py`).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from governance_pipelines.config.errors import _NAME_PATTERN
from governance_pipelines.security.permissions import DEFAULT_ROLES

DEFAULT_CONFIG_PATH = Path("governance.yaml")
PACKAGED_DEMO_CONFIG = Path(__file__).parent.parent / "examples" / "governance.yaml"
# `governance demo` writes the config it ran under this name in the governance home.
DEMO_CONFIG_COPY = "governance.yaml"


class _Strict(BaseModel):
    # allow_inf_nan=False: `min_metric: -.inf` would switch a gate off while looking set.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


Name = Annotated[str, Field(pattern=_NAME_PATTERN, max_length=64)]
# A channel name or id; never a mention such as `<!channel>` that would page everyone.
_CHANNEL = re.compile(r"#?[a-z0-9][a-z0-9_-]{0,79}|[CG][A-Z0-9]{6,}")


def _slack_channel(value: str | None) -> str | None:
    if value is not None and not _CHANNEL.fullmatch(value):
        raise ValueError("expected a Slack channel like '#risk-alerts' or a channel id")
    return value


# --- people and organisation -------------------------------------------------------------


class TeamConfig(_Strict):
    name: Name
    slack_channel: str | None = None
    cost_center: str | None = None
    # Default cost rates of the team's models (a model's own `cost:` wins rate by rate).
    cost: CostRates | None = None

    _channel_shape = field_validator("slack_channel")(_slack_channel)


class PersonConfig(_Strict):
    name: Name
    team: Name
    roles: list[Name] = Field(min_length=1)
    email: str | None = None


# --- data --------------------------------------------------------------------------------


class SqlSource(_Strict):
    """Training data from a SQL query; the URL may reference env vars as `${VAR}`."""

    kind: Literal["sql"]
    url: str
    query: str


class FileSource(_Strict):
    kind: Literal["file"]
    path: str
    format: Literal["parquet", "csv"] | None = None  # inferred from the suffix when omitted


class PythonSource(_Strict):
    """A callable `package.module:function` returning a pandas DataFrame."""

    kind: Literal["python"]
    callable: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    kwargs: dict[str, Any] = Field(default_factory=dict)


DataSource = Annotated[SqlSource | FileSource | PythonSource, Field(discriminator="kind")]


class ColumnSchema(_Strict):
    """One column of the pandera schema declared for a model's training data."""

    dtype: Literal["int", "float", "str", "bool", "datetime", "category"] | None = None
    nullable: bool = False
    unique: bool = False
    ge: float | None = None
    le: float | None = None
    isin: list[Any] | None = None
    str_matches: str | None = None
    description: str | None = None

    @field_validator("str_matches")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a valid regular expression: {error}") from None
        return value


class DataConfig(_Strict):
    source: DataSource
    target: str
    features: list[str] = Field(min_length=1)
    sensitive_attributes: list[str] = Field(default_factory=list)
    time_column: str | None = None
    columns: dict[str, ColumnSchema] = Field(default_factory=dict)
    strict_columns: bool = False  # reject columns not declared in `columns`

    @model_validator(mode="after")
    def _target_is_not_a_feature(self) -> DataConfig:
        if self.target in self.features:
            raise ValueError(f"target column {self.target!r} is also listed in features")
        duplicates = sorted({f for f in self.features if self.features.count(f) > 1})
        if duplicates:
            raise ValueError(f"features listed twice: {', '.join(duplicates)}")
        return self


# --- training and validation -------------------------------------------------------------


class EstimatorConfig(_Strict):
    class_path: str = Field(alias="class", pattern=r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")
    params: dict[str, Any] = Field(default_factory=dict)


class TrainingConfig(_Strict):
    task: Literal["classification", "regression"] = "classification"
    estimator: EstimatorConfig
    metric: str = "roc_auc"
    min_metric: float
    test_size: float = Field(default=0.25, gt=0, lt=1)
    seed: int = 42
    split: Literal["random", "time"] = "random"
    reproducibility_tolerance: float = Field(default=0.0, ge=0)


class FairnessConfig(_Strict):
    max_demographic_parity_difference: float = Field(default=0.1, ge=0, le=1)
    max_equalized_odds_difference: float = Field(default=0.1, ge=0, le=1)
    # Features that must not be among the model's top drivers (e.g. a proxy of gender).
    excluded_from_drivers: list[str] = Field(default_factory=list)
    # Bin edges for continuous sensitive attributes, e.g. {age: [18, 30, 45, 65, 120]};
    # a numeric attribute without bins is split at its quartiles.
    bins: dict[str, list[float]] = Field(default_factory=dict)
    min_group_size: int = Field(default=30, ge=1)


class ValidationConfig(_Strict):
    """Limits of the blocking validation checks on each new model version."""

    max_single_feature_auc: float = Field(default=0.95, gt=0.5, le=1)
    max_single_feature_correlation: float = Field(default=0.95, gt=0, le=1)
    min_explained_share: float = Field(default=0.5, ge=0, le=1)
    top_k_drivers: int = Field(default=3, ge=1)
    permutation_repeats: int = Field(default=5, ge=1, le=50)


class AbTestConfig(_Strict):
    """How an online A/B test of two versions is judged (`governance abtest`)."""

    kpi: Literal["label", "prediction"] = "label"
    kpi_type: Literal["conversion", "continuous"] = "conversion"
    direction: Literal["higher", "lower"] = "higher"
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0.5, lt=1)
    min_samples_per_arm: int = Field(default=100, ge=2)


# --- operations --------------------------------------------------------------------------


DriftMethod = Literal[
    "ks",
    "chisquare",
    "z",
    "wasserstein",
    "jensenshannon",
    "l_infinity",
    "js_divergence",
    "ks_distance",
]


class MonitoringConfig(_Strict):
    drift_profile: Literal["auto", "evidently", "vertex", "sagemaker"] = "auto"
    drift_share_threshold: float = Field(default=0.5, gt=0, le=1)
    feature_thresholds: dict[str, float] = Field(default_factory=dict)
    feature_methods: dict[str, DriftMethod] = Field(default_factory=dict)
    # With large windows every p-value fires on negligible shifts: require the effect
    # size too (normalised Wasserstein / Cramer's V / Cohen's h), see operations/drift.py.
    require_effect_size: bool = False
    performance_tolerance: float = Field(default=0.05, ge=0)
    # Ground truth arrives this many days after a request; the nightly audit re-measures
    # performance of the day whose labels have just become complete.
    label_delay_days: int = Field(default=3, ge=0, le=365)
    inference_log_url: str | None = None  # default: the governance store


class SlaConfig(_Strict):
    availability: float = Field(default=0.995, gt=0, le=1)
    p95_latency_ms: float = Field(default=250, gt=0)
    p99_latency_ms: float | None = Field(default=None, gt=0)
    max_error_rate: float = Field(default=0.01, ge=0, le=1)


Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]


class CostRates(_Strict):
    """What a model costs, per driver. Amounts are `Decimal` (YAML `0.40` is read as the
    text it was written as, never as a binary float), in the currency of `costs.currency`.

    A rate left out falls back to the model's team's `cost:` defaults, then to zero.
    """

    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    per_1k_requests: Money | None = None
    # Serving compute, charged on measured request time (the inference log's latency_ms).
    serving_per_hour: Money | None = None
    # Charged on the Dagster step durations of the model's training and check steps.
    per_training_hour: Money | None = None
    # Snapshots, artifacts, cards and monitoring files, by their bytes on disk.
    storage_per_gb_month: Money | None = None
    # Prorated by day: each day of the month gets its share, and the shares add up exactly.
    monthly_fixed: Money | None = None


class SharedCost(_Strict):
    """A platform cost no single model incurs, split across the models by a rule."""

    name: Name
    monthly: Money
    split: Literal["even", "usage", "weights"] = "even"
    # With split: weights, a weight per model; models left out get nothing.
    weights: dict[Name, Money] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _weights_match_split(self) -> SharedCost:
        if self.split == "weights" and not any(self.weights.values()):
            raise ValueError("split: weights needs `weights:` with a positive weight per model")
        if self.split != "weights" and self.weights:
            raise ValueError(f"`weights:` is only read with split: weights, not {self.split!r}")
        return self


class CostsConfig(_Strict):
    """Organisation-wide cost settings: the currency, shared costs and the bill to reconcile."""

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    shared: list[SharedCost] = Field(default_factory=list)
    # A FinOps FOCUS-format CSV export of the bill (BilledCost per ChargePeriodStart and
    # x_ModelName) that the allocation is reconciled against, month by month.
    bill: str | None = None


class ModelConfig(_Strict):
    name: Name
    owner: Name
    team: Name
    description: str
    business_context: str | None = None
    business_justification: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    categories: list[str] = Field(default_factory=list)
    required_approvals: int = Field(default=1, ge=1, le=5)
    data: DataConfig
    training: TrainingConfig
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    ab_test: AbTestConfig = Field(default_factory=AbTestConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    cost: CostRates = Field(default_factory=CostRates)
    slack_channel: str | None = None  # default: the team's channel

    _channel_shape = field_validator("slack_channel")(_slack_channel)


class ScheduleConfig(_Strict):
    nightly_audit_cron: str = "0 2 * * *"
    timezone: str = "UTC"
    # First day of the daily monitoring partitions (inference-log days are UTC days).
    monitoring_start_date: date = date(2026, 1, 1)
    # Where the nightly audit summary goes; default: every model's channel.
    audit_channel: str | None = None

    _channel_shape = field_validator("audit_channel")(_slack_channel)

    @field_validator("nightly_audit_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("expected a 5-field cron expression such as '0 2 * * *'")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name like 'Europe/Berlin'"
            ) from None
        return value


class GovernanceConfig(_Strict):
    version: Literal[1] = 1
    organisation: str = "Governance"
    dagster_url: str = "http://127.0.0.1:3000"
    teams: list[TeamConfig] = Field(min_length=1)
    people: list[PersonConfig] = Field(min_length=1)
    roles: dict[Name, list[str]] = Field(default_factory=lambda: dict(DEFAULT_ROLES))
    schedules: ScheduleConfig = Field(default_factory=ScheduleConfig)
    # A folder with model_card.html.j2 and/or model_card.md.j2 replacing the packaged ones.
    model_card_templates: str | None = None
    # Where the rendered cards are published (the home's model_cards/ folder served as is):
    # the UI then links each card to <base>/<model>/v<version>/model_card.html.
    documentation_base_url: str | None = None
    # Where the model catalog folder (the home's catalog/) is published: Backstage entities
    # then link to <base>/models/<model>.html.
    catalog_base_url: str | None = None
    costs: CostsConfig = Field(default_factory=CostsConfig)
    models: list[ModelConfig] = Field(min_length=1)

    @field_validator("documentation_base_url", "catalog_base_url")
    @classmethod
    def _published_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        parsed = urlsplit(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(
                f"{info.field_name} must be an http(s) URL like "
                f"'https://docs.example.com/model-cards', not {value!r}"
            )
        return value.rstrip("/")

    def model(self, name: str) -> ModelConfig:
        for model in self.models:
            if model.name == name:
                return model
        known = ", ".join(m.name for m in self.models)
        raise KeyError(f"no model named {name!r} in governance.yaml (known: {known})")

    def person(self, name: str) -> PersonConfig | None:
        return next((p for p in self.people if p.name == name), None)

    def team(self, name: str) -> TeamConfig:
        return next(t for t in self.teams if t.name == name)

    def channel_for(self, model: ModelConfig) -> str | None:
        return model.slack_channel or self.team(model.team).slack_channel
