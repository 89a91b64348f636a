"""The audit trail as a Dagster asset, so its integrity is visible and checkable in the UI."""

from collections.abc import Sequence

import dagster as dg

from governance_pipelines.orchestration import naming
from governance_pipelines.orchestration.resources import GovernanceStoreResource


def build_audit_trail_definitions(
    after: Sequence[dg.AssetKey] = (),
) -> dg.Definitions:
    """The audit log asset and its chain check.

    `after` are assets the check runs after in a run that materializes them. They must be
    assets no governance gate can skip (the models' training snapshots): a check that
    depended on every model's assets was skipped for all models as soon as one model
    failed a blocking gate. The nightly audit re-verifies the whole chain every day.
    """
    audit_log = dg.AssetSpec(
        key=naming.governance_asset_key(naming.AUDIT_LOG),
        description=(
            "The append-only, hash-chained log of every governance action (snapshots, "
            "versions, checks, approvals, alerts, config changes, access). Written by every run."
        ),
        group_name=naming.GOVERNANCE_GROUP,
        kinds={"sql"},
    )

    @dg.asset_check(
        asset=audit_log.key,
        name=naming.AUDIT_CHAIN_INTACT,
        additional_deps=list(after),
        description="Every audit event still hashes to its recorded value and follows the one before it.",
    )
    def audit_chain_intact(
        context: dg.AssetCheckExecutionContext, governance_store: GovernanceStoreResource
    ) -> dg.AssetCheckResult:
        verification = governance_store.store.verify_audit_chain()
        if not verification.ok:
            context.log.error(f"audit chain broken: {verification.problem}")
        return dg.AssetCheckResult(
            passed=verification.ok,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "events_verified": dg.MetadataValue.int(verification.verified),
                "head_hash": verification.head_hash,
                "problem": verification.problem or "none",
            },
        )

    return dg.Definitions(assets=[audit_log], asset_checks=[audit_chain_intact])
