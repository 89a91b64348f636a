"""dagster.yaml: SQLite by default, and its commented PostgreSQL block really works."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


def _postgres_block() -> str:
    text = (REPO_ROOT / "dagster.yaml").read_text()
    block = re.search(r"# BEGIN POSTGRES\n(.*?)# END POSTGRES", text, re.S)
    assert block, "dagster.yaml lost its PostgreSQL block markers"
    return "\n".join(line.removeprefix("# ") for line in block.group(1).splitlines())


def test_default_instance_settings_are_valid_yaml_without_storage() -> None:
    settings = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    assert settings == {"telemetry": {"enabled": False}}


def test_workspace_loads_the_governance_code_location() -> None:
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    assert entry["python_module"]["module_name"] == "governance_pipelines.definitions"
    assert entry["python_module"]["location_name"] == "governance_pipelines"


def test_postgres_block_runs_a_job(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dagster.yaml").write_text(_postgres_block())
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres_url)

    @dg.asset
    def probe() -> int:
        return 1

    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = dg.materialize([probe], instance=instance)
        assert result.success
        assert instance.get_latest_materialization_event(dg.AssetKey("probe")) is not None
