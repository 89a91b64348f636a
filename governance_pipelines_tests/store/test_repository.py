"""Store records: idempotent registration, immutability, versions numbered per model."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from governance_pipelines.store import (
    GovernanceStore,
    ImmutableRecordError,
    StoreError,
    UnknownRecordError,
)
from governance_pipelines.store.engine import StoreConfigurationError


def _model(store: GovernanceStore, name: str = "credit") -> None:
    store.register_model(
        name=name, team="risk", owner="alice", description="d", config={"a": 1}, actor="alice"
    )


def _snapshot(store: GovernanceStore, snapshot_id: str = "a" * 64, model: str = "credit"):
    return store.register_snapshot(
        snapshot_id=snapshot_id,
        model_name=model,
        path=f"/snapshots/{snapshot_id}.parquet",
        row_count=10,
        column_count=2,
        byte_size=100,
        columns={"x": "float64", "y": "int64"},
        source={"kind": "file", "path": "x.csv"},
        actor="alice",
    )


def _version(store: GovernanceStore, fingerprint: str, model: str = "credit"):
    return store.register_model_version(
        model_name=model,
        fingerprint=fingerprint,
        snapshot_id="a" * 64,
        artifact_sha256="b" * 64,
        artifact_path="/artifacts/x.pkl",
        record={"params": {"n": 1}},
        actor="alice",
    )


def test_model_registration_audits_config_changes(store: GovernanceStore) -> None:
    _model(store)
    assert (
        store.register_model(
            name="credit", team="risk", owner="alice", description="d", config={"a": 1}, actor="x"
        )
        == "unchanged"
    )
    assert (
        store.register_model(
            name="credit", team="risk", owner="alice", description="d", config={"a": 2}, actor="x"
        )
        == "config_changed"
    )
    actions = [e.action for e in store.recent_events()]
    assert actions == ["model.registered", "model.config_changed"]


def test_snapshot_registration_is_idempotent(store: GovernanceStore) -> None:
    _model(store)
    first, created = _snapshot(store)
    again, created_again = _snapshot(store)
    assert created
    assert not created_again
    assert again == first
    assert store.get_snapshot("a" * 64).columns == {"x": "float64", "y": "int64"}
    assert store.latest_snapshot("credit").snapshot_id == "a" * 64
    assert [e.action for e in store.recent_events()].count("snapshot.registered") == 1


def test_models_sharing_snapshot_content_each_keep_their_own_source(
    store: GovernanceStore,
) -> None:
    """Two models trained on identical data used to share one record owned by the first."""
    _model(store, "credit")
    _model(store, "churn")
    _snapshot(store, model="credit")
    shared, created = store.register_snapshot(
        snapshot_id="a" * 64,
        model_name="churn",
        path="/snapshots/churn/aaa.parquet",
        row_count=10,
        column_count=2,
        byte_size=100,
        columns={"x": "float64", "y": "int64"},
        source={"kind": "sql", "url": "postgresql://warehouse/churn"},
        actor="bob",
    )
    assert not created  # the content is shared ...
    assert (shared.model_name, shared.path) == ("churn", "/snapshots/churn/aaa.parquet")
    churn = store.get_snapshot("a" * 64, "churn")  # ... the lineage is each model's own
    assert (churn.source["kind"], churn.created_by) == ("sql", "bob")
    credit = store.get_snapshot("a" * 64, "credit")
    assert (credit.model_name, credit.source["kind"]) == ("credit", "file")
    assert store.latest_snapshot("churn").path == "/snapshots/churn/aaa.parquet"
    taken = store.recent_events(action="snapshot.taken")
    assert [e.model_name for e in taken] == ["credit", "churn"]


def test_versions_are_numbered_per_model_and_deduplicated(store: GovernanceStore) -> None:
    _model(store)
    _model(store, "cancer")
    _snapshot(store)
    v1, created1 = _version(store, "f1")
    v2, _ = _version(store, "f2")
    again, created_again = _version(store, "f1")
    other, _ = _version(store, "f1", model="cancer")
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert created1
    assert not created_again
    assert again.version == 1
    assert [v.version for v in store.list_model_versions("credit")] == [1, 2]
    assert store.get_model_version("credit", 2).record == {"params": {"n": 1}}


def test_unknown_records_say_what_to_do(store: GovernanceStore) -> None:
    with pytest.raises(UnknownRecordError, match="materialize its training_snapshot"):
        store.latest_snapshot("credit")
    with pytest.raises(UnknownRecordError, match="no version 3"):
        store.get_model_version("credit", 3)


def test_changing_an_immutable_record_is_refused_and_audited(store: GovernanceStore) -> None:
    _model(store)
    _snapshot(store)
    _version(store, "f1")
    with pytest.raises(ImmutableRecordError, match="cannot be deleted; register a new version"):
        store.delete_model_version("credit", 1, actor="mallory")
    with pytest.raises(ImmutableRecordError, match="cannot be updated"):
        store.update_model_version("credit", 1, actor="mallory", artifact_sha256="c" * 64)
    with pytest.raises(ImmutableRecordError, match="take a new snapshot"):
        store.delete_snapshot("a" * 64, actor="mallory")
    denied = store.recent_events(action="record.change_denied")
    assert [(e.actor, e.payload["operation"]) for e in denied] == [
        ("mallory", "delete"),
        ("mallory", "update"),
        ("mallory", "delete"),
    ]
    assert store.get_model_version("credit", 1).artifact_sha256 == "b" * 64
    assert store.verify_audit_chain().ok


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        ("model_versions", "UPDATE model_versions SET artifact_sha256 = 'x'"),
        ("data_snapshots", "DELETE FROM data_snapshots"),
        ("check_results", "DELETE FROM check_results"),
    ],
)
def test_database_guards_append_only_tables(
    store: GovernanceStore, table: str, statement: str
) -> None:
    _model(store)
    _snapshot(store)
    _version(store, "f1")
    store.record_check_result(
        model_name="credit",
        check_name="c",
        passed=True,
        severity="ERROR",
        summary="ok",
        evidence={},
        actor="a",
    )
    with pytest.raises(ImmutableRecordError, match="append-only"):
        store.run_guarded(
            lambda c: c.exec_driver_sql(statement), actor="script", description=f"change {table}"
        )
    assert store.recent_events(action="record.change_denied")[-1].payload == {
        "operation": f"change {table}"
    }
    assert store.get_model_version("credit", 1).artifact_sha256 == "b" * 64


def test_check_results_keep_history_and_report_the_latest(store: GovernanceStore) -> None:
    for passed in (False, True):
        store.record_check_result(
            model_name="credit",
            check_name="schema",
            passed=passed,
            severity="ERROR",
            summary=str(passed),
            evidence={"n": 1},
            actor="a",
        )
    (latest,) = store.latest_check_results("credit")
    assert latest.passed
    assert latest.evidence == {"n": 1}
    assert latest.created_at.tzinfo is not None


def test_bad_urls_get_clear_errors(tmp_path) -> None:
    with pytest.raises(StoreConfigurationError, match="not a SQLAlchemy URL"):
        GovernanceStore.open("not a url", tmp_path)
    with pytest.raises(StoreConfigurationError, match="supports SQLite and PostgreSQL"):
        GovernanceStore.open("mysql://localhost/x", tmp_path)
    with pytest.raises(StoreError, match="cannot connect to the governance store"):
        GovernanceStore.open("postgresql+psycopg2://nobody@127.0.0.1:1/none", tmp_path)


def test_unwritable_home_is_named(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreConfigurationError, match="set GOVERNANCE_HOME to a writable folder"):
        GovernanceStore.open(None, blocker / "home")


def test_store_survives_reopening(tmp_path) -> None:
    first = GovernanceStore.open(None, tmp_path)
    first.record_event(actor="a", action="x")
    first.dispose()
    second = GovernanceStore.open(None, tmp_path)
    assert second.verify_audit_chain().verified == 1
    with second.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    second.dispose()


def test_sqlite_schema_has_triggers(sqlite_store: GovernanceStore) -> None:
    with sqlite_store.engine.connect() as connection:
        names = {
            row[0]
            for row in connection.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type='trigger'")
            )
        }
    assert {"audit_log_no_update", "audit_log_no_delete", "model_versions_no_update"} <= names


def test_a_long_read_never_blocks_writers_and_sees_one_snapshot(store: GovernanceStore) -> None:
    """Verification reads a consistent snapshot; on SQLite it used to hold the write lock."""
    import time

    for i in range(3):
        store.record_event(actor="alice", action="test.event", payload={"i": i})
    with store.reading() as connection:
        count = sa.select(sa.func.count()).select_from(sa.table("audit_log"))
        assert connection.execute(count).scalar() == 3
        started = time.monotonic()
        store.record_event(actor="bob", action="test.event")
        assert time.monotonic() - started < 5  # not the 30 s busy timeout
        assert connection.execute(count).scalar() == 3  # still the reader's snapshot
    assert store.verify_audit_chain().verified == 4
