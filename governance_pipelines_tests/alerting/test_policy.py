"""Alert policy as plain functions: which failures page whom, with which figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

from governance_pipelines import check_names
from governance_pipelines.alerting.messages import AlertKind
from governance_pipelines.alerting.policy import alert_for, run_failure_alerts
from governance_pipelines.config import GovernanceConfig
from governance_pipelines.store.check_records import CheckResultRecord


def result(check: str, passed: bool, evidence: dict, model: str = "credit_default"):
    return CheckResultRecord(
        model_name=model,
        check_name=check,
        passed=passed,
        severity="WARN",
        summary="6 of 14 columns drifted",
        evidence=evidence,
        version=1,
        snapshot_id=None,
        created_at=datetime(2026, 3, 2, 23, tzinfo=UTC),
    )


def test_a_failed_drift_check_pages_the_owners_with_its_figures(
    demo_config: GovernanceConfig,
) -> None:
    evidence = {"day": "2026-03-01", "drift_share": 0.43, "share_threshold": 0.3}
    alert = alert_for(demo_config, result(check_names.NO_DATASET_DRIFT, False, evidence), link="u")
    assert alert is not None
    assert (alert.kind, alert.day, alert.value, alert.threshold) == (
        AlertKind.DRIFT,
        date(2026, 3, 1),
        0.43,
        0.3,
    )
    assert alert.channel == "#credit-risk-ml"
    assert alert.url == "u"


def test_passes_unwatched_checks_and_undeclared_models_page_nobody(
    demo_config: GovernanceConfig,
) -> None:
    assert alert_for(demo_config, result(check_names.NO_DATASET_DRIFT, True, {})) is None
    assert alert_for(demo_config, result("calibration", False, {})) is None
    assert alert_for(demo_config, result(check_names.WITHIN_SLA, False, {}, model="gone")) is None


def test_a_failed_run_tells_the_models_it_touched_or_all(demo_config: GovernanceConfig) -> None:
    common = {"run_id": "abcdef123456", "job_name": "nightly_audit_job", "message": "boom"}
    day = date(2026, 3, 2)
    touched = run_failure_alerts(demo_config, touched_models={"breast_cancer"}, day=day, **common)
    assert [a.model_name for a in touched] == ["breast_cancer"]
    everyone = run_failure_alerts(demo_config, touched_models=set(), day=day, **common)
    assert sorted(a.model_name for a in everyone) == ["breast_cancer", "credit_default"]
    assert everyone[0].breached == "run abcdef12 of nightly_audit_job failed: boom"
