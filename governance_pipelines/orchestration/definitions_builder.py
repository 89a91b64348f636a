"""From `governance.yaml` to Dagster definitions: one factory call per declared model."""

import os

import dagster as dg

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.alerts import SlackAlertsResource, build_alert_sensors
from governance_pipelines.orchestration.audit_trail import build_audit_trail_definitions
from governance_pipelines.orchestration.card_refresh import build_card_refresh_sensor
from governance_pipelines.orchestration.catalog import build_catalog_definitions, model_catalog_key
from governance_pipelines.orchestration.costs import build_cost_definitions
from governance_pipelines.orchestration.daily_assets import daily_partitions
from governance_pipelines.orchestration.handoff import (
    HANDOFF_IO_MANAGER,
    GovernanceHandoffIOManager,
)
from governance_pipelines.orchestration.model_development import build_model_development_definitions
from governance_pipelines.orchestration.monitoring import build_monitoring_definitions
from governance_pipelines.orchestration.nightly_audit import build_nightly_audit_definitions
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.training_data import build_training_data_definitions

DEVELOPMENT_JOB = "governance_development_job"


def build_definitions(
    config: GovernanceConfig,
    *,
    governance_store: GovernanceStoreResource | None = None,
    slack: SlackAlertsResource | None = None,
) -> dg.Definitions:
    """All assets, checks, jobs, schedules and sensors for the models in `config`."""
    partitions = daily_partitions(config)
    store = governance_store or GovernanceStoreResource()
    development = [
        factory(config, model)
        for model in config.models
        for factory in (build_training_data_definitions, build_model_development_definitions)
    ]
    monitoring = [
        build_monitoring_definitions(config, model, partitions) for model in config.models
    ]
    unpartitioned = [
        spec.key
        for definitions in (*development, *monitoring)
        for spec in _materializable_specs(definitions)
        if spec.partitions_def is None
    ]
    audit_log_key = naming.governance_asset_key(naming.AUDIT_LOG)
    development_job = dg.define_asset_job(
        DEVELOPMENT_JOB,
        selection=dg.AssetSelection.assets(*unpartitioned, model_catalog_key())
        | dg.AssetSelection.checks_for_assets(audit_log_key, model_catalog_key()),
        description="Snapshot, validate, train, check and document every model; publish the "
        "model catalog; then verify the audit chain.",
    )
    return dg.Definitions.merge(
        *development,
        *monitoring,
        build_audit_trail_definitions(
            after=[naming.model_asset_key(m.name, naming.TRAINING_SNAPSHOT) for m in config.models]
        ),
        build_nightly_audit_definitions(config, partitions),
        build_cost_definitions(config, partitions),
        build_catalog_definitions(config),
        dg.Definitions(
            jobs=[development_job],
            sensors=[*build_alert_sensors(config), build_card_refresh_sensor(config)],
            resources={
                "governance_store": store,
                HANDOFF_IO_MANAGER: GovernanceHandoffIOManager(governance_store=store),
                "slack": slack or _slack_from_environment(),
            },
        ),
    )


def _slack_from_environment() -> SlackAlertsResource:
    """The token is bound as an EnvVar (never copied into config); unset means record-only."""
    token = dg.EnvVar("SLACK_BOT_TOKEN") if os.environ.get("SLACK_BOT_TOKEN") else None
    return SlackAlertsResource(
        token=token, base_url=os.environ.get("GOVERNANCE_SLACK_BASE_URL") or None
    )


def _materializable_specs(definitions: dg.Definitions) -> list[dg.AssetSpec]:
    return [
        spec
        for asset in definitions.assets or []
        if isinstance(asset, dg.AssetsDefinition)
        for spec in asset.specs
    ]
