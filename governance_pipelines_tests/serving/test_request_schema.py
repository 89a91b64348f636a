"""The request schema comes from the model's declared features and column rules."""

from __future__ import annotations

import math

import pytest

from governance_pipelines.config import parse_config
from governance_pipelines.serving.request_schema import MAX_RECORDS, RequestSchema

CONFIG = """
teams: [{name: risk}]
people: [{name: alice, team: risk, roles: [data_scientist]}]
models:
  - name: loans
    owner: alice
    team: risk
    description: Test model.
    data:
      source: {kind: file, path: data.csv}
      target: default
      features: [income, term, region, code, note]
      columns:
        income: {dtype: float, ge: 0, le: 1000000, description: Annual income}
        term: {dtype: int, isin: [12, 24, 36]}
        region: {dtype: category, isin: [north, south]}
        code: {dtype: str, str_matches: "^[A-Z]{2}$"}
        note: {dtype: str, nullable: true}
    training:
      estimator: {class: sklearn.linear_model.LogisticRegression}
      min_metric: 0.5
"""


@pytest.fixture
def schema() -> RequestSchema:
    model = parse_config(CONFIG).model("loans")
    return RequestSchema.for_model(model, categorical=["region", "code", "note"])


def _good() -> dict:
    return {"income": 52_000.5, "term": 24, "region": "north", "code": "AB", "note": None}


def test_valid_records_become_a_frame_in_feature_order(schema: RequestSchema) -> None:
    records = [_good(), {**_good(), "term": 36}]
    assert schema.validate(records) == []
    frame = schema.frame(records)
    assert list(frame.columns) == ["income", "term", "region", "code", "note"]
    assert frame["term"].tolist() == [24, 36]


def test_every_broken_rule_of_every_record_is_named(schema: RequestSchema) -> None:
    bad = [
        {**_good(), "income": -1},
        {**_good(), "income": "high", "term": 18},
        {**_good(), "region": "east", "code": "abc", "extra": 1},
        {"income": 1.0},
    ]
    errors = schema.validate(bad)
    found = {(e.record, e.field, e.rule) for e in errors}
    assert found == {
        (0, "income", "ge"),
        (1, "income", "type"),
        (1, "term", "isin"),
        (2, "region", "isin"),
        (2, "code", "str_matches"),
        (2, "extra", "unknown"),
        (3, "term", "required"),
        (3, "region", "required"),
        (3, "code", "required"),
    }  # `note` is nullable: leaving it out is fine
    message = next(e.message for e in errors if e.rule == "ge")
    assert message == "must be ≥ 0, got -1"


@pytest.mark.parametrize("value", [True, None, math.inf, math.nan, [1], {"a": 1}], ids=repr)
def test_a_number_must_be_a_finite_number(schema: RequestSchema, value: object) -> None:
    errors = schema.validate([{**_good(), "income": value}])
    assert [e.field for e in errors] == ["income"]


def test_the_batch_itself_must_be_a_bounded_list_of_objects(schema: RequestSchema) -> None:
    assert schema.validate({"income": 1})[0].message == "must be a non-empty list of objects"
    assert schema.validate([])[0].rule == "type"
    assert schema.validate([1])[0].message == "must be a JSON object"
    too_many = schema.validate([_good()] * (MAX_RECORDS + 1))
    assert too_many[0].rule == "size"


def test_the_schema_describes_itself_for_the_endpoint_listing(schema: RequestSchema) -> None:
    described = schema.to_dict()["fields"]
    assert described[0] == {
        "name": "income",
        "type": "number",
        "nullable": False,
        "rules": {"ge": 0.0, "le": 1000000.0},
        "description": "Annual income",
    }
    assert described[3]["rules"] == {"str_matches": "^[A-Z]{2}$"}
