"""The code location loads from governance.yaml with the expected graph."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from governance_pipelines.config import PACKAGED_DEMO_CONFIG, ConfigError, GovernanceConfig
from governance_pipelines.orchestration.definitions_builder import build_definitions


def test_demo_definitions_load_grouped_by_model(demo_config: GovernanceConfig) -> None:
    defs = build_definitions(demo_config)
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for model in ("credit_default", "breast_cancer"):
        assert {
            f"{model}/training_data",
            f"{model}/training_snapshot",
            f"{model}/training_data_profile",
        } <= keys
        snapshot = graph.get(dg.AssetKey([model, "training_snapshot"]))
        assert snapshot.group_name == model
        assert snapshot.owners == [
            "alice@acme.example" if model == "credit_default" else "dan@acme.example",
            f"team:{'credit_risk' if model == 'credit_default' else 'clinical_ml'}",
        ]
        assert snapshot.description.startswith("An immutable, content-addressed snapshot")
    assert "governance/audit_log" in keys
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert ("credit_default/training_snapshot", "training_snapshot_schema_valid") in checks
    assert ("credit_default/training_snapshot", "training_snapshot_integrity") in checks
    assert ("governance/audit_log", "audit_log_chain_intact") in checks
    blocking = {key.name for key in graph.asset_check_keys if graph.get_check_spec(key).blocking}
    assert {"training_snapshot_schema_valid", "training_snapshot_integrity"} <= blocking


def test_code_location_entry_point_reads_the_configured_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from governance_pipelines import definitions

    monkeypatch.setenv("GOVERNANCE_CONFIG", str(PACKAGED_DEMO_CONFIG))
    defs = definitions.defs()
    assert (
        dg.AssetKey(["breast_cancer", "training_snapshot"])
        in defs.resolve_asset_graph().get_all_asset_keys()
    )


def test_code_location_with_a_broken_config_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance_pipelines import definitions

    broken = tmp_path / "governance.yaml"
    broken.write_text("teams: []\n")
    monkeypatch.setenv("GOVERNANCE_CONFIG", str(broken))
    with pytest.raises(ConfigError, match="teams: "):
        definitions.defs()


def test_a_fresh_checkout_loads_the_demo_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance_pipelines import definitions

    monkeypatch.chdir(tmp_path)  # no ./governance.yaml and GOVERNANCE_CONFIG unset (conftest)
    graph = definitions.defs().resolve_asset_graph()
    assert dg.AssetKey(["credit_default", "drift_report"]) in graph.get_all_asset_keys()


def test_an_explicit_config_that_is_missing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance_pipelines import definitions

    monkeypatch.setenv("GOVERNANCE_CONFIG", str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="file not found"):
        definitions.defs()
