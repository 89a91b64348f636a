"""RBAC: roles from governance.yaml decide; every decision lands in access_log and the audit log."""

from __future__ import annotations

import sqlalchemy as sa

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.security.rbac import (
    authorize,
    people_with,
    permissions_of,
    record_access,
)
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.schema import access_log


def test_roles_grant_their_permissions(demo_config: GovernanceConfig) -> None:
    assert authorize(demo_config, "bob", "model.approve").allowed
    assert authorize(demo_config, "frank", "model.promote").allowed
    assert "model.approve" not in permissions_of(demo_config, "alice")
    decision = authorize(demo_config, "bob", "model.approve")
    assert decision.roles == ("approver",)
    assert "approver" in decision.reason


def test_missing_permission_names_the_roles_that_have_it(demo_config: GovernanceConfig) -> None:
    decision = authorize(demo_config, "alice", "model.promote")
    assert not decision.allowed
    assert "alice (roles: data_scientist) lacks the permission 'model.promote'" in decision.reason
    assert "admin" in decision.reason
    assert "governance.yaml" in decision.reason


def test_unknown_user_is_denied_with_the_declared_people(demo_config: GovernanceConfig) -> None:
    decision = authorize(demo_config, "mallory", "model.view")
    assert not decision.allowed
    assert "unknown user 'mallory'" in decision.reason
    assert "alice, bob, carol, dan, erin, frank" in decision.reason
    assert decision.roles == ()


def test_people_with_excludes_authors(demo_config: GovernanceConfig) -> None:
    assert people_with(demo_config, "model.approve") == "bob, carol, frank"
    assert people_with(demo_config, "model.approve", {"bob"}) == "carol, frank"


def test_record_access_writes_table_and_audit_in_one_transaction(
    sqlite_store: GovernanceStore, demo_config: GovernanceConfig
) -> None:
    denied = authorize(demo_config, "erin", "model.promote")
    with sqlite_store.transaction() as connection:
        event = record_access(
            connection, denied, resource="credit_default v1 -> production", model_name="x"
        )
    assert event.action == "access.denied"
    assert event.payload["permission"] == "model.promote"
    with sqlite_store.engine.connect() as connection:
        row = connection.execute(sa.select(access_log)).one()
    assert (row.user_name, row.action, row.allowed) == ("erin", "model.promote", False)
    assert row.reason == denied.reason
    assert sqlite_store.verify_audit_chain().ok


def test_record_access_rolls_back_with_the_action(
    sqlite_store: GovernanceStore, demo_config: GovernanceConfig
) -> None:
    allowed = authorize(demo_config, "bob", "model.approve")
    try:
        with sqlite_store.transaction() as connection:
            record_access(connection, allowed, resource="r")
            raise RuntimeError("the guarded action failed")
    except RuntimeError:
        pass
    with sqlite_store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(access_log)).scalar() == 0
    assert sqlite_store.recent_events() == []
