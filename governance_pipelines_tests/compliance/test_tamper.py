"""The tamper suite: an insider with write access to the store, on SQLite and PostgreSQL.

Each test reproduces something that used to pass unnoticed, then asserts that the decision
is refused or that verification names the record. Attackers here drop the database guards
first (whoever can drop a trigger can write anything): what is left to catch them is the
audit chain, the record bindings and the seals.
"""

from __future__ import annotations

import os
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from governance_pipelines.alerting.outbox import Alert, enqueue, list_alerts
from governance_pipelines.compliance.integrity import verify_store
from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.security import approvals as workflow
from governance_pipelines.security import promotion_state as state
from governance_pipelines.security.approvals import ArtifactTampered, PromotionBlocked
from governance_pipelines.security.endpoint_management import create_endpoint
from governance_pipelines.security.endpoint_rules import define_endpoint
from governance_pipelines.security.tokens import issue_token
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.errors import RecordIntegrityError
from governance_pipelines.store.immutability import drop_append_only_triggers, drop_kept_row_guards
from governance_pipelines.store.inference_log import read_inference_log, write_inference_log
from governance_pipelines.store.schema import (
    APPEND_ONLY_TABLES,
    BOUND_TABLES,
    KEPT_TABLES,
    access_log,
    alerts,
    approvals,
)
from governance_pipelines_tests.security.test_approvals import CHECK, CONFIG_YAML, add_version


@pytest.fixture(scope="module")
def config() -> GovernanceConfig:
    return parse_config(CONFIG_YAML)


def as_insider(store: GovernanceStore, *statements: str) -> None:
    """Drop every guard, then run raw SQL, as someone holding the tables' owner role."""
    with store.engine.begin() as connection:
        drop_append_only_triggers(
            connection, (*tuple(t.name for t in APPEND_ONLY_TABLES), "audit_head")
        )
        drop_kept_row_guards(connection, tuple(t.name for t in KEPT_TABLES))
        for statement in statements:
            connection.exec_driver_sql(statement)


def problems(store: GovernanceStore) -> list[str]:
    report = verify_store(store)
    assert not report.passed
    return report.problems


def released_history(store: GovernanceStore, config: GovernanceConfig) -> int:
    """A high-risk version with two approvals, ready for production."""
    version = add_version(store, "credit")
    workflow.approve(store, config, "credit", version, "bob")
    workflow.approve(store, config, "credit", version, "carol")
    return version


# --- decisions verify before they act ----------------------------------------------------


def test_a_swapped_artifact_is_refused_audited_and_alerted(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = released_history(store, config)
    artifact = store.get_model_version("credit", version).artifact_path
    with open(artifact, "wb") as handle:  # v1's bytes, or anything else
        handle.write(b"another model")

    with pytest.raises(ArtifactTampered, match="replaced or removed after registration"):
        workflow.promote(store, config, "credit", version, "production", "frank")

    with store.engine.connect() as connection:
        denied = connection.execute(
            sa.select(access_log).order_by(access_log.c.id.desc()).limit(1)
        ).one()
    assert (denied.allowed, denied.action) == (False, "model.promote")
    assert "artifact file" in denied.reason
    raised = [a for a in list_alerts(store) if a.kind == "integrity"]
    assert raised
    assert raised[0].model_name == "credit"
    assert state.stage_timeline(store, "credit") == []
    assert any("artifact of credit v1 is altered" in p for p in problems(store))


def test_a_removed_artifact_blocks_approval_too(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store, "churn")
    os.remove(store.get_model_version("churn", version).artifact_path)
    with pytest.raises(ArtifactTampered, match="is missing"):
        workflow.approve(store, config, "churn", version, "bob")


def test_forged_check_result_and_approvals_do_not_release(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = add_version(store, "credit", check_passed=False)
    now = "2099-01-01 00:00:00"
    sha = store.get_model_version("credit", version).artifact_sha256
    as_insider(
        store,
        "INSERT INTO check_results (model_name, version, check_name, passed, severity, summary, "
        f"evidence_json, created_at) VALUES ('credit', {version}, '{CHECK}', true, 'ERROR', "
        f"'ok', '{{}}', '{now}')",
        *(
            "INSERT INTO approvals (model_name, version, artifact_sha256, user_name, role, "
            f"decision, created_at) VALUES ('credit', {version}, '{sha}', '{who}', 'approver', "
            f"'approve', '{now}')"
            for who in ("bob", "carol")
        ),
    )
    gate = state.blocking_checks_passed(store, "credit", version)
    assert [f.name for f in gate.failed] == [CHECK]
    assert state.approval_status(store, config, "credit", version).approvals == ()
    with pytest.raises(PromotionBlocked) as refused:
        workflow.promote(store, config, "credit", version, "production", "frank")
    assert "failed" in str(refused.value)
    assert "has 0" in str(refused.value)
    found = problems(store)
    assert any(p.startswith("forged: check_results row") for p in found)
    assert sum(p.startswith("forged: approvals row") for p in found) == 2


def test_a_tampered_version_record_is_not_decided_on(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    version = released_history(store, config)
    as_insider(store, "UPDATE model_versions SET created_by = 'mallory'")
    with pytest.raises(RecordIntegrityError, match="cannot be trusted: tampered: model_versions"):
        workflow.promote(store, config, "credit", version, "production", "frank")
    with pytest.raises(RecordIntegrityError):
        state.approval_status(store, config, "credit", version)


# --- every governed record is bound, both ways -------------------------------------------

TAMPERING = {
    "model_versions": 'UPDATE model_versions SET record_json = \'{"metrics": {"roc_auc": 0.999}}\'',
    "data_snapshots": "UPDATE data_snapshots SET path = '/elsewhere.parquet'",
    "model_snapshots": "UPDATE model_snapshots SET path = '/elsewhere.parquet'",
    "check_results": "UPDATE check_results SET passed = NOT passed",
    "approvals": "UPDATE approvals SET decision = 'reject'",
    "stage_transitions": "UPDATE stage_transitions SET user_name = 'mallory'",
    "access_log": "UPDATE access_log SET allowed = NOT allowed",
    "alerts": "UPDATE alerts SET message = 'all good'",
    "endpoints": 'UPDATE endpoints SET allowed_teams = \'["risk","mallory"]\'',
    "api_tokens": "UPDATE api_tokens SET team = 'mallory'",
}


def full_history(store: GovernanceStore, config: GovernanceConfig) -> None:
    """One record of every governed kind."""
    version = released_history(store, config)
    workflow.promote(store, config, "credit", version, "production", "frank")
    enqueue(
        store,
        Alert(
            model_name="credit", kind="drift", severity="WARN", day=date(2026, 1, 1), breached="x"
        ),
        actor="dagster",
    )
    endpoint = define_endpoint("credit-api", model="credit", teams="risk", rate_limit=60)
    create_endpoint(store, config, endpoint, "frank")
    issue_token(store, config, team="risk", endpoints="credit-api", expires="30d", user="frank")


def test_every_kind_of_record_is_covered() -> None:
    assert set(TAMPERING) == {t.name for t in BOUND_TABLES}


@pytest.mark.parametrize("table", sorted(TAMPERING))
def test_a_changed_record_is_named(
    store: GovernanceStore, config: GovernanceConfig, table: str
) -> None:
    full_history(store, config)
    assert verify_store(store, files=False).passed
    as_insider(store, TAMPERING[table])
    found = problems(store)
    assert any(p.startswith(f"tampered: {table} row") for p in found), found


@pytest.mark.parametrize("table", sorted(TAMPERING))
def test_a_deleted_record_is_named(
    store: GovernanceStore, config: GovernanceConfig, table: str
) -> None:
    full_history(store, config)
    if table == "data_snapshots":  # other records reference it: remove those first
        as_insider(store, "DELETE FROM model_versions", "DELETE FROM model_snapshots")
    as_insider(store, f"DELETE FROM {table}")
    found = problems(store)
    assert any(
        p.startswith("deleted: audit event #") and f"recorded {table} row" in p for p in found
    ), found


def test_a_copied_binding_does_not_vouch_for_a_forged_row(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    full_history(store, config)
    seq = None
    with store.engine.connect() as connection:
        seq = connection.execute(sa.select(sa.func.max(approvals.c.audit_seq))).scalar_one()
    sha = store.get_model_version("credit", 1).artifact_sha256
    as_insider(
        store,
        "INSERT INTO approvals (model_name, version, artifact_sha256, user_name, role, decision, "
        f"created_at, audit_seq) VALUES ('credit', 1, '{sha}', 'dave', 'approver', 'approve', "
        f"'2099-01-01 00:00:00', {seq})",
    )
    assert [a.user for a in state.approval_status(store, config, "credit", 1).approvals] == [
        "bob",
        "carol",
    ]
    assert any("forged: approvals row" in p for p in problems(store))


def test_an_emptied_chain_is_an_error_not_ok(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    full_history(store, config)
    as_insider(store, "DELETE FROM audit_log", "DELETE FROM audit_head")
    found = problems(store)
    assert any("the audit chain is empty but the store holds" in p for p in found)


# --- database guards ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_head SET seq = 0, hash = '0'", "DELETE FROM audit_head"]
)
def test_the_chain_head_only_moves_forward(
    store: GovernanceStore, config: GovernanceConfig, statement: str
) -> None:
    full_history(store, config)
    with pytest.raises(sa.exc.DBAPIError, match="immutable"), store.engine.begin() as c:
        c.exec_driver_sql(statement)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE access_log, approvals",
        "TRUNCATE audit_log, audit_head",
        "TRUNCATE inference_log",
        "TRUNCATE inference_labels",
    ],
)
def test_truncate_is_refused_on_postgres(
    postgres_url: str, tmp_path, config: GovernanceConfig, statement: str
) -> None:
    store = GovernanceStore.open(postgres_url, tmp_path / "home")
    try:
        full_history(store, config)
        with pytest.raises(sa.exc.DBAPIError, match="immutable"), store.engine.begin() as c:
            c.exec_driver_sql(statement)
        assert verify_store(store, files=False).passed
    finally:
        store.dispose()


# --- the inference log is sealed per day -------------------------------------------------


def traffic(day: str, n: int, *, start: int = 0, labelled: bool = True) -> pd.DataFrame:
    at = pd.Timestamp(day, tz="UTC")
    return pd.DataFrame(
        {
            "request_id": [f"r{day}-{i}" for i in range(start, start + n)],
            "model_name": "credit",
            "model_version": 1,
            "requested_at": [at + pd.Timedelta(minutes=i) for i in range(start, start + n)],
            "consumer_team": "lending",
            "latency_ms": 12.5,
            "status": "ok",
            "features": '{"a": 1.0}',
            "prediction": 0.25,
            "label": [float(i % 2) if labelled else None for i in range(start, start + n)],
            "label_at": pd.NaT,
        }
    )


def sealed_store(store: GovernanceStore, config: GovernanceConfig) -> None:
    add_version(store, "credit")
    write_inference_log(store.engine, traffic("2026-01-05", 20))
    seal = store.seal_inference_day("credit", date(2026, 1, 5), actor="nightly")
    assert seal is not None
    assert (seal.rows, seal.labels) == (20, 20)
    assert verify_store(store, files=False).passed


@pytest.mark.parametrize(
    "attack",
    [
        "UPDATE inference_labels SET label = 1 - label",
        "UPDATE inference_log SET prediction = 0.9 WHERE request_id = 'r2026-01-05-3'",
        "DELETE FROM inference_log WHERE request_id = 'r2026-01-05-7'",
    ],
)
def test_a_sealed_day_that_changed_is_named(
    store: GovernanceStore, config: GovernanceConfig, attack: str
) -> None:
    sealed_store(store, config)
    if "DELETE FROM inference_log" in attack:
        as_insider(store, "DELETE FROM inference_labels WHERE request_id = 'r2026-01-05-7'")
    as_insider(store, attack)
    found = problems(store)
    assert any("inference log of credit on 2026-01-05" in p for p in found), found


def test_rows_that_arrive_late_are_sealed_next_not_flagged(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    sealed_store(store, config)
    write_inference_log(store.engine, traffic("2026-01-05", 5, start=20))
    assert verify_store(store, files=False).passed  # late rows are not in the sealed slice
    again = store.seal_inference_day("credit", date(2026, 1, 5), actor="nightly")
    assert again is not None
    assert (again.rows, again.labels) == (5, 5)
    assert store.seal_inference_day("credit", date(2026, 1, 5), actor="nightly") is None
    assert verify_store(store, files=False).seals_checked == 2
    assert len(read_inference_log(store.engine, "credit")) == 25


def test_labels_are_their_own_append_only_records(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    from governance_pipelines.store.inference_log import InferenceLogError, record_labels

    add_version(store, "credit")
    write_inference_log(store.engine, traffic("2026-01-06", 4, labelled=False))
    late = pd.DataFrame({"request_id": ["r2026-01-06-0", "r2026-01-06-1"], "label": [1.0, 0.0]})
    assert record_labels(store.engine, late) == 2
    assert record_labels(store.engine, late) == 0  # the same file again adds nothing
    with pytest.raises(InferenceLogError, match="already have a different label"):
        record_labels(store.engine, late.assign(label=[0.0, 0.0]))
    with pytest.raises(InferenceLogError, match="not in the inference log"):
        record_labels(store.engine, pd.DataFrame({"request_id": ["nope"], "label": [1.0]}))
    log = read_inference_log(store.engine, "credit").set_index("request_id")
    assert log.loc["r2026-01-06-0", "label"] == 1.0
    assert pd.isna(log.loc["r2026-01-06-3", "label"])
    with pytest.raises(sa.exc.DBAPIError, match="immutable"), store.engine.begin() as c:
        c.exec_driver_sql("UPDATE inference_labels SET label = 0")


# --- verification of what exists ---------------------------------------------------------


def test_audit_verify_refuses_a_store_that_does_not_exist(tmp_path) -> None:
    from governance_pipelines.cli import main

    result = CliRunner().invoke(main, ["audit", "verify", "--home", str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    assert "there is no governance store" in result.output
    assert not (tmp_path / "nowhere" / "governance.db").exists()


def test_audit_verify_names_forged_records(
    store: GovernanceStore, config: GovernanceConfig, store_url: str
) -> None:
    from governance_pipelines.cli import main

    full_history(store, config)
    as_insider(store, "UPDATE check_results SET passed = NOT passed")
    result = CliRunner().invoke(
        main, ["audit", "verify", "--database-url", store_url, "--home", str(store.home)]
    )
    assert result.exit_code == 1
    assert "tampered: check_results row" in result.output


def test_worse_news_is_never_suppressed(store: GovernanceStore) -> None:
    def summary(severity: str) -> Alert:
        return Alert(
            model_name="governance",
            kind="audit_summary",
            severity=severity,
            day=date(2026, 1, 5),
            breached=f"audit {severity}",
        )

    assert enqueue(store, summary("INFO"), actor="nightly").status == "created"
    assert enqueue(store, summary("INFO"), actor="nightly").status == "duplicate"
    assert enqueue(store, summary("ERROR"), actor="nightly").status == "worsened"
    assert enqueue(store, summary("ERROR"), actor="nightly").status == "duplicate"
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(alerts)).scalar() == 2


def test_reproduce_refuses_a_tampered_artifact_without_a_traceback(
    store: GovernanceStore, store_url: str
) -> None:
    from governance_pipelines.cli import main

    version = add_version(store, "churn")
    with open(store.get_model_version("churn", version).artifact_path, "ab") as handle:
        handle.write(b"!")
    result = CliRunner().invoke(
        main, ["reproduce", "churn", str(version), "--database-url", store_url, "--user", "erin"]
    )
    assert result.exit_code == 1
    assert "cannot reproduce churn v1" in result.output
    assert "Traceback" not in result.output
    refused = store.recent_events(action="artifact.refused")
    assert [(e.actor, e.payload["purpose"]) for e in refused] == [("erin", "reproduce")]
    assert [a.kind for a in list_alerts(store)] == ["integrity"]


def test_reproduce_of_a_version_past_any_integer_is_a_clean_error(store_url: str, tmp_path) -> None:
    from governance_pipelines.cli import main

    GovernanceStore.open(store_url, tmp_path / "h").dispose()
    result = CliRunner().invoke(
        main, ["reproduce", "churn", str(2**70), "--database-url", store_url]
    )
    assert result.exit_code == 1
    assert "has no version" in result.output
    assert "Traceback" not in result.output
