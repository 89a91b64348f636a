"""Names of every governance check (validation gates, daily monitoring, the nightly audit).

The promotion workflow and the CLI need to know which checks a version must have passed;
they should not have to import the machinery that evaluates them.
"""

from __future__ import annotations

SNAPSHOT_INTEGRITY = "training_snapshot_integrity"
SNAPSHOT_SCHEMA_VALID = "training_snapshot_schema_valid"

METRIC_THRESHOLD = "model_version_metric_threshold"
NO_LEAKAGE = "model_version_no_leakage"
REPRODUCIBLE = "model_version_reproducible"
EXPLAINABLE = "model_version_explainable"
FAIR = "model_version_fair"
AB_TEST = "model_version_ab_test"

# Every registered version must have passed these blocking checks before production.
REQUIRED_VERSION_CHECKS = (METRIC_THRESHOLD, NO_LEAKAGE, REPRODUCIBLE, EXPLAINABLE, FAIR)

# Daily monitoring checks (WARN: they alert, they never block).
INFERENCE_ROWS_VALID = "inference_log_rows_valid"
NO_DATASET_DRIFT = "drift_report_no_dataset_drift"
PERFORMANCE_WITHIN_TOLERANCE = "model_performance_within_tolerance"
WITHIN_SLA = "sla_report_within_sla"
NIGHTLY_AUDIT_PASSED = "nightly_audit_passed"
CONSUMERS_KNOWN = "usage_report_consumers_known"
# Blocking: allocated equals incurred (and the bill) to the cent.
COSTS_RECONCILED = "cost_allocation_reconciled"
DAILY_CHECKS = (
    INFERENCE_ROWS_VALID,
    NO_DATASET_DRIFT,
    PERFORMANCE_WITHIN_TOLERANCE,
    WITHIN_SLA,
    NIGHTLY_AUDIT_PASSED,
    CONSUMERS_KNOWN,
    COSTS_RECONCILED,
)
