"""Cards follow governance: a decision on a version brings that version's card up to date."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.orchestration.card_refresh import CARD_REFRESH_SENSOR, CARD_VERSION_TAG
from governance_pipelines.orchestration.definitions_builder import (
    DEVELOPMENT_JOB,
    build_definitions,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.security import approvals as workflow

from .runs import materialize_only, step_failure_message
from .test_model_development import CARD, config_text

APPROVER = "people: [{name: alice, team: risk, roles: [data_scientist]}, {name: bob, team: risk, roles: [approver]}]"


def _config() -> GovernanceConfig:
    text = config_text()
    return parse_config(text.replace(text.splitlines()[2], APPROVER))


@pytest.fixture
def resource(tmp_path: Path) -> GovernanceStoreResource:
    return GovernanceStoreResource(home=str(tmp_path / "home"))


def _tick(definitions: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None):
    sensor = definitions.resolve_sensor_def(CARD_REFRESH_SENSOR)
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=definitions,
        resources={"governance_store": definitions.resources["governance_store"]},
    ) as context:
        return sensor.evaluate_tick(context)


def test_an_approval_re_renders_the_card_with_the_decision(
    resource: GovernanceStoreResource,
) -> None:
    config = _config()
    definitions = build_definitions(config, governance_store=resource)
    with dg.instance_for_test() as instance:
        assert definitions.resolve_job_def(DEVELOPMENT_JOB).execute_in_process(instance=instance)
        card = resource.store.home / "model_cards" / "applicants" / "v1" / "model_card.md"
        assert "No approval decisions recorded" in card.read_text()

        first = _tick(definitions, instance, None)
        quiet = _tick(definitions, instance, first.cursor)
        assert quiet.run_requests == []
        assert "no approval or stage change" in (quiet.skip_message or "")

        workflow.approve(resource.store, config, "applicants", 1, "bob", note="fine for pilots")
        tick = _tick(definitions, instance, first.cursor)
        (request,) = tick.run_requests or []
        assert request.asset_selection == [CARD]
        assert request.tags[CARD_VERSION_TAG] == "1"
        assert _tick(definitions, instance, tick.cursor).run_requests == []  # exactly once

        refreshed = materialize_only(definitions, CARD, instance, tags=request.tags)
        assert refreshed.success
    text = card.read_text()
    assert "No approval decisions recorded" not in text
    assert "bob" in text
    assert "fine for pilots" in text


def test_a_card_version_tag_that_is_not_a_number_is_named(
    resource: GovernanceStoreResource,
) -> None:
    definitions = build_definitions(_config(), governance_store=resource)
    with dg.instance_for_test() as instance:
        assert definitions.resolve_job_def(DEVELOPMENT_JOB).execute_in_process(instance=instance)
        result = materialize_only(definitions, CARD, instance, tags={CARD_VERSION_TAG: "latest"})
    assert "governance/card_version='latest' is not a version number" in step_failure_message(
        result
    )
