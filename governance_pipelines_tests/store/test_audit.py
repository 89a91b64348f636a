"""The audit chain detects every edit, deletion and reordering made behind the package's back."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from governance_pipelines.cli import main
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.immutability import drop_append_only_triggers


def _append(store: GovernanceStore, count: int) -> None:
    for i in range(count):
        store.record_event(actor="alice", action="test.event", model_name="m", payload={"i": i})


def _as_attacker(store: GovernanceStore, *statements: str) -> None:
    """Someone with database rights: drops the append-only guard, then edits rows."""
    with store.engine.begin() as connection:
        drop_append_only_triggers(connection, ("audit_log",))
        for statement in statements:
            connection.exec_driver_sql(statement)


def test_an_untouched_chain_verifies(store: GovernanceStore) -> None:
    _append(store, 5)
    result = store.verify_audit_chain()
    assert result.ok
    assert result.verified == 5
    events = store.recent_events(limit=5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))


def test_an_empty_log_verifies(store: GovernanceStore) -> None:
    assert store.verify_audit_chain().ok
    assert store.verify_audit_chain().verified == 0


def test_edited_payload_is_named(store: GovernanceStore) -> None:
    _append(store, 5)
    _as_attacker(store, """UPDATE audit_log SET payload_json = '{"i":99}' WHERE seq = 3""")
    result = store.verify_audit_chain()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert result.verified == 2
    assert "event #3 (test.event) was altered" in result.problem


def test_edited_actor_is_detected_even_with_a_recomputed_looking_row(
    store: GovernanceStore,
) -> None:
    _append(store, 3)
    _as_attacker(store, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    assert store.verify_audit_chain().first_bad_seq == 2


def test_deleted_event_is_named(store: GovernanceStore) -> None:
    _append(store, 5)
    _as_attacker(store, "DELETE FROM audit_log WHERE seq = 4")
    result = store.verify_audit_chain()
    assert not result.ok
    assert result.first_bad_seq == 4
    assert "event #4 is missing" in result.problem


def test_deleted_latest_event_is_detected_through_the_head(store: GovernanceStore) -> None:
    _append(store, 5)
    _as_attacker(store, "DELETE FROM audit_log WHERE seq = 5")
    result = store.verify_audit_chain()
    assert not result.ok
    assert "latest events were removed" in result.problem


def test_reordered_events_are_detected(store: GovernanceStore) -> None:
    _append(store, 5)
    # Swap the contents of events 2 and 3 while keeping the sequence numbers in place.
    _as_attacker(
        store,
        "UPDATE audit_log SET seq = -2 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = -2",
    )
    result = store.verify_audit_chain()
    assert not result.ok
    assert result.first_bad_seq == 2


def test_database_refuses_direct_edits_while_guarded(store: GovernanceStore) -> None:
    _append(store, 2)
    with pytest.raises(sa.exc.DBAPIError, match="immutable"), store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
    assert store.verify_audit_chain().ok


def test_cli_verify_exit_codes(sqlite_store: GovernanceStore) -> None:
    _append(sqlite_store, 3)
    runner = CliRunner()
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    ok = runner.invoke(main, ["audit", "verify", "--database-url", url])
    assert ok.exit_code == 0
    assert "OK: 3 audit events verified" in ok.output

    _as_attacker(sqlite_store, "DELETE FROM audit_log WHERE seq = 2")
    broken = runner.invoke(main, ["audit", "verify", "--database-url", url])
    assert broken.exit_code == 1
    assert "TAMPERED: event #2 is missing" in broken.output


def test_cli_log_filters_by_model(sqlite_store: GovernanceStore) -> None:
    sqlite_store.record_event(actor="alice", action="x.one", model_name="credit")
    sqlite_store.record_event(actor="bob", action="x.two", model_name="cancer")
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["audit", "log", "--model", "cancer", "--database-url", url])
    assert result.exit_code == 0
    assert "x.two" in result.output
    assert "x.one" not in result.output
    as_json = CliRunner().invoke(main, ["audit", "log", "--json", "--database-url", url])
    assert as_json.output.count('"seq"') == 2
