"""The catalog records: JSON-safe round trips, derived versions, and links refused at the door."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest

from governance_pipelines.catalog import CatalogEntryError, CatalogModel, CatalogVersion
from governance_pipelines.catalog.entries import json_safe

from .fixtures import CREDIT_COMMIT, all_models, churn_predictor, credit_default, demand_forecast


def _version(**overrides: object) -> CatalogVersion:
    fields: dict[str, object] = {
        "version": 1,
        "stage": "staging",
        "gate_status": "passed",
        "created_at": "2026-11-01T00:00:00+00:00",
        "metric": None,
        "metric_value": None,
        "artifact_sha256": "a" * 64,
    }
    return CatalogVersion(**{**fields, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.name)
def test_to_dict_is_strict_json_and_round_trips(model: CatalogModel) -> None:
    record = model.to_dict()
    text = json.dumps(record, allow_nan=False)  # raises on NaN, Decimal, datetime
    back = CatalogModel.from_dict(json.loads(text))
    assert back.to_dict() == record


def test_nan_metrics_and_decimal_amounts_become_json_values() -> None:
    assert demand_forecast().to_dict()["versions"][0]["metric_value"] is None
    assert credit_default().to_dict()["cost"]["total"] == "123.45"
    assert json_safe({"x": {1.5, float("inf")}, "d": Decimal("NaN")}) == {
        "x": [1.5, None],
        "d": None,
    }


def test_latest_and_production_versions_and_stages() -> None:
    model = credit_default()
    assert model.latest_version is not None
    assert model.latest_version.version == 3
    assert model.production_version is not None
    assert model.production_version.version == 2
    assert model.stages == {"archived", "production", "staging"}
    churn = churn_predictor()
    assert churn.production_version is None
    empty = CatalogModel("empty", "", "o", "t", {}, [], None, "classification")
    assert empty.latest_version is None
    assert empty.production_version is None
    assert empty.stages == set()


def test_the_record_never_holds_a_credential() -> None:
    version = credit_default().versions[0]
    assert version.commit == CREDIT_COMMIT
    assert "s3cr3t" not in version.repository_url
    assert version.repository_url == "https://github.com/acme/credit-models.git"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example.com/card.html",
        "/etc/passwd",
        "file:///etc/passwd",
        "   ",
    ],
)
def test_card_links_other_than_http_or_relative_are_refused(href: str) -> None:
    with pytest.raises(CatalogEntryError, match="card_href"):
        _version(card_href=href)


@pytest.mark.parametrize(
    "href", ["cards/m/v1.html", "https://cards.example.com/m/v1.html", "http://x.io/c"]
)
def test_card_links_that_are_http_or_relative_are_kept(href: str) -> None:
    assert _version(card_href=href).card_href == href


def test_scm_and_dagster_links_must_be_plain_http() -> None:
    with pytest.raises(CatalogEntryError, match="scm_url"):
        _version(scm_url="javascript:alert(1)")
    with pytest.raises(CatalogEntryError, match="credentials"):
        _version(scm_url="https://user:token@github.com/a/b/commit/abcdef0")
    with pytest.raises(CatalogEntryError, match="dagster_asset_url"):
        CatalogModel("m", "", "o", "t", {}, [], None, "x", dagster_asset_url="ftp://x/y")


def test_gate_status_and_model_name_are_checked() -> None:
    with pytest.raises(CatalogEntryError, match="gate_status"):
        _version(gate_status="green")
    for name in ("Credit", "1model", "credit-default", "../etc", ""):
        with pytest.raises(CatalogEntryError, match="must match"):
            CatalogModel(name, "", "o", "t", {}, [], None, "x")
    with pytest.raises(CatalogEntryError, match="repeat"):
        CatalogModel("m", "", "o", "t", {}, [], None, "x", versions=[_version(), _version()])


def test_json_safe_keeps_finite_numbers() -> None:
    assert json_safe(0.25) == 0.25
    assert math.isclose(json_safe(1e-300), 1e-300)
    assert json_safe((1, "a", None, True)) == [1, "a", None, True]
