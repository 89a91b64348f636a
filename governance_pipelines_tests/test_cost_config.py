"""The costs part of governance.yaml: one currency, exact decimal rates, shared costs that
name real models, each mistake named with its key path."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from governance_pipelines.config import (
    PACKAGED_DEMO_CONFIG,
    ConfigError,
    parse_config,
)


def _demo_raw() -> dict:
    return yaml.safe_load(PACKAGED_DEMO_CONFIG.read_text())


def _problems(raw: dict | str) -> list[str]:
    text = raw if isinstance(raw, str) else yaml.safe_dump(raw)
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="governance.yaml")
    return caught.value.problems


def _costs_raw() -> dict:
    """The demo file with rates and shared costs of each kind (the demo's own may change)."""
    raw = _demo_raw()
    raw["teams"][1]["cost"] = {"per_training_hour": 2.50, "storage_per_gb_month": 0.023}
    raw["models"][0]["cost"] = {"per_1k_requests": 0.40, "serving_per_hour": "1.80"}
    raw["models"][1]["cost"] = {"per_1k_requests": 1.10, "monthly_fixed": 90}
    raw["costs"] = {
        "currency": "USD",
        "shared": [
            {"name": "platform", "monthly": 1200, "split": "usage"},
            {"name": "office", "monthly": "600.50", "split": "weights",
             "weights": {"credit_default": 2, "breast_cancer": "0.5"}},
        ],
    }  # fmt: skip
    return raw


def test_cost_rates_are_kept_as_the_decimals_written() -> None:
    config = parse_config(yaml.safe_dump(_costs_raw()))
    assert config.costs.currency == "USD"
    team = config.teams[1].cost
    assert team is not None
    assert (team.per_training_hour, team.storage_per_gb_month) == (Decimal("2.5"), Decimal("0.023"))
    assert str(team.storage_per_gb_month) == "0.023"  # not 0.0230000000000000003…
    assert config.models[0].cost.serving_per_hour == Decimal("1.80")
    platform, office = config.costs.shared
    assert (platform.name, platform.split, platform.monthly) == ("platform", "usage", 1200)
    assert office.monthly == Decimal("600.50")
    assert office.weights == {"credit_default": Decimal(2), "breast_cancer": Decimal("0.5")}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda r: r["models"][0]["cost"].update(currency="EUR"),
            "models[0].cost.currency: EUR differs from costs.currency USD; convert the rates",
        ),
        (
            lambda r: r["teams"][1]["cost"].update(currency="GBP"),
            "teams[1].cost.currency: GBP differs from costs.currency USD",
        ),
        (
            lambda r: r["costs"]["shared"][1].pop("weights"),
            "costs.shared[1]: split: weights needs `weights:` with a positive weight per model",
        ),
        (
            lambda r: r["costs"]["shared"][1].update(weights={"credit_default": 0}),
            "costs.shared[1]: split: weights needs `weights:` with a positive weight",
        ),
        (
            lambda r: r["costs"]["shared"][0].update(weights={"credit_default": 1}),
            "costs.shared[0]: `weights:` is only read with split: weights, not 'usage'",
        ),
        (
            lambda r: r["costs"]["shared"][1]["weights"].update(credit_defualt=1),
            "costs.shared[1].weights.credit_defualt: not a declared model "
            "(declared: breast_cancer, credit_default)",
        ),
        (
            lambda r: r["costs"]["shared"].append({"name": "platform", "monthly": 5}),
            "costs.shared: 'platform' is declared twice; names must be unique",
        ),
        (
            lambda r: r["costs"]["shared"][0].update(split="by_size"),
            "costs.shared[0].split: expected one of",
        ),
        (lambda r: r["costs"].update(currency="usd"), "costs.currency: expected text matching"),
        (lambda r: r["costs"].update(currency="EURO"), "costs.currency: expected text matching"),
    ],
)
def test_cost_declarations_are_checked(mutate, expected: str) -> None:
    raw = _costs_raw()
    mutate(raw)
    problems = _problems(raw)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1, "greater than or equal to 0"),
        ("-0.01", "greater than or equal to 0"),
        ("cheap", "expected a number, got 'cheap'"),
        ("1,50", "expected a number, got '1,50'"),
        (float("nan"), "expected a finite number, got nan"),
        (float("inf"), "expected a finite number, got inf"),
        (float("-inf"), "expected a finite number, got -inf"),
        (".inf", "expected a number, got '.inf'"),
        ("0.1234567", "no more than 6 decimal places"),
        ("1e400", "no more than 18 digits"),
        ([1], "expected a number, got [1]"),
    ],
)
def test_a_rate_that_is_not_a_non_negative_decimal_is_named(value: object, expected: str) -> None:
    for place in ("models", "teams", "shared"):
        raw = _costs_raw()
        if place == "models":
            raw["models"][1]["cost"]["per_1k_requests"] = value
            path = "models[1].cost.per_1k_requests: "
        elif place == "teams":
            raw["teams"][1]["cost"]["storage_per_gb_month"] = value
            path = "teams[1].cost.storage_per_gb_month: "
        else:
            raw["costs"]["shared"][0]["monthly"] = value
            path = "costs.shared[0].monthly: "
        (problem,) = [p for p in _problems(raw) if p.startswith(path)]
        assert expected in problem, problem


def test_a_rate_given_as_quoted_decimal_text_is_accepted() -> None:
    raw = _costs_raw()
    raw["models"][1]["cost"]["per_1k_requests"] = "1.10"
    config = parse_config(yaml.safe_dump(raw))
    assert config.models[1].cost.per_1k_requests == Decimal("1.10")
