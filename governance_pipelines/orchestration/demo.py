"""`governance demo`: the whole governance graph, in-process, on the embedded default.

The demo uses a persistent Dagster instance (DAGSTER_HOME, or a folder under the
governance home) so that its runs, checks and metadata are there to browse in the UI.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from governance_pipelines.config import (
    PACKAGED_DEMO_CONFIG,
    GovernanceConfig,
    load_config,
    resolve_config_path,
)
from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.definitions_builder import build_definitions
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.engine import database_url, governance_home


@dataclass(frozen=True)
class ModelOutcome:
    name: str
    snapshot_id: str | None
    rows: int | None
    snapshot_path: str | None
    checks: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoOutcome:
    success: bool
    config_path: Path
    store_url: str
    home: Path
    dagster_home: Path
    run_id: str
    models: list[ModelOutcome]
    audit_events_verified: int
    audit_ok: bool


def demo_config_path(explicit: str | None = None) -> Path:
    """An explicit file, GOVERNANCE_CONFIG, ./governance.yaml, else the packaged demo."""
    if explicit or os.environ.get("GOVERNANCE_CONFIG"):
        return resolve_config_path(explicit)
    local = resolve_config_path()
    return local if local.exists() else PACKAGED_DEMO_CONFIG


def run_demo(config_path: Path, *, home: Path | None = None, url: str | None = None) -> DemoOutcome:
    config = load_config(config_path)
    home_path = governance_home(home).resolve()
    store_url = database_url(url, home_path)
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or home_path / "dagster").resolve()
    _prepare_dagster_home(dagster_home)
    resource = GovernanceStoreResource(database_url=store_url, home=str(home_path))
    job = build_definitions(
        config, governance_store=resource
    ).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        models = _model_outcomes(config, instance, result)
    store = GovernanceStore.open(store_url, home_path)
    try:
        verification = store.verify_audit_chain()
    finally:
        store.dispose()
    return DemoOutcome(
        success=result.success,
        config_path=config_path,
        store_url=store_url,
        home=home_path,
        dagster_home=dagster_home,
        run_id=result.run_id,
        models=models,
        audit_events_verified=verification.verified,
        audit_ok=verification.ok,
    )


def _prepare_dagster_home(dagster_home: Path) -> None:
    """A local instance for the demo's runs; telemetry off unless the user configured it."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    settings = dagster_home / "dagster.yaml"
    if not settings.exists():
        settings.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")


def _model_outcomes(
    config: GovernanceConfig, instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult
) -> list[ModelOutcome]:
    checks: dict[str, dict[str, bool]] = {}
    for evaluation in result.get_asset_check_evaluations():
        model_name = evaluation.asset_key.path[0]
        checks.setdefault(model_name, {})[evaluation.check_name] = evaluation.passed
    outcomes = []
    for model in config.models:
        event = instance.get_latest_materialization_event(
            naming.model_asset_key(model.name, naming.TRAINING_SNAPSHOT)
        )
        metadata = (
            event.asset_materialization.metadata if event and event.asset_materialization else {}
        )
        outcomes.append(
            ModelOutcome(
                name=model.name,
                snapshot_id=_value(metadata.get("snapshot_id")),
                rows=_value(metadata.get("dagster/row_count")),
                snapshot_path=_value(metadata.get("path")),
                checks=checks.get(model.name, {}),
            )
        )
    return outcomes


def _value(entry: dg.MetadataValue | None):
    return None if entry is None else entry.value
