"""Endpoint management: only `endpoint.manage` changes endpoints; every change and refusal is
audited; settings are validated against governance.yaml and the store."""

from __future__ import annotations

import pytest

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.security import endpoint_management as management
from governance_pipelines.security.endpoint_management import EndpointRejected
from governance_pipelines.security.endpoint_rules import (
    EndpointDefinition,
    define_endpoint,
    revise,
    shape_problems,
)
from governance_pipelines.security.rbac import PermissionDenied
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.endpoint_records import EndpointRecord
from governance_pipelines_tests.security.endpoint_fixtures import (
    ADMIN,
    DATA_SCIENTIST,
    USER,
    access_rows,
    endpoints_config,
    last_access,
    make_endpoint,
)
from governance_pipelines_tests.security.test_approvals import add_version


@pytest.fixture(scope="module")
def config() -> GovernanceConfig:
    return endpoints_config()


# --- the rules, without a store ------------------------------------------------------------


def test_the_stage_follows_from_the_mode_or_a_named_version() -> None:
    production = define_endpoint("a", model="credit", teams="risk, web,risk", rate_limit=5)
    assert (production.stage, production.mode, production.allowed_teams) == (
        "production",
        "live",
        ("risk", "web"),
    )
    canary = define_endpoint(
        "a", model="credit", teams="risk", rate_limit=5, mode="canary", version=2, traffic_share=0.1
    )
    assert (canary.stage, canary.candidate_version, canary.traffic_share) == ("candidate", 2, 0.1)
    shadow = define_endpoint(
        "a", model="credit", teams="risk", rate_limit=5, mode="shadow", version=2
    )
    assert shadow.traffic_share == 1.0  # a shadow mirrors every request by default
    assert shape_problems(production) == shape_problems(canary) == shape_problems(shadow) == []


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"name": "Credit_API"}, "is not a URL name"),
        ({"name": "-credit"}, "is not a URL name"),
        ({"name": "a" * 64}, "is not a URL name"),
        ({"teams": ""}, "no consumer team given"),
        ({"teams": "Risk"}, "is not a team name"),
        ({"rate_limit": 0}, "rate limit 0 is out of range"),
        ({"rate_limit": 10_000_000}, "out of range"),
        ({"version": 2}, "needs --mode canary or shadow"),
        ({"stage": "production", "version": 2}, "--version names a candidate"),
        ({"stage": "production", "traffic_share": 0.5}, "canary and shadow endpoints only"),
        ({"stage": "candidate", "mode": "live", "version": 2}, "needs --mode canary or shadow"),
        ({"mode": "canary", "traffic_share": 0.1}, "needs the candidate's --version"),
        ({"mode": "canary", "version": 2}, "a canary needs --traffic-share"),
        ({"mode": "canary", "version": 2, "traffic_share": 1.0}, "between 0 and 1"),
        ({"mode": "canary", "version": 2, "traffic_share": 0.0}, "between 0 and 1"),
        ({"mode": "canary", "version": 2, "traffic_share": float("nan")}, "between 0 and 1"),
        ({"mode": "shadow", "version": 2, "traffic_share": 1.5}, "in (0, 1]"),
        ({"mode": "canary", "version": 0, "traffic_share": 0.1}, "is not a version number"),
    ],
)
def test_malformed_settings_are_named(options: dict[str, object], problem: str) -> None:
    arguments: dict[str, object] = {"model": "credit", "teams": "risk", "rate_limit": 60}
    arguments.update(options)
    name = str(arguments.pop("name", "credit-api"))
    definition = define_endpoint(name, **arguments)  # type: ignore[arg-type]
    assert any(problem in p for p in shape_problems(definition)), shape_problems(definition)


def _record(definition: EndpointDefinition) -> EndpointRecord:
    return EndpointRecord.from_dict(
        {
            "name": definition.name,
            **definition.settings(),
            "created_by": ADMIN,
            "created_at": "2026-01-01T00:00:00+00:00",
            "updated_at": "2026-01-01T00:00:00+00:00",
        }
    )


def test_revise_keeps_what_is_not_given_and_production_drops_the_candidate() -> None:
    canary = _record(
        define_endpoint(
            "a",
            model="credit",
            teams="risk",
            rate_limit=5,
            mode="canary",
            version=2,
            traffic_share=0.2,
        )
    )
    assert revise(canary, rate_limit=9).settings() == {
        **canary.settings(),
        "rate_limit_per_minute": 9,
    }
    assert revise(canary, traffic_share=0.3).candidate_version == 2
    assert revise(canary, version=3).traffic_share == 0.2
    back = revise(canary, stage="production")
    assert (back.stage, back.mode, back.candidate_version, back.traffic_share) == (
        "production",
        "live",
        None,
        None,
    )
    shadow = revise(canary, mode="shadow")
    assert (shadow.candidate_version, shadow.traffic_share) == (2, 1.0)
    production = _record(define_endpoint("a", model="credit", teams="risk", rate_limit=5))
    needs_mode = revise(production, version=2)
    assert any("needs --mode canary or shadow" in p for p in shape_problems(needs_mode))


# --- RBAC and audit ---------------------------------------------------------------------------


def test_an_admin_creates_updates_and_deletes_with_an_event_for_each(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    created = make_endpoint(store, config)
    assert created.settings()["allowed_teams"] == ["risk", "web"]
    updated = management.update_endpoint(store, config, "credit-api", ADMIN, rate_limit=60)
    assert updated.rate_limit_per_minute == 60
    deleted = management.delete_endpoint(store, config, "credit-api", ADMIN)
    assert deleted.deleted
    assert store.get_endpoint("credit-api", include_deleted=True) == deleted

    actions = [e.action for e in store.recent_events(limit=50)]
    assert actions == [
        "access.allowed",
        "endpoint.created",
        "access.allowed",
        "endpoint.updated",
        "access.allowed",
        "endpoint.deleted",
    ]
    changed = store.recent_events(action="endpoint.updated")[0]
    assert changed.actor == ADMIN
    assert changed.model_name == "credit"
    assert (changed.payload["before"]["rate_limit_per_minute"], changed.payload["after"]) == (
        600,
        updated.to_dict(),
    )
    assert all(row.allowed and row.action == "endpoint.manage" for row in access_rows(store))


@pytest.mark.parametrize("who", [USER, DATA_SCIENTIST, "nobody"])
def test_people_without_endpoint_manage_are_refused_and_audited(
    store: GovernanceStore, config: GovernanceConfig, who: str
) -> None:
    definition = define_endpoint("credit-api", model="credit", teams="risk", rate_limit=60)
    with pytest.raises(PermissionDenied, match="cannot create endpoint 'credit-api'"):
        management.create_endpoint(store, config, definition, who)
    assert store.get_endpoint("credit-api") is None
    denied = last_access(store)
    assert (denied.user_name, denied.action, denied.allowed) == (who, "endpoint.manage", False)
    assert denied.resource == "endpoint credit-api"

    make_endpoint(store, config)
    with pytest.raises(PermissionDenied, match=r"lacks the permission 'endpoint\.manage'|unknown"):
        management.update_endpoint(store, config, "credit-api", who, rate_limit=1)
    with pytest.raises(PermissionDenied):
        management.delete_endpoint(store, config, "credit-api", who)
    assert store.get_endpoint("credit-api") is not None
    refusals = [r for r in access_rows(store) if not r.allowed]
    assert len(refusals) == 3
    assert [e.action for e in store.recent_events(action="access.denied")] == ["access.denied"] * 3
    assert store.recent_events(action="endpoint.updated") == []


def test_settings_must_name_what_governance_yaml_and_the_store_hold(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    definition = define_endpoint(
        "fraud-api",
        model="fraud",
        teams="risk,finance",
        rate_limit=60,
        mode="canary",
        version=1,
        traffic_share=0.1,
    )
    with pytest.raises(EndpointRejected) as refused:
        management.create_endpoint(store, config, definition, ADMIN)
    message = str(refused.value)
    assert "model 'fraud' is not declared in governance.yaml (declared: credit, churn)" in message
    assert "team(s) finance are not declared" in message
    denied = last_access(store)
    assert (denied.allowed, denied.user_name) == (False, ADMIN)
    assert "model 'fraud' is not declared" in denied.reason

    with pytest.raises(
        EndpointRejected, match=r"credit v1 is not registered \(registered versions: none yet\)"
    ):
        make_endpoint(store, config, "credit-canary", mode="canary", version=1, traffic_share=0.1)
    version = add_version(store, "credit")
    canary = make_endpoint(
        store, config, "credit-canary", mode="canary", version=version, traffic_share=0.1
    )
    assert (canary.stage, canary.mode, canary.candidate_version) == ("candidate", "canary", 1)


def test_malformed_settings_are_usage_errors_not_refusals(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    with pytest.raises(EndpointRejected, match="rate limit 0 is out of range"):
        make_endpoint(store, config, rate_limit=0)
    assert access_rows(store) == []


def test_names_are_unique_and_never_reused(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    make_endpoint(store, config)
    with pytest.raises(EndpointRejected, match=r"already exists .*governance endpoints update"):
        make_endpoint(store, config)
    management.delete_endpoint(store, config, "credit-api", ADMIN)
    with pytest.raises(EndpointRejected, match="names are never reused"):
        make_endpoint(store, config)
    with pytest.raises(EndpointRejected, match="deleted endpoints stay deleted"):
        management.update_endpoint(store, config, "credit-api", ADMIN, rate_limit=5)
    with pytest.raises(EndpointRejected, match="was deleted"):
        management.delete_endpoint(store, config, "credit-api", ADMIN)
    assert [r.allowed for r in access_rows(store)] == [True, False, True, False, False, False]


def test_an_update_is_validated_as_a_whole(
    store: GovernanceStore, config: GovernanceConfig
) -> None:
    make_endpoint(store, config)
    with pytest.raises(EndpointRejected, match="nothing to change"):
        management.update_endpoint(store, config, "credit-api", ADMIN)
    with pytest.raises(EndpointRejected, match="already has these settings"):
        management.update_endpoint(store, config, "credit-api", ADMIN, rate_limit=600)
    with pytest.raises(EndpointRejected, match="team\\(s\\) finance are not declared"):
        management.update_endpoint(store, config, "credit-api", ADMIN, teams="risk,finance")
    with pytest.raises(
        EndpointRejected, match="there is no endpoint 'nope' \\(endpoints: credit-api\\)"
    ):
        management.update_endpoint(store, config, "nope", ADMIN, rate_limit=5)
    version = add_version(store, "credit")
    canary = management.update_endpoint(
        store, config, "credit-api", ADMIN, mode="canary", version=version, traffic_share=0.25
    )
    assert (canary.stage, canary.candidate_version, canary.traffic_share) == (
        "candidate",
        version,
        0.25,
    )
    back = management.update_endpoint(store, config, "credit-api", ADMIN, stage="production")
    assert (back.stage, back.mode, back.candidate_version) == ("production", "live", None)
    events = store.recent_events(action="endpoint.updated")
    assert events[-1].payload["before"]["mode"] == "canary"
    assert events[-1].payload["after"]["mode"] == "live"
