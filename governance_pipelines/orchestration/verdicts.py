"""One way for a Dagster check to record its verdict: in the governance store, then in Dagster.

The store is the system of record (the audit trail, the alert sensor and the promotion
gate read it); Dagster's check result is what the UI shows. Both carry the same summary.
"""

from typing import Any

import dagster as dg

from governance_pipelines.orchestration import naming
from governance_pipelines.store import GovernanceStore

_SEVERITY = {"ERROR": dg.AssetCheckSeverity.ERROR, "WARN": dg.AssetCheckSeverity.WARN}


def check_verdict(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
    store: GovernanceStore,
    *,
    model_name: str,
    check_name: str,
    passed: bool,
    summary: str,
    evidence: dict[str, Any],
    severity: str = "ERROR",
    version: int | None = None,
    snapshot_id: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dg.AssetCheckResult:
    """Record the verdict (audited) and return it as the Dagster check result."""
    store.record_check_result(
        model_name=model_name,
        check_name=check_name,
        passed=passed,
        severity=severity,
        summary=summary,
        evidence=evidence,
        actor=naming.run_actor(context),
        version=version,
        snapshot_id=snapshot_id,
        run_id=context.run.run_id,
    )
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=passed,
        severity=_SEVERITY[severity],
        metadata={"summary": summary, **(metadata or {})},
    )
