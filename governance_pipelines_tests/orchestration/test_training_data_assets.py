"""Real materializations of the data-governance assets, checks and blocking gate."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.development.validation import build_schema, column_rules
from governance_pipelines.orchestration.audit_trail import build_audit_trail_definitions
from governance_pipelines.orchestration.handoff import (
    HANDOFF_IO_MANAGER,
    GovernanceHandoffIOManager,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.orchestration.training_data import build_training_data_definitions
from governance_pipelines.store import GovernanceStore

from .conftest import loans_frame

SNAPSHOT = dg.AssetKey(["loans", "training_snapshot"])
PROFILE = dg.AssetKey(["loans", "training_data_profile"])


def _data_governance_job(
    config: GovernanceConfig, resource: GovernanceStoreResource
) -> dg.JobDefinition:
    """The training-data assets and the audit check, without the model development above them."""
    model_defs = build_training_data_definitions(config, config.model("loans"))
    return dg.Definitions.merge(
        model_defs,
        build_audit_trail_definitions(after=[SNAPSHOT, PROFILE]),
        dg.Definitions(resources=_resources(resource)),
    ).resolve_implicit_global_asset_job_def()


def _resources(resource: GovernanceStoreResource) -> dict[str, object]:
    return {
        "governance_store": resource,
        HANDOFF_IO_MANAGER: GovernanceHandoffIOManager(governance_store=resource),
    }


def _run(config: GovernanceConfig, instance: dg.DagsterInstance, resource: GovernanceStoreResource):
    return _data_governance_job(config, resource).execute_in_process(
        instance=instance, raise_on_error=False
    )


@pytest.fixture
def resource(store_url: str, tmp_path: Path) -> GovernanceStoreResource:
    return GovernanceStoreResource(database_url=store_url, home=str(tmp_path / "home"))


def _materialization(
    result: dg.ExecuteInProcessResult, key: dg.AssetKey
) -> dg.AssetMaterialization:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return event.step_materialization_data.materialization


def test_snapshot_is_materialized_validated_and_audited(
    loans_config: Callable[..., GovernanceConfig], resource: GovernanceStoreResource
) -> None:
    with dg.instance_for_test() as instance:
        result = _run(loans_config(), instance, resource)
        assert result.success
        snapshot = _materialization(result, SNAPSHOT)
        snapshot_id = snapshot.metadata["snapshot_id"].value
        assert snapshot.metadata["dagster/row_count"].value == 6
        assert Path(snapshot.metadata["path"].value).name == f"{snapshot_id}.parquet"
        record = instance.get_latest_materialization_event(SNAPSHOT)
        assert record.asset_materialization.tags["dagster/data_version"] == snapshot_id
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks == {
            "training_snapshot_integrity": True,
            "training_snapshot_schema_valid": True,
            "audit_log_chain_intact": True,
        }
        assert PROFILE in {e.asset_key for e in result.get_asset_materialization_events()}
        # The UI's column schema is drawn from the pandera schema the gate enforces.
        shown = {c.name: c for c in snapshot.metadata["dagster/column_schema"].value.columns}
        enforced = column_rules(build_schema(loans_config().model("loans").data))
        for name, rules in enforced.items():
            assert shown[name].constraints.other == list(rules.rules)
            assert shown[name].constraints.nullable == rules.nullable

    store = resource.store
    actions = [e.action for e in store.recent_events(model_name="loans")]
    assert actions[:3] == ["model.registered", "snapshot.registered", "snapshot.taken"]
    assert actions.count("check.evaluated") == 2
    assert {c.check_name for c in store.latest_check_results("loans")} == {
        "training_snapshot_integrity",
        "training_snapshot_schema_valid",
    }
    assert store.verify_audit_chain().ok
    (chain_check,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "audit_log_chain_intact"
    ]
    # It ran after every asset that writes audit events, so it saw all of them.
    assert chain_check.metadata["events_verified"].value == store.verify_audit_chain().verified


def test_unchanged_data_keeps_its_data_version(
    loans_config: Callable[..., GovernanceConfig], resource: GovernanceStoreResource
) -> None:
    config = loans_config()
    with dg.instance_for_test() as instance:
        first = _materialization(_run(config, instance, resource), SNAPSHOT)
        second = _materialization(_run(config, instance, resource), SNAPSHOT)
        assert first.metadata["snapshot_id"] == second.metadata["snapshot_id"]
        assert second.metadata["new_snapshot"].value is False

        changed = loans_frame()
        changed.loc[2, "income"] = 61_001.0
        third = _materialization(_run(loans_config(changed), instance, resource), SNAPSHOT)
        assert third.metadata["snapshot_id"] != first.metadata["snapshot_id"]
    assert resource.store.recent_events(action="snapshot.registered", limit=10).__len__() == 2


def test_failing_validation_blocks_downstream_with_clear_metadata(
    loans_config: Callable[..., GovernanceConfig], resource: GovernanceStoreResource
) -> None:
    bad = loans_frame()
    bad.loc[[1, 4], "income"] = [-10.0, -20.0]
    bad.loc[0, "region"] = "west"
    with dg.instance_for_test() as instance:
        result = _run(loans_config(bad), instance, resource)
        assert not result.success
        (schema_check,) = [
            e
            for e in result.get_asset_check_evaluations()
            if e.check_name == "training_snapshot_schema_valid"
        ]
        assert not schema_check.passed
        assert schema_check.severity == dg.AssetCheckSeverity.ERROR
        violations = schema_check.metadata["violations_json"].value
        by_column = {(v["column"], v["check"]): v for v in violations}
        assert by_column[("income", "greater_than_or_equal_to(0.0)")]["failures"] == 2
        assert by_column[("income", "greater_than_or_equal_to(0.0)")]["examples"] == [
            "-10.0",
            "-20.0",
        ]
        assert by_column[("region", "isin(['north', 'south'])")]["examples"] == ["west"]
        assert "| income |" in schema_check.metadata["violations"].value
        assert schema_check.metadata["failures"].value == 3
        materialized = {e.asset_key for e in result.get_asset_materialization_events()}
        assert SNAPSHOT in materialized
        assert PROFILE not in materialized  # the blocking check stopped it
    (failed,) = [c for c in resource.store.latest_check_results("loans") if not c.passed]
    assert failed.check_name == "training_snapshot_schema_valid"


def test_a_tampered_snapshot_fails_its_integrity_check(
    loans_config: Callable[..., GovernanceConfig], resource: GovernanceStoreResource
) -> None:
    config = loans_config()
    with dg.instance_for_test() as instance:
        path = Path(
            _materialization(_run(config, instance, resource), SNAPSHOT).metadata["path"].value
        )
        os.chmod(path, 0o644)
        path.write_bytes(path.read_bytes().replace(b"north", b"NORTH"))
        check_job = _data_governance_job(config, resource)
        result = check_job.get_subset(
            asset_check_selection={
                dg.AssetCheckKey(SNAPSHOT, "training_snapshot_integrity"),
                dg.AssetCheckKey(SNAPSHOT, "training_snapshot_schema_valid"),
            },
            asset_selection=set(),
        ).execute_in_process(instance=instance, raise_on_error=False)
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert not evaluations["training_snapshot_integrity"].passed
        assert not evaluations["training_snapshot_schema_valid"].passed
        assert (
            "is corrupt" in evaluations["training_snapshot_schema_valid"].metadata["summary"].value
        )


def test_unreadable_source_fails_the_run_and_writes_nothing(
    loans_config: Callable[..., GovernanceConfig], resource: GovernanceStoreResource, tmp_path: Path
) -> None:
    config = loans_config()
    (tmp_path / "loans.csv").unlink()
    with dg.instance_for_test() as instance:
        result = _run(config, instance, resource)
        assert not result.success
        failure = result.failure_data_for_node("loans__training_snapshot")
        assert "does not exist; check data.source.path" in failure.error.cause.message
    with pytest.raises(Exception, match="no data snapshot yet"):
        resource.store.latest_snapshot("loans")


def test_materialize_api_runs_selected_assets(
    loans_config: Callable[..., GovernanceConfig], resource: GovernanceStoreResource
) -> None:
    config = loans_config()
    model_defs = build_training_data_definitions(config, config.model("loans"))
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [*model_defs.assets, *model_defs.asset_checks],
            selection=[SNAPSHOT],
            instance=instance,
            resources=_resources(resource),
        )
        assert result.success
        assert {e.check_name for e in result.get_asset_check_evaluations()} == {
            "training_snapshot_integrity",
            "training_snapshot_schema_valid",
        }
    assert isinstance(resource.store, GovernanceStore)
    assert pd.read_parquet(resource.store.latest_snapshot("loans").path).shape == (6, 3)
