"""`dagster dev -w workspace.yaml` really serves the demo's assets, grouped by model.

The in-process tests in `orchestration/test_definitions.py` build the Definitions object
directly; they cannot see what a person gets from the README's "Open the Dagster UI"
command: the workspace file, the code server subprocess and the GraphQL API the UI reads.
This test starts the real `dagster dev` on a free port, asks its GraphQL endpoint for the
asset graph, and always stops the whole process group afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

from governance_pipelines_tests.dagster_dev_server import (
    REPO_ROOT,
    dagster_dev,
    graphql,
    group_is_gone,
    wait_until_loaded,
)

ASSET_GRAPH_QUERY = """
query GovernanceAssetGraph {
  assetNodes {
    assetKey { path }
    groupName
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name blocking } }
    }
  }
}
"""


def test_dagster_dev_lists_the_demo_assets_grouped_by_model(tmp_path: Path) -> None:
    env = {**os.environ, "GOVERNANCE_HOME": str(tmp_path / "governance_home")}
    # As in a fresh clone: no governance.yaml in the repo root and no GOVERNANCE_CONFIG, so
    # the code location falls back to the packaged demo models.
    assert not (REPO_ROOT / "governance.yaml").exists()
    for name in ("GOVERNANCE_CONFIG", "GOVERNANCE_DATABASE_URL", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    with dagster_dev(tmp_path, env) as (port, log_path, group):
        wait_until_loaded(port, log_path)
        nodes = graphql(port, ASSET_GRAPH_QUERY)["assetNodes"]
    assert group_is_gone(group)

    groups = {"/".join(node["assetKey"]["path"]): node["groupName"] for node in nodes}
    checks: dict[str, dict[str, bool]] = {}
    for node in nodes:
        result = node["assetChecksOrError"]
        assert result["__typename"] == "AssetChecks", result
        checks["/".join(node["assetKey"]["path"])] = {
            check["name"]: check["blocking"] for check in result["checks"]
        }

    assert groups.get("credit_default/training_snapshot") == "credit_default", groups
    assert groups.get("breast_cancer/training_snapshot") == "breast_cancer", groups
    assert groups.get("governance/audit_log") == "governance", groups
    for model in ("credit_default", "breast_cancer"):
        model_assets = {key: group for key, group in groups.items() if key.startswith(f"{model}/")}
        assert {f"{model}/training_data", f"{model}/training_data_profile"} <= set(model_assets)
        assert set(model_assets.values()) == {model}, model_assets
        snapshot_checks = checks[f"{model}/training_snapshot"]
        assert snapshot_checks.get("training_snapshot_schema_valid") is True, snapshot_checks
        assert snapshot_checks.get("training_snapshot_integrity") is True, snapshot_checks
    assert "audit_log_chain_intact" in checks["governance/audit_log"], checks
