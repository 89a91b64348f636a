"""Showback per owning team and model, chargeback per consumer team, from the ledger."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_pipelines.operations.cost_allocation import ModelDay, UsageCount, allocate_day
from governance_pipelines.operations.showback import COST_KINDS, CostLine, cost_kind, cost_report
from governance_pipelines_tests.operations.cost_fixtures import DAY, cost_config, hand_ledger

D = Decimal


def _totals(by: str) -> list[tuple[str, str | None, Decimal, int]]:
    return [
        (line.key, line.cost_center, line.total, line.requests)
        for line in cost_report(hand_ledger(), by, "USD")  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize(
    ("cost_type", "kind"),
    [
        ("serving_requests", "serving"),
        ("serving_compute", "serving"),
        ("shared:platform", "shared"),
        ("training", "training"),
        ("governance", "governance"),
        ("storage", "storage"),
        ("fixed", "fixed"),
    ],
)
def test_every_cost_type_has_a_showback_column(cost_type: str, kind: str) -> None:
    assert cost_kind(cost_type) == kind
    assert kind in COST_KINDS


def test_showback_by_owning_team_largest_first() -> None:
    assert _totals("team") == [
        ("risk", None, D("13.27"), 2000),
        ("clinic", None, D("4.00"), 1000),  # 250 requests plus 750 booked late
    ]
    risk = cost_report(hand_ledger(), "team", "USD")[0]
    assert risk.by_kind == {
        "governance": D("0.75"),
        "training": D("3.00"),
        "serving": D("2.83"),
        "storage": D("0.02"),
        "fixed": D(0),
        "shared": D("6.67"),
    }


def test_by_model() -> None:
    assert _totals("model") == [
        ("credit", None, D("10.27"), 2000),
        ("scan", None, D("4.00"), 1000),
        ("churn", None, D("3.00"), 0),
    ]


def test_chargeback_by_consumer_team_and_cost_centre() -> None:
    assert _totals("consumer") == [
        ("web", "CC-3", D("14.07"), 2500),
        ("risk", "CC-1", D("3.00"), 0),
        ("ops", None, D("0.20"), 500),
    ]


def test_showback_and_chargeback_add_up_to_the_same_ledger_total() -> None:
    totals = {
        by: sum(line.total for line in cost_report(hand_ledger(), by, "USD"))  # type: ignore[arg-type]
        for by in ("team", "model", "consumer")
    }
    assert totals == {"team": D("17.27"), "model": D("17.27"), "consumer": D("17.27")}


def test_ties_are_ordered_by_name() -> None:
    rows = [r for r in hand_ledger() if r.model_name == "churn"]
    twin = dataclasses.replace(rows[0], team="alpha", consumer_team="alpha")
    assert [line.key for line in cost_report([*rows, twin], "team", "USD")] == ["alpha", "risk"]


def test_a_line_as_data_has_every_kind_rounded_as_text() -> None:
    line = CostLine("web", "CC-3", {"serving": D("1.5"), "shared": D("0.25")}, 12, "USD")
    assert line.to_dict() == {
        "key": "web",
        "cost_center": "CC-3",
        "governance": "0.00",
        "training": "0.00",
        "serving": "1.50",
        "storage": "0.00",
        "fixed": "0.00",
        "shared": "0.25",
        "total": "1.75",
        "requests": 12,
        "currency": "USD",
    }


def test_an_empty_ledger_has_no_lines() -> None:
    assert cost_report([], "consumer", "USD") == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.builds(
            UsageCount,
            st.integers(1, 3),
            st.sampled_from(["web", "ops", "risk", "elsewhere"]),
            st.integers(0, 10**6),
        ),
        max_size=6,
    ),
    st.integers(0, 10**12),
)
def test_every_report_of_a_day_adds_up_to_what_was_incurred(
    usage: list[UsageCount], storage: int
) -> None:
    measured = {"credit": ModelDay("credit", usage, storage_bytes=storage)}
    computed = allocate_day(cost_config(), DAY, measured)
    for by in ("team", "model", "consumer"):
        lines = cost_report(computed.allocations, by, "USD")  # type: ignore[arg-type]
        assert sum((line.total for line in lines), D(0)) == computed.incurred
        assert sum(line.requests for line in lines) == sum(u.requests for u in usage)
