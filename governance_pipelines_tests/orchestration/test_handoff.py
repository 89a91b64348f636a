"""The hand-off between governance assets: each run reviews what it produced, not "the latest".

A second run that registers a newer version while the first is still between its steps must
not change what the first run's gates and card review.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from governance_pipelines.orchestration.definitions_builder import (
    DEVELOPMENT_JOB,
    build_definitions,
)
from governance_pipelines.orchestration.handoff import (
    HANDOFF_FOLDER,
    HANDOFF_IO_MANAGER,
    GovernanceHandoffIOManager,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource

from .runs import materialize_only, step_failure_message
from .test_model_development import CARD, VERSION, _config

SNAPSHOT = dg.AssetKey(["applicants", "training_snapshot"])


@pytest.fixture
def resource(tmp_path: Path) -> GovernanceStoreResource:
    return GovernanceStoreResource(home=str(tmp_path / "home"))


def _development_assets(resource: GovernanceStoreResource, **config: str) -> dg.Definitions:
    return build_definitions(_config(**config), governance_store=resource)


def test_a_concurrent_run_cannot_change_what_this_run_reviews(
    resource: GovernanceStoreResource,
) -> None:
    seen: dict[str, int] = {}
    with dg.instance_for_test() as instance:
        definitions = _development_assets(resource)
        newer = _development_assets(resource, params="{C: 0.3}").resolve_job_def(DEVELOPMENT_JOB)

        @dg.asset(deps=[VERSION])
        def concurrent_run() -> None:
            """Another team member's run registers v2 while this run is between steps."""
            assert newer.execute_in_process(instance=instance, raise_on_error=False).success

        @dg.asset(ins={"model_version": dg.AssetIn(VERSION)}, deps=[concurrent_run])
        def reviewer(model_version: int) -> None:
            seen["version"] = model_version

        result = dg.materialize(
            [*definitions.assets, concurrent_run, reviewer],  # type: ignore[list-item]
            selection=[SNAPSHOT, VERSION, concurrent_run.key, reviewer.key],
            instance=instance,
            resources=dict(definitions.resources),
        )
        assert result.success
        latest = instance.get_latest_materialization_event(VERSION)
        assert latest is not None
        assert latest.asset_materialization is not None
        assert latest.asset_materialization.metadata["version"].value == 2

    assert seen["version"] == 1  # this run's version, though v2 is now the latest


def test_a_step_run_on_its_own_reviews_the_latest_materialization(
    resource: GovernanceStoreResource,
) -> None:
    with dg.instance_for_test() as instance:
        definitions = _development_assets(resource)
        job = definitions.resolve_job_def(DEVELOPMENT_JOB)
        assert job.execute_in_process(instance=instance).success
        newer = _development_assets(resource, params="{C: 0.3}")
        assert newer.resolve_job_def(DEVELOPMENT_JOB).execute_in_process(instance=instance).success
        card_only = materialize_only(definitions, CARD, instance)
        assert card_only.success
        (card,) = card_only.get_asset_materialization_events()
        assert card.step_materialization_data.materialization.metadata["version"].value == 2


def test_a_missing_hand_off_names_the_asset_to_materialize(
    resource: GovernanceStoreResource, tmp_path: Path
) -> None:
    with dg.instance_for_test() as instance:
        definitions = _development_assets(resource)
        assert definitions.resolve_job_def(DEVELOPMENT_JOB).execute_in_process(instance=instance)
        for path in (Path(resource.home or "") / HANDOFF_FOLDER).rglob("*.json"):
            path.unlink()
        message = step_failure_message(materialize_only(definitions, CARD, instance))
        assert "applicants/model_version left no hand-off" in message
        assert "materialize applicants/model_version again" in message


def test_a_card_before_any_version_says_to_materialize_the_version_first(
    resource: GovernanceStoreResource,
) -> None:
    with dg.instance_for_test() as instance:
        definitions = _development_assets(resource)
        result = materialize_only(definitions, CARD, instance)
        assert "has never been materialized" in step_failure_message(result)


def test_only_snapshot_ids_and_version_numbers_are_handed_on(
    resource: GovernanceStoreResource, tmp_path: Path
) -> None:
    @dg.asset(io_manager_key=HANDOFF_IO_MANAGER)
    def not_a_reference() -> dict[str, int]:
        return {"version": 1}

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [not_a_reference],
            instance=instance,
            resources={HANDOFF_IO_MANAGER: GovernanceHandoffIOManager(governance_store=resource)},
            raise_on_error=False,
        )
    assert not result.success
    assert not list((Path(resource.home or "") / HANDOFF_FOLDER).rglob("*.json"))


def test_the_hand_off_file_holds_the_reference_per_run(resource: GovernanceStoreResource) -> None:
    with dg.instance_for_test() as instance:
        definitions = _development_assets(resource)
        run = definitions.resolve_job_def(DEVELOPMENT_JOB).execute_in_process(instance=instance)
    folder = Path(resource.home or "") / HANDOFF_FOLDER / "applicants"
    version_file = folder / "model_version" / f"{run.run_id}.json"
    assert json.loads(version_file.read_text()) == {"value": 1}
    (snapshot_file,) = (folder / "training_snapshot").glob("*.json")
    assert len(json.loads(snapshot_file.read_text())["value"]) == 64  # the sha256 snapshot id
