"""From `governance.yaml` to Dagster definitions: one factory call per declared model."""

from __future__ import annotations

import dagster as dg

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.orchestration.audit_trail import build_audit_trail_definitions
from governance_pipelines.orchestration.model_development import build_model_development_definitions
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.training_data import build_training_data_definitions


def build_definitions(
    config: GovernanceConfig, *, governance_store: GovernanceStoreResource | None = None
) -> dg.Definitions:
    """All assets, checks, jobs, schedules and sensors for the models in `config`."""
    per_model = [
        factory(config, model)
        for model in config.models
        for factory in (build_training_data_definitions, build_model_development_definitions)
    ]
    writers = [spec.key for model_defs in per_model for spec in _materializable_specs(model_defs)]
    return dg.Definitions.merge(
        *per_model,
        build_audit_trail_definitions(written_by=writers),
        dg.Definitions(
            resources={"governance_store": governance_store or GovernanceStoreResource()}
        ),
    )


def _materializable_specs(definitions: dg.Definitions) -> list[dg.AssetSpec]:
    return [
        spec
        for asset in definitions.assets or []
        if isinstance(asset, dg.AssetsDefinition)
        for spec in asset.specs
    ]
