"""Which version each endpoint serves, loaded only after its artifact re-hashes to its record.

The registry is the store: an endpoint bound to `production` serves whatever version is in
production now, so a promotion or a rollback (`governance promote`) changes what it serves
at the next refresh — every couple of seconds, without a restart. A canary endpoint also
serves its named candidate version on a share of the requests. Every artifact goes through
`verified_version` first: a replaced artifact is refused and alerted, never unpickled, and
the endpoint keeps serving what it served before (or is not ready, if it served nothing).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from governance_pipelines.compliance.artifacts import ArtifactRefused, verified_version
from governance_pipelines.config import GovernanceConfig
from governance_pipelines.development.model_artifact import load_artifact
from governance_pipelines.development.model_versions import read_artifact
from governance_pipelines.development.run_record import RunRecord
from governance_pipelines.operations.daily_monitoring import served_predictions
from governance_pipelines.security.promotion_state import current_stages, stage_timeline
from governance_pipelines.serving.micro_batching import MicroBatcher
from governance_pipelines.serving.request_schema import RequestSchema
from governance_pipelines.store import GovernanceStore

__all__ = ["EndpointSpec", "LoadedVersion", "ModelSlots", "Slot"]

LOGGER = logging.getLogger(__name__)
GATEWAY_ACTOR = "gateway"


@dataclass(frozen=True)
class EndpointSpec:
    """What an endpoint binds: the gateway's view of an endpoint record."""

    name: str
    model_name: str
    allowed_teams: frozenset[str]
    rate_limit_per_minute: int
    mode: str = "live"  # live | canary | shadow
    candidate_version: int | None = None
    traffic_share: float = 0.0


@dataclass(frozen=True)
class LoadedVersion:
    model_name: str
    version: int
    task: str
    pipeline: Any
    schema: RequestSchema
    artifact_sha256: str
    batcher: MicroBatcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "batcher", MicroBatcher(self.score_records))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return served_predictions(self.pipeline, self.task, frame)

    def score_records(self, records: Sequence[Mapping[str, Any]]) -> list[float]:
        """The `prediction` of each validated record, in order."""
        return [float(p) for p in self.predict(self.schema.frame(records))]


@dataclass(frozen=True)
class Slot:
    """An endpoint ready to answer: its spec, the primary version and an optional canary
    (answers a share of the requests) or shadow (scores a share of them, answers none)."""

    spec: EndpointSpec
    primary: LoadedVersion
    canary: LoadedVersion | None = None
    shadow: LoadedVersion | None = None

    def choose(self, draw: Callable[[], float] = random.random) -> LoadedVersion:
        if self.canary is not None and draw() < self.spec.traffic_share:
            return self.canary
        return self.primary

    def mirror(self, draw: Callable[[], float] = random.random) -> LoadedVersion | None:
        """The shadow version, if this request is one it should also score."""
        if self.shadow is not None and draw() < self.spec.traffic_share:
            return self.shadow
        return None


@dataclass
class ModelSlots:
    config: GovernanceConfig
    store: GovernanceStore
    slots: dict[str, Slot] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # endpoint → why it is not ready
    _cache: dict[tuple[str, int], LoadedVersion] = field(default_factory=dict)

    def refresh(self, endpoints: Mapping[str, EndpointSpec]) -> list[str]:
        """Re-resolve every endpoint's versions; returns what changed, for the log."""
        changes: list[str] = []
        slots: dict[str, Slot] = {}
        problems: dict[str, str] = {}
        for name, spec in endpoints.items():
            try:
                slot = self._resolve(spec)
            except (ArtifactRefused, LookupError, ValueError) as error:
                problems[name] = str(error)
                if name in self.slots and self.slots[name].spec.model_name == spec.model_name:
                    slots[name] = self.slots[name]  # keep serving the last good version
                continue
            slots[name] = slot
            before = self.slots.get(name)
            if before is None or _versions(before) != _versions(slot):
                changes.append(f"{name}: now serves {_describe(slot)}")
        self.slots, self.problems = slots, problems
        live = {
            (v.model_name, v.version)
            for s in slots.values()
            for v in (s.primary, s.canary, s.shadow)
            if v is not None
        }
        self._cache = {key: value for key, value in self._cache.items() if key in live}
        return changes

    def _resolve(self, spec: EndpointSpec) -> Slot:
        stages = current_stages(stage_timeline(self.store, spec.model_name))
        production = [v for v, stage in stages.items() if stage == "production"]
        if not production:
            raise LookupError(f"{spec.model_name} has no version in production")
        primary = self._load(spec.model_name, max(production))
        candidate = None
        if spec.mode in ("canary", "shadow") and spec.candidate_version is not None:
            candidate = self._load(spec.model_name, spec.candidate_version)
        if spec.mode == "shadow":
            return Slot(spec, primary, shadow=candidate)
        return Slot(spec, primary, canary=candidate)

    def _load(self, model_name: str, version: int) -> LoadedVersion:
        cached = self._cache.get((model_name, version))
        if cached is not None:
            return cached
        model = self.config.model(model_name)
        registered = verified_version(
            self.store, model_name, version, actor=GATEWAY_ACTOR, purpose="serve"
        )
        pipeline = load_artifact(
            read_artifact(registered.artifact_path), registered.artifact_sha256
        )
        record = RunRecord.from_dict(registered.record)
        loaded = LoadedVersion(
            model_name=model_name,
            version=version,
            task=model.training.task,
            pipeline=pipeline,
            schema=RequestSchema.for_model(model, record.features.categorical),
            artifact_sha256=registered.artifact_sha256,
        )
        self._cache[(model_name, version)] = loaded
        return loaded


def _versions(slot: Slot) -> tuple[int, int | None, int | None]:
    return (
        slot.primary.version,
        slot.canary.version if slot.canary else None,
        slot.shadow.version if slot.shadow else None,
    )


def _describe(slot: Slot) -> str:
    text = f"{slot.primary.model_name} v{slot.primary.version}"
    if slot.canary is not None:
        text += f" (canary v{slot.canary.version} on {slot.spec.traffic_share:.0%})"
    if slot.shadow is not None:
        text += f" (shadow v{slot.shadow.version} scores {slot.spec.traffic_share:.0%})"
    return text
