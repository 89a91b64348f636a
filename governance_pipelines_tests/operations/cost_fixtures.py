"""A small governance file with costs, shared by the cost tests, and its hand-made drivers.

Three models of two owning teams, two consumer teams (one without a cost centre), team
default rates, and one shared cost per split rule. The amounts are chosen so that a day of
January (31 days) has round daily shares: platform 10.00, office 2.00, tooling 0.10.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import yaml

from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.operations.cost_allocation import Allocation, ModelDay, UsageCount

DAY = date(2026, 1, 15)
GB = 10**9


def _model(name: str, owner: str, team: str, cost: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "owner": owner,
        "team": team,
        "description": f"The {name} model.",
        "business_context": "Used in the cost tests.",
        "data": {
            "source": {"kind": "python", "callable": "tests.synthetic:rows"},
            "target": "label",
            "features": ["x"],
        },
        "training": {
            "estimator": {"class": "sklearn.linear_model.LogisticRegression"},
            "min_metric": 0.5,
        },
        "cost": dict(cost),
    }


def cost_raw() -> dict[str, Any]:
    """The governance file as data (rates as decimal text), for tests to change."""
    return {
        "organisation": "Acme",
        "teams": [
            {
                "name": "risk",
                "cost_center": "CC-1",
                "cost": {"per_training_hour": "2.00", "storage_per_gb_month": "0.30"},
            },
            {"name": "clinic", "cost_center": "CC-2"},
            {"name": "web", "cost_center": "CC-3"},
            {"name": "ops"},
        ],
        "people": [
            {"name": "alice", "team": "risk", "roles": ["data_scientist"]},
            {"name": "dan", "team": "clinic", "roles": ["data_scientist"]},
        ],
        "costs": {
            "currency": "USD",
            "shared": [
                {"name": "platform", "monthly": "310", "split": "usage"},
                {
                    "name": "office",
                    "monthly": "62",
                    "split": "weights",
                    "weights": {"credit": 2, "scan": 1},
                },
                {"name": "tooling", "monthly": "3.10", "split": "even"},
            ],
        },
        "schedules": {"monitoring_start_date": "2026-01-01"},
        "models": [
            _model(
                "credit",
                "alice",
                "risk",
                {"per_1k_requests": "0.40", "serving_per_hour": "1.80", "monthly_fixed": "31"},
            ),
            _model("churn", "alice", "risk", {"per_training_hour": "3.00"}),
            _model("scan", "dan", "clinic", {"per_1k_requests": "1.10", "monthly_fixed": "90"}),
        ],
    }


def cost_config(raw: Mapping[str, Any] | None = None) -> GovernanceConfig:
    """The file as parsed (the unchanged one is parsed once: configs are frozen)."""
    if raw is None:
        return _default_config()
    return parse_config(yaml.safe_dump(dict(raw), sort_keys=False))


@functools.cache
def _default_config() -> GovernanceConfig:
    return cost_config(cost_raw())


def measured_day() -> dict[str, ModelDay]:
    """The drivers of `DAY`, whose charges the tests compute by hand."""
    return {
        "credit": ModelDay(
            "credit",
            [
                UsageCount(1, "web", 1500, Decimal(3_600_000)),  # 1 hour of request time
                UsageCount(2, "ops", 500, Decimal(1_800_000)),  # half an hour
            ],
            training_hours=Decimal(2),
            governance_hours=Decimal("0.5"),
            storage_bytes=3 * GB,
        ),
        "churn": ModelDay("churn", [], training_hours=Decimal(1)),
        "scan": ModelDay("scan", [UsageCount(3, "web", 250)]),
    }


def _allocation(
    model: str,
    version: int | None,
    team: str,
    consumer: str,
    centre: str | None,
    cost_type: str,
    amount: str,
    quantity: str = "1",
    charge_class: str | None = None,
) -> Allocation:
    return Allocation(
        day=DAY,
        model_name=model,
        model_version=version,
        team=team,
        consumer_team=consumer,
        cost_center=centre,
        cost_type=cost_type,
        charge_category="Purchase" if cost_type == "fixed" else "Usage",
        quantity=Decimal(quantity),
        unit="Requests" if cost_type == "serving_requests" else "Days",
        amount=Decimal(amount),
        currency="USD",
        charge_class=charge_class,
        restatement=1 if charge_class else 0,
    )


def hand_ledger() -> list[Allocation]:
    """A month's ledger written out by hand, with one correction (late scan traffic).

    By owning team: risk 13.27 (serving 2.83, shared 6.67, training 3.00, storage 0.02,
    governance 0.75), clinic 4.00 (serving 1.10, fixed 2.90). By consumer: web (CC-3)
    14.07, risk (CC-1) 3.00, ops (no centre) 0.20. Requests: web 2500, ops 500.
    """
    return [
        _allocation("credit", 1, "risk", "web", "CC-3", "serving_requests", "0.60", "1500"),
        _allocation("credit", 2, "risk", "ops", None, "serving_requests", "0.20", "500"),
        _allocation("credit", 1, "risk", "web", "CC-3", "serving_compute", "2.03", "1.125"),
        _allocation("credit", 1, "risk", "web", "CC-3", "shared:platform", "6.67"),
        _allocation("credit", 1, "risk", "web", "CC-3", "storage", "0.02", "2.25"),
        _allocation("credit", 1, "risk", "web", "CC-3", "governance", "0.75", "0.375"),
        _allocation("churn", None, "risk", "risk", "CC-1", "training", "3.00"),
        _allocation("scan", 3, "clinic", "web", "CC-3", "fixed", "2.90"),
        _allocation("scan", 3, "clinic", "web", "CC-3", "serving_requests", "0.28", "250"),
        _allocation(
            "scan", 3, "clinic", "web", "CC-3", "serving_requests", "0.82", "750", "Correction"
        ),
    ]
