"""The promotion workflow on SQLite and PostgreSQL: maker–checker, gates, timeline, audit."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from governance_pipelines.check_names import METRIC_THRESHOLD, REQUIRED_VERSION_CHECKS
from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.security import approvals as workflow
from governance_pipelines.security import promotion_state as state
from governance_pipelines.security.approvals import PromotionBlocked
from governance_pipelines.security.rbac import PermissionDenied
from governance_pipelines.store import GovernanceStore, UnknownRecordError
from governance_pipelines.store.errors import RecordIntegrityError
from governance_pipelines.store.immutability import drop_append_only_triggers
from governance_pipelines.store.schema import access_log, model_versions, stage_transitions

CONFIG_YAML = """
teams: [{name: risk}]
people:
  - {name: alice, team: risk, roles: [data_scientist]}
  - {name: bob, team: risk, roles: [approver]}
  - {name: carol, team: risk, roles: [approver]}
  - {name: dave, team: risk, roles: [approver]}
  - {name: frank, team: risk, roles: [admin]}
  - {name: vera, team: risk, roles: [viewer]}
  - {name: erin, team: risk, roles: [auditor]}
models:
  - name: credit
    owner: alice
    team: risk
    description: Default risk.
    labels: {risk_tier: high}
    data: {source: {kind: file, path: x.csv}, target: y, features: [a]}
    training: {estimator: {class: sklearn.linear_model.LogisticRegression}, min_metric: 0.5}
  - name: churn
    owner: alice
    team: risk
    description: Churn.
    data: {source: {kind: file, path: x.csv}, target: y, features: [a]}
    training: {estimator: {class: sklearn.linear_model.LogisticRegression}, min_metric: 0.5}
"""
CHECK = "model_version_metric_above_minimum"  # an extra blocking check, besides the gates


@pytest.fixture(scope="module")
def config() -> GovernanceConfig:
    return parse_config(CONFIG_YAML)


def add_version(
    store: GovernanceStore,
    model: str = "churn",
    *,
    actor: str = "alice",
    record: Mapping[str, Any] | None = None,
    check_passed: bool | None = True,
    all_gates: bool = True,
) -> int:
    """Register model, snapshot and the next version with a real artifact file; record its
    metric gate (`check_passed`) and, with `all_gates`, the other validation gates passed."""
    store.register_model(
        name=model, team="risk", owner="alice", description="d", config={}, actor="alice"
    )
    store.register_snapshot(
        snapshot_id=model[0] * 64,
        model_name=model,
        path="/s.parquet",
        row_count=1,
        column_count=1,
        byte_size=1,
        columns={"a": "float64"},
        source={},
        actor="alice",
    )
    count = len(store.list_model_versions(model))
    artifact = store.home / "artifacts" / f"{model}-{count + 1}.joblib"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(f"{model} artifact {count + 1}".encode())
    version, _ = store.register_model_version(
        model_name=model,
        fingerprint=f"{model}-{count + 1}",
        snapshot_id=model[0] * 64,
        artifact_sha256=hashlib.sha256(artifact.read_bytes()).hexdigest(),
        artifact_path=str(artifact),
        record=dict(record or {}),
        actor=actor,
    )
    if check_passed is not None and all_gates:
        for other in REQUIRED_VERSION_CHECKS:
            record_check(store, model, version.version, passed=True, name=other)
    if check_passed is not None:
        record_check(store, model, version.version, passed=check_passed)
    return version.version


def record_check(
    store: GovernanceStore,
    model: str,
    version: int | None,
    *,
    passed: bool,
    name: str = CHECK,
    severity: str = "ERROR",
    snapshot_id: str | None = None,
) -> None:
    store.record_check_result(
        model_name=model,
        check_name=name,
        passed=passed,
        severity=severity,
        summary="roc_auc 0.61 < 0.70" if not passed else "roc_auc 0.81 >= 0.70",
        evidence={},
        actor="dagster:run",
        version=version,
        snapshot_id=snapshot_id,
    )


def access_rows(store: GovernanceStore) -> list[sa.Row[Any]]:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(access_log).order_by(access_log.c.id)).all()


def test_required_approvals_has_a_high_risk_floor(
    config: GovernanceConfig, demo_config: GovernanceConfig
) -> None:
    assert state.required_approvals(config, "churn") == 1
    assert state.required_approvals(config, "credit") == 2  # declared 1, risk_tier high
    assert state.required_approvals(demo_config, "credit_default") == 2
    with pytest.raises(KeyError, match="no model named 'nope'"):
        state.required_approvals(config, "nope")


def test_rbac_denials_are_refused_and_audited(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store)
    with pytest.raises(PermissionDenied, match=r"vera .*lacks the permission 'model.approve'"):
        workflow.approve(store, config, "churn", version, "vera")
    with pytest.raises(PermissionDenied, match=r"alice .*lacks the permission 'model.promote'"):
        workflow.promote(store, config, "churn", version, "production", "alice")
    with pytest.raises(PermissionDenied, match=r"unknown user 'zed'.*declared: alice, bob"):
        workflow.approve(store, config, "churn", version, "zed")
    rows = access_rows(store)
    assert [(r.user_name, r.action, r.allowed) for r in rows] == [
        ("vera", "model.approve", False),
        ("alice", "model.promote", False),
        ("zed", "model.approve", False),
    ]
    denied = store.recent_events(action="access.denied")
    assert [(e.actor, e.payload["permission"]) for e in denied] == [
        ("vera", "model.approve"),
        ("alice", "model.promote"),
        ("zed", "model.approve"),
    ]
    with store.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(stage_transitions)).scalar()
            == 0
        )
    assert store.verify_audit_chain().ok


@pytest.mark.parametrize(
    ("actor", "record", "author"),
    [("bob", {}, "bob"), ("dagster:run-1", {"author": "carol"}, "carol"), ("frank", {}, "frank")],
)
def test_author_can_never_approve_their_version(
    store: GovernanceStore,
    config: GovernanceConfig,
    actor: str,
    record: dict[str, str],
    author: str,
) -> None:
    version = add_version(store, actor=actor, record=record)
    with pytest.raises(PermissionDenied, match=f"{author} is an author of churn v1.*maker–checker"):
        workflow.approve(store, config, "churn", version, author)
    assert access_rows(store)[-1].allowed is False
    assert "maker–checker" in access_rows(store)[-1].reason


def test_one_decision_per_approver_per_version(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store)
    approval = workflow.approve(store, config, "churn", version, "bob", note="metrics reviewed")
    digest = store.get_model_version("churn", version).artifact_sha256
    assert (approval.role, approval.artifact_sha256) == ("approver", digest)
    with pytest.raises(PermissionDenied, match="bob already recorded 'approve' for churn v1"):
        workflow.approve(store, config, "churn", version, "bob")
    assert [r.allowed for r in access_rows(store)] == [True, False]
    assert [e.action for e in store.recent_events()][-2:] == ["approval.recorded", "access.denied"]


def test_high_risk_model_needs_two_approvals(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store, "credit")
    workflow.approve(store, config, "credit", version, "bob", note="ok")
    with pytest.raises(PromotionBlocked) as blocked:
        workflow.promote(store, config, "credit", version, "production", "frank")
    message = str(blocked.value)
    assert "needs 2 approvals (at least 2 for a model labelled risk_tier: high)" in message
    assert "has 1 (bob)" in message
    assert "ask carol, dave, frank to run `governance approve credit 1 --user NAME`" in message
    workflow.approve(store, config, "credit", version, "carol", note="fairness ok")
    done = workflow.promote(store, config, "credit", version, "production", "frank", "go live")
    assert [a.user for a in done.approvals] == ["bob", "carol"]
    assert done.transition.stage == "production"


def test_failed_missing_or_absent_blocking_checks_block_production(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store, check_passed=False)
    with pytest.raises(PromotionBlocked, match=f"blocking check '{CHECK}' failed for v1: roc_auc"):
        workflow.promote(store, config, "churn", version, "production", "frank")
    record_check(store, "churn", version, passed=True)  # the latest result supersedes
    workflow.approve(store, config, "churn", version, "bob")
    with pytest.raises(PromotionBlocked, match="blocking check 'fairness_within_limits' has no"):
        workflow.promote(
            store, config, "churn", version, "production", "frank",
            required_checks=["fairness_within_limits"],
        )  # fmt: skip
    record_check(store, "churn", version, passed=False, name="calibration", severity="WARN")
    assert state.blocking_checks_passed(store, "churn", version).passed  # WARN never blocks
    workflow.promote(store, config, "churn", version, "production", "frank")

    unchecked = add_version(store, check_passed=None)
    workflow.approve(store, config, "churn", unchecked, "bob")
    with pytest.raises(PromotionBlocked, match=f"'{METRIC_THRESHOLD}' has no result for v2"):
        workflow.promote(store, config, "churn", unchecked, "production", "frank")


def test_callers_cannot_drop_the_validation_gates(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store, check_passed=None)
    record_check(store, "churn", version, passed=True)  # the metric gate alone
    workflow.approve(store, config, "churn", version, "bob")
    with pytest.raises(PromotionBlocked) as blocked:
        workflow.promote(store, config, "churn", version, "production", "frank", required_checks=())
    for gate in REQUIRED_VERSION_CHECKS:
        assert f"blocking check '{gate}' has no result for v1" in str(blocked.value)


def test_failed_snapshot_check_blocks_versions_trained_on_it(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store)
    record_check(store, "churn", None, passed=False, name="schema_valid", snapshot_id="c" * 64)
    gate = state.blocking_checks_passed(store, "churn", version)
    assert [f.name for f in gate.failed] == ["schema_valid"]


def test_staging_needs_no_failed_check_but_no_approvals(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    failing = add_version(store, check_passed=False)
    with pytest.raises(PromotionBlocked, match="failed for v1"):
        workflow.promote(store, config, "churn", failing, "staging", "frank")
    unchecked = add_version(store, check_passed=None)
    workflow.promote(store, config, "churn", unchecked, "staging", "frank", "candidate")
    with pytest.raises(PromotionBlocked, match="already in staging"):
        workflow.promote(store, config, "churn", unchecked, "staging", "frank")
    workflow.promote(store, config, "churn", failing, "archived", "frank", "withdrawn")


def test_rejection_blocks_production_and_needs_a_note(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store)
    with pytest.raises(ValueError, match="rejection needs a note"):
        workflow.approve(store, config, "churn", version, "bob", decision="reject")
    workflow.approve(store, config, "churn", version, "bob", "leaks the target", "reject")
    workflow.approve(store, config, "churn", version, "carol")
    with pytest.raises(PromotionBlocked, match=r"bob rejected v1 .*leaks the target"):
        workflow.promote(store, config, "churn", version, "production", "frank")


def test_approval_is_bound_to_the_artifact_digest(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store)
    approval = workflow.approve(store, config, "churn", version, "bob")
    assert approval.artifact_sha256 == store.get_model_version("churn", version).artifact_sha256
    with store.transaction() as connection:  # someone swaps the digest behind the registry
        drop_append_only_triggers(connection, ("model_versions",))
        connection.execute(model_versions.update().values(artifact_sha256="f" * 64))
    # The version's record no longer matches what its audit event recorded: nothing is
    # decided on it, neither re-approval nor promotion (compliance/test_tamper.py has more).
    with pytest.raises(RecordIntegrityError, match="tampered: model_versions row"):
        state.approval_status(store, config, "churn", version)
    with pytest.raises(RecordIntegrityError):
        workflow.approve(store, config, "churn", version, "carol", note="re-reviewed")
    with pytest.raises(RecordIntegrityError):
        workflow.promote(store, config, "churn", version, "production", "frank")


def test_rollback_appends_to_the_timeline(
    store: GovernanceStore, config: GovernanceConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = iter(
        datetime(2026, month, day, 9, tzinfo=UTC) for month, day in [(1, 10), (2, 20), (3, 5)]
    )
    monkeypatch.setattr(workflow, "_now", lambda: next(days))
    v1, v2 = add_version(store), add_version(store)
    workflow.approve(store, config, "churn", v1, "bob", note="v1 fine")
    workflow.approve(store, config, "churn", v2, "carol", note="v2 better")
    monkeypatch.setattr(workflow, "_now", lambda: datetime(2026, 1, 15, tzinfo=UTC))
    workflow.promote(store, config, "churn", v1, "production", "frank", "first release")
    monkeypatch.setattr(workflow, "_now", lambda: datetime(2026, 2, 25, tzinfo=UTC))
    assert workflow.promote(store, config, "churn", v2, "production", "frank").archived == (1,)
    monkeypatch.setattr(workflow, "_now", lambda: datetime(2026, 3, 10, tzinfo=UTC))
    rollback = workflow.promote(store, config, "churn", v1, "production", "frank", "v2 drifted")
    assert rollback.archived == (2,)

    timeline = state.stage_timeline(store, "churn")
    assert [(t.version, t.stage) for t in timeline] == [
        (1, "production"), (1, "archived"), (2, "production"),
        (2, "archived"), (1, "production"),
    ]  # fmt: skip
    assert state.current_stages(timeline) == {1: "production", 2: "archived"}

    found = state.version_in_stage_at(store, "churn", "production", datetime(2026, 3, 1))
    assert found is not None
    assert found.version.version == 2
    assert found.transition.user == "frank"
    assert [(a.user, a.note) for a in found.approvals] == [("carol", "v2 better")]
    now = state.version_in_stage_at(store, "churn", "production", datetime(2026, 3, 11))
    assert now is not None
    assert now.transition.reason == "v2 drifted"
    assert state.version_in_stage_at(store, "churn", "production", datetime(2026, 1, 1)) is None
    assert store.verify_audit_chain().ok


def test_unknown_version_is_audited(store: GovernanceStore, config: GovernanceConfig) -> None:
    add_version(store)
    with pytest.raises(UnknownRecordError, match=r"no version 7 \(registered versions: 1\)"):
        workflow.promote(store, config, "churn", 7, "production", "frank")
    assert access_rows(store)[-1].allowed is False


def test_every_attempt_is_in_access_log_and_audit_chain(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store)
    attempts = [
        lambda: workflow.approve(store, config, "churn", version, "vera"),
        lambda: workflow.promote(store, config, "churn", version, "production", "frank"),
        lambda: workflow.approve(store, config, "churn", version, "bob", note="ok"),
        lambda: workflow.promote(store, config, "churn", version, "production", "erin"),
        lambda: workflow.promote(store, config, "churn", version, "production", "frank"),
    ]
    for attempt in attempts:
        with contextlib.suppress(PermissionDenied, PromotionBlocked):
            attempt()
    rows = access_rows(store)
    assert [(r.user_name, r.allowed) for r in rows] == [
        ("vera", False), ("frank", False), ("bob", True), ("erin", False), ("frank", True),
    ]  # fmt: skip
    access_events = [e for e in store.recent_events(limit=100) if e.action.startswith("access.")]
    assert [(e.actor, e.action) for e in access_events] == [
        (r.user_name, "access.allowed" if r.allowed else "access.denied") for r in rows
    ]
    assert "needs 1 approval (required_approvals for churn)" in rows[1].reason
    blocked = access_events[1].payload
    assert (blocked["reason"], blocked["stage"]) == (rows[1].reason, "production")
    assert store.recent_events(action="model_version.promoted")[0].payload["approved_by"] == ["bob"]
    assert store.verify_audit_chain().ok


def test_a_version_whose_gates_failed_cannot_be_approved_only_rejected(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store, check_passed=False)
    with pytest.raises(PromotionBlocked, match=f"blocking check '{CHECK}' failed for v1"):
        workflow.approve(store, config, "churn", version, "bob")
    assert access_rows(store)[-1].allowed is False
    rejected = workflow.approve(store, config, "churn", version, "bob", "metric too low", "reject")
    assert rejected.decision == "reject"


@pytest.mark.parametrize("version", [2**63, 2**64 + 1, 0, -3])
def test_a_version_past_any_integer_is_unknown_and_audited(
    store: GovernanceStore, config: GovernanceConfig, version: int
) -> None:
    add_version(store)
    with pytest.raises(UnknownRecordError, match=r"has no version .* \(registered versions: 1\)"):
        workflow.approve(store, config, "churn", version, "bob")
    denied = access_rows(store)[-1]
    assert (denied.allowed, denied.user_name) == (False, "bob")
    with pytest.raises(UnknownRecordError):
        workflow.promote(store, config, "churn", version, "production", "frank")
