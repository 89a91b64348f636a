"""Backstage entities and Hugging Face front matter that those tools accept as they are."""

from __future__ import annotations

import dataclasses
import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from governance_pipelines.catalog import (
    CatalogModel,
    CatalogVersion,
    catalog_info,
    catalog_info_yaml,
    huggingface_front_matter,
    huggingface_metadata,
)
from governance_pipelines.catalog.backstage import (
    backstage_lifecycle,
    backstage_name,
    backstage_tag,
    pipeline_tag,
)

from .fixtures import (
    CARD_V3,
    CREDIT_COMMIT,
    DAGSTER_URL,
    all_models,
    churn_predictor,
    credit_default,
    demand_forecast,
)

# Backstage's own rules (catalog-model's KubernetesValidatorFunctions / tag validation).
BACKSTAGE_NAME = re.compile(r"^[a-z0-9A-Z]+([-_.][a-z0-9A-Z]+)*$")
BACKSTAGE_TAG = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
CATALOG_URL = "https://catalog.example.com/ml"


def _with_stages(*stages: str) -> CatalogModel:
    versions = [
        CatalogVersion(i + 1, stage, "passed", "2026-01-01", None, None, "a" * 64)
        for i, stage in enumerate(stages)
    ]
    return dataclasses.replace(churn_predictor(), versions=versions)


def test_a_component_entity_for_the_production_model() -> None:
    entity = catalog_info(credit_default(), catalog_url=CATALOG_URL, system="lending-platform")
    assert entity["apiVersion"] == "backstage.io/v1alpha1"
    assert entity["kind"] == "Component"
    metadata, spec = entity["metadata"], entity["spec"]
    assert metadata["name"] == "credit_default"
    assert metadata["description"].startswith("Probability that a loan applicant")
    assert metadata["tags"] == [
        "region-eu-west",
        "domain-lending",
        "license-apache-2-0",
        "credit-scoring",
    ]
    annotations = metadata["annotations"]
    assert annotations["governance/model-name"] == "credit_default"
    assert annotations["governance/risk-tier"] == "high"
    assert annotations["governance/production-version"] == "2"
    assert all(isinstance(value, str) for value in annotations.values())
    assert [link["url"] for link in metadata["links"]] == [
        f"{CATALOG_URL}/cards/credit_default/v2.html",
        f"{CATALOG_URL}/models/credit_default.html",
        DAGSTER_URL,
        f"https://github.com/acme/credit-models/commit/{CREDIT_COMMIT}",
    ]
    assert spec == {
        "type": "ml-model",
        "lifecycle": "production",
        "owner": "group:credit-risk",
        "system": "lending-platform",
    }


def test_without_a_published_catalog_only_absolute_links_remain() -> None:
    entity = catalog_info(credit_default(), catalog_url=None)
    assert [link["title"] for link in entity["metadata"]["links"]] == [
        "Dagster asset",
        "Training commit",
    ]
    staging_only = dataclasses.replace(credit_default(), versions=credit_default().versions[2:])
    links = catalog_info(staging_only, catalog_url=None)["metadata"]["links"]
    assert links[0] == {"url": CARD_V3, "title": "Model card (v3)", "icon": "docs"}
    assert "links" not in catalog_info(churn_predictor(), catalog_url=None)["metadata"]


@pytest.mark.parametrize(
    ("stages", "lifecycle"),
    [
        (("archived", "production", "staging"), "production"),
        (("production",), "production"),
        (("staging",), "experimental"),
        (("archived", "candidate"), "experimental"),
        (("none",), "experimental"),
        ((), "experimental"),
        (("archived",), "deprecated"),
        (("archived", "archived"), "deprecated"),
        (("archived", "none"), "experimental"),
        (("Production",), "production"),
    ],
)
def test_lifecycle_follows_the_stages(stages: tuple[str, ...], lifecycle: str) -> None:
    model = _with_stages(*stages)
    assert backstage_lifecycle(model) == lifecycle
    assert catalog_info(model, catalog_url=None)["spec"]["lifecycle"] == lifecycle


def test_every_fixture_entity_passes_backstages_rules() -> None:
    for model in all_models():
        entity = catalog_info(model, catalog_url=CATALOG_URL)
        assert BACKSTAGE_NAME.fullmatch(entity["metadata"]["name"])
        assert len(entity["metadata"]["name"]) <= 63
        assert entity["spec"]["owner"].startswith("group:")
        assert BACKSTAGE_NAME.fullmatch(entity["spec"]["owner"].removeprefix("group:"))
        for tag in entity["metadata"]["tags"]:
            assert BACKSTAGE_TAG.fullmatch(tag), tag
            assert len(tag) <= 63, tag
    churn = catalog_info(churn_predictor(), catalog_url=None)
    assert churn["metadata"]["tags"] == [
        "channel-img-src-x-onerror-alert-2",
        "domain-marketing",
        "customer",
    ]
    assert catalog_info(demand_forecast(), catalog_url=None)["spec"]["owner"] == (
        "group:supply-chain"
    )


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("domain-lending", "domain-lending"),
        ("Region-EU West", "region-eu-west"),
        ("tier-1 / high!!", "tier-1-high"),
        ("c++-#1:x", "c++-#1:x"),
        ("--lead--trail--", "lead-trail"),
        ("émoji-🙂", "moji"),
        ("!!!", None),
        ("", None),
    ],
)
def test_tags_are_sanitised_to_backstages_rule(text: str, tag: str | None) -> None:
    assert backstage_tag(text) == tag


@given(st.text(max_size=120))
def test_any_text_becomes_a_valid_tag_or_none(text: str) -> None:
    tag = backstage_tag(text)
    assert tag is None or (BACKSTAGE_TAG.fullmatch(tag) and len(tag) <= 63)


@given(st.text(max_size=120))
def test_any_text_becomes_a_valid_entity_name(text: str) -> None:
    name = backstage_name(text)
    assert BACKSTAGE_NAME.fullmatch(name)
    assert len(name) <= 63


def test_long_names_keep_a_hash_so_they_do_not_collide() -> None:
    first, second = backstage_name("m" * 80 + "_a"), backstage_name("m" * 80 + "_b")
    assert first != second
    assert len(first) == len(second) == 63
    assert backstage_name("model__v2_") == "model_v2"


def test_catalog_info_yaml_round_trips() -> None:
    for model in all_models():
        text = catalog_info_yaml(model, catalog_url=CATALOG_URL, system="ml")
        assert yaml.safe_load(text) == catalog_info(model, catalog_url=CATALOG_URL, system="ml")
        assert text.startswith("apiVersion: backstage.io/v1alpha1\nkind: Component\n")


def test_huggingface_metadata_for_a_classifier_with_a_licence() -> None:
    metadata = huggingface_metadata(credit_default())
    assert metadata["license"] == "apache-2.0"
    assert metadata["library_name"] == "sklearn"
    assert metadata["pipeline_tag"] == "tabular-classification"
    assert {"sklearn", "tabular-classification", "domain-lending"} <= set(metadata["tags"])
    (entry,) = metadata["model-index"]
    (result,) = entry["results"]
    assert result["task"] == {"type": "tabular-classification"}
    assert set(result["dataset"]) == {"type", "name"}
    assert result["metrics"] == [
        {"type": "roc_auc", "name": "roc_auc", "value": pytest.approx(0.83)}
    ]


def test_huggingface_metadata_omits_what_is_not_known() -> None:
    churn = huggingface_metadata(churn_predictor())
    assert "license" not in churn  # no license label: no guessed licence
    assert "model-index" not in churn  # no metric
    demand = huggingface_metadata(demand_forecast())
    assert demand["pipeline_tag"] == "tabular-regression"
    assert "model-index" not in demand  # the metric is NaN
    other = dataclasses.replace(churn_predictor(), task="clustering")
    assert "pipeline_tag" not in huggingface_metadata(other)


@pytest.mark.parametrize(
    ("task", "tag"),
    [
        ("classification", "tabular-classification"),
        ("binary_classification", "tabular-classification"),
        ("regression", "tabular-regression"),
        ("forecasting", None),
    ],
)
def test_pipeline_tag_from_task(task: str, tag: str | None) -> None:
    assert pipeline_tag(task) == tag


def test_front_matter_is_yaml_between_dashes() -> None:
    text = huggingface_front_matter(credit_default())
    assert text.startswith("---\n")
    assert text.endswith("\n---\n")
    assert yaml.safe_load(text.removeprefix("---\n").removesuffix("---\n")) == (
        huggingface_metadata(credit_default())
    )
