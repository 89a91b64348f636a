"""Governed training, the five blocking validation gates and the model card, executed for real."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from governance_pipelines.cli import main
from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.orchestration.definitions_builder import (
    DEVELOPMENT_JOB,
    build_definitions,
)
from governance_pipelines.orchestration.resources import GovernanceStoreResource

VERSION = dg.AssetKey(["applicants", "model_version"])
CARD = dg.AssetKey(["applicants", "model_card"])

CONFIG = """
teams: [{{name: risk}}]
people: [{{name: alice, team: risk, roles: [data_scientist]}}]
models:
  - name: applicants
    owner: alice
    team: risk
    description: Test model.
    business_context: Ranks applicants by risk.
    data:
      source:
        kind: python
        callable: governance_pipelines_tests.orchestration.synthetic:applicants
        kwargs: {kwargs}
      target: label
      features: {features}
      sensitive_attributes: [gender]
      columns:
        income: {{dtype: float, description: Standardised income}}
    training:
      estimator: {{class: {estimator}, params: {params}}}
      min_metric: {min_metric}
      seed: 1
    fairness: {{max_demographic_parity_difference: 0.15, max_equalized_odds_difference: 0.15, excluded_from_drivers: {excluded}}}
"""


def config_text(
    *,
    kwargs: str = "{}",
    features: str = "[income, debt, region]",
    estimator: str = "sklearn.linear_model.LogisticRegression",
    params: str = "{}",
    min_metric: float = 0.7,
    excluded: str = "[]",
) -> str:
    return CONFIG.format(
        kwargs=kwargs,
        features=features,
        estimator=estimator,
        params=params,
        min_metric=min_metric,
        excluded=excluded,
    )


def _config(**overrides: str | float) -> GovernanceConfig:
    return parse_config(config_text(**overrides))  # type: ignore[arg-type]


@pytest.fixture
def resource(tmp_path: Path) -> GovernanceStoreResource:
    return GovernanceStoreResource(home=str(tmp_path / "home"))


def _run(
    config: GovernanceConfig,
    resource: GovernanceStoreResource,
    instance: dg.DagsterInstance,
    **tags: str,
):
    job = build_definitions(config, governance_store=resource).resolve_job_def(DEVELOPMENT_JOB)
    return job.execute_in_process(instance=instance, raise_on_error=False, tags=tags or None)


AUDIT_CHAIN_CHECK = "audit_log_chain_intact"


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == VERSION}


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def test_a_sound_model_passes_every_gate_and_gets_a_card(resource: GovernanceStoreResource) -> None:
    with dg.instance_for_test() as instance:
        result = _run(_config(), resource, instance, **{"governance/author": "alice"})
        assert result.success
        checks = _checks(result)
        assert set(checks) == {
            "model_version_metric_threshold",
            "model_version_no_leakage",
            "model_version_reproducible",
            "model_version_explainable",
            "model_version_fair",
        }
        assert all(c.passed for c in checks.values()), {
            n: c.metadata["summary"].value for n, c in checks.items()
        }
        assert (
            "identical test-set predictions"
            in checks["model_version_reproducible"].metadata["summary"].value
        )
        assert CARD in _materialized(result)

        version_event = instance.get_latest_materialization_event(VERSION).asset_materialization
        assert version_event.metadata["version"].value == 1
        assert (
            version_event.tags["dagster/data_version"]
            == version_event.metadata["artifact_sha256"].value
        )

    store = resource.store
    registered = store.get_model_version("applicants", 1)
    record = registered.record
    assert record["author"] == "alice"
    assert record["algorithm"]["class"].endswith("LogisticRegression")
    assert record["algorithm"]["params"]["C"] == 1.0
    assert record["features"]["categorical"] == ["region"]
    assert record["split"]["seed"] == 1
    assert record["split"]["n_test"] == 300
    assert record["data"]["snapshot_id"] == registered.snapshot_id
    assert {"commit", "dirty"} <= set(record["code"])
    assert "scikit-learn" in record["environment"]["packages"]
    assert Path(registered.artifact_path).name == f"{registered.artifact_sha256}.joblib"

    card = Path(store.home / "model_cards" / "applicants" / "v1" / "model_card.html").read_text()
    assert "Ranks applicants by risk." in card
    assert "data:image/png;base64," in card
    assert "Business justification" in card or "business justification" in card.lower()
    assert (
        len(store.recent_events(action="check.evaluated", model_name="applicants", limit=50)) == 7
    )


def test_unchanged_inputs_do_not_create_a_new_version(resource: GovernanceStoreResource) -> None:
    with dg.instance_for_test() as instance:
        _run(_config(), resource, instance)
        second = _run(_config(), resource, instance)
        metadata = next(
            e for e in second.get_asset_materialization_events() if e.asset_key == VERSION
        )
        assert (
            metadata.step_materialization_data.materialization.metadata["new_version"].value
            is False
        )
        changed = _run(_config(params="{C: 0.3}"), resource, instance)
        assert changed.success
    assert [v.version for v in resource.store.list_model_versions("applicants")] == [1, 2]


def test_a_leaky_feature_blocks_the_card(resource: GovernanceStoreResource) -> None:
    config = _config(kwargs="{leaky: true}", features="[income, debt, region, collections_flag]")
    with dg.instance_for_test() as instance:
        result = _run(config, resource, instance)
        assert not result.success
        leakage = _checks(result)["model_version_no_leakage"]
        assert not leakage.passed
        assert "collections_flag" in leakage.metadata["summary"].value
        assert CARD not in _materialized(result)
    stored = {c.check_name: c for c in resource.store.latest_check_results("applicants", version=1)}
    assert not stored["model_version_no_leakage"].passed


def test_a_too_weak_model_fails_the_metric_gate(resource: GovernanceStoreResource) -> None:
    with dg.instance_for_test() as instance:
        result = _run(_config(features="[region]", min_metric=0.8), resource, instance)
        metric = _checks(result)["model_version_metric_threshold"]
        assert not metric.passed
        assert "does not meet the required >= 0.8000" in metric.metadata["summary"].value
        assert CARD not in _materialized(result)
        # One model's failed gate must not skip the audit-chain check (it used to, for all).
        (chain,) = [
            e for e in result.get_asset_check_evaluations() if e.check_name == AUDIT_CHAIN_CHECK
        ]
        assert chain.passed


def test_a_biased_model_fails_the_fairness_gate(resource: GovernanceStoreResource) -> None:
    config = _config(
        kwargs="{biased: true}", features="[income, debt, gender_code]", excluded="[gender_code]"
    )
    with dg.instance_for_test() as instance:
        result = _run(config, resource, instance)
        checks = _checks(result)
        assert not checks["model_version_fair"].passed
        assert "gender" in checks["model_version_fair"].metadata["summary"].value
        assert not checks["model_version_explainable"].passed  # the excluded proxy drives it
        assert CARD not in _materialized(result)


def test_a_non_reproducible_estimator_fails_the_reproducibility_gate(
    resource: GovernanceStoreResource,
) -> None:
    config = _config(
        estimator="sklearn.ensemble.RandomForestClassifier",
        params="{n_estimators: 15, max_depth: 4}",
    )
    with dg.instance_for_test() as instance:
        result = _run(config, resource, instance)
        reproducible = _checks(result)["model_version_reproducible"]
        assert not reproducible.passed
        assert CARD not in _materialized(result)
    again = CliRunner().invoke(main, ["reproduce", "applicants", "1", "--home", resource.home])
    assert again.exit_code == 1
    assert "NOT REPRODUCED" in again.output


def test_user_templates_replace_the_packaged_card(
    resource: GovernanceStoreResource, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "model_card.md.j2").write_text("# {{ card.model_name }} — Acme house style\n")
    config = parse_config(f"model_card_templates: {templates}\n" + config_text())
    with dg.instance_for_test() as instance:
        assert _run(config, resource, instance).success
    folder = resource.store.home / "model_cards" / "applicants" / "v1"
    assert (folder / "model_card.md").read_text().startswith("# applicants — Acme house style")
    assert (
        "<html" in (folder / "model_card.html").read_text()
    )  # no HTML override: packaged template


def test_the_card_is_readable_on_the_asset_page_and_links_to_its_published_copy(
    resource: GovernanceStoreResource,
) -> None:
    config = _config().model_copy(
        update={"documentation_base_url": "https://docs.example.com/cards"}
    )
    with dg.instance_for_test() as instance:
        result = _run(config, resource, instance)
    (card,) = [e for e in result.get_asset_materialization_events() if e.asset_key == CARD]
    metadata = card.step_materialization_data.materialization.metadata
    shown = metadata["card"].value
    assert isinstance(shown, str)
    assert "applicants" in shown
    assert "Ranks applicants by risk." in shown  # the business context section
    assert "data:image" not in shown  # figures are named and linked, not inlined
    assert "*Figure:" in shown
    url = "https://docs.example.com/cards/applicants/v1/model_card.html"
    assert f"[the HTML card]({url})" in shown
    assert metadata["card_url"].value == url
