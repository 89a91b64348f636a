"""Asset names and keys, in one place so sensors, jobs and tests agree on them (check names
are `governance_pipelines.check_names`, shared with the layers below)."""

from __future__ import annotations

import dagster as dg

GOVERNANCE_GROUP = "governance"

TRAINING_DATA = "training_data"
TRAINING_SNAPSHOT = "training_snapshot"
TRAINING_DATA_PROFILE = "training_data_profile"
AUDIT_LOG = "audit_log"

AUDIT_CHAIN_INTACT = "audit_log_chain_intact"


def model_asset_key(model_name: str, asset_name: str) -> dg.AssetKey:
    return dg.AssetKey([model_name, asset_name])


def governance_asset_key(asset_name: str) -> dg.AssetKey:
    return dg.AssetKey([GOVERNANCE_GROUP, asset_name])


def run_actor(
    context: dg.OpExecutionContext | dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> str:
    """Who did it, for the audit log: Dagster runs act as `dagster:<run id>`."""
    return f"dagster:{context.run.run_id}"


MODEL_VERSION = "model_version"
MODEL_CARD = "model_card"

INFERENCE_LOG = "inference_log"
REFERENCE_PROFILE = "reference_profile"
DRIFT_REPORT = "drift_report"
MODEL_PERFORMANCE = "model_performance"
SLA_REPORT = "sla_report"
USAGE_REPORT = "usage_report"
NIGHTLY_AUDIT = "nightly_audit"
