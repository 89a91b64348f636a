"""One day's charges, computed by hand, and their allocation to consumer teams, exactly."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_pipelines.operations.cost_allocation import (
    Allocation,
    ModelDay,
    UsageCount,
    allocate_day,
    day_share_of_month,
)
from governance_pipelines_tests.operations.cost_fixtures import (
    DAY,
    cost_config,
    cost_raw,
    measured_day,
)

D = Decimal


def _charges(model: str) -> dict[str, tuple[Decimal, Decimal]]:
    computed = allocate_day(cost_config(), DAY, measured_day())
    return {c.cost_type: (c.quantity, c.amount) for c in computed.charges if c.model_name == model}


def _allocated(rows: list[Allocation], model: str) -> dict[tuple[int | None, str, str], Decimal]:
    return {
        (a.model_version, a.consumer_team, a.cost_type): a.amount
        for a in rows
        if a.model_name == model
    }


def test_each_driver_of_a_model_day_by_hand() -> None:
    assert _charges("credit") == {
        # 2000 requests at 0.40 per 1000
        "serving_requests": (D(2000), D("0.80")),
        # 1.5 hours of request time at 1.80 an hour
        "serving_compute": (D("1.5"), D("2.70")),
        # 2 training hours at the team's 2.00, and half an hour of checks at the same rate
        "training": (D(2), D("4.00")),
        "governance": (D("0.5"), D("1.00")),
        # 3 GB (10^9 bytes each) at 0.30 a month, for one of 31 days: 0.029 -> 0.03
        "storage": (D(3), D("0.03")),
        # 31 a month in a 31-day month
        "fixed": (D(1), D("1.00")),
        # shares of 10.00 platform by requests 2000:250, 2.00 office by weights 2:1, and
        # 0.10 tooling split evenly across three models (the odd cent to the first)
        "shared:platform": (D(1), D("8.89")),
        "shared:office": (D(1), D("1.33")),
        "shared:tooling": (D(1), D("0.04")),
    }
    # 250 requests at 1.10 per 1000 = 0.275, half to even: 0.28; 90 a month on the 15th of
    # January: 9000 cents over 31 days is 290.32, the ten spare cents go to days 1-10.
    assert _charges("scan") == {
        "serving_requests": (D(250), D("0.28")),
        "fixed": (D(1), D("2.90")),
        "shared:platform": (D(1), D("1.11")),
        "shared:office": (D(1), D("0.67")),
        "shared:tooling": (D(1), D("0.03")),
    }
    # No traffic and no storage: its own training rate (3.00 beats the team's 2.00) and
    # its third of tooling; no office weight, and no usage share of the platform.
    assert _charges("churn") == {"training": (D(1), D("3.00")), "shared:tooling": (D(1), D("0.03"))}


def test_the_day_is_allocated_to_consumers_by_requests_to_the_cent() -> None:
    computed = allocate_day(cost_config(), DAY, measured_day())
    assert computed.incurred_by_model() == {
        "credit": D("19.79"),
        "churn": D("3.03"),
        "scan": D("4.99"),
    }
    assert computed.incurred == computed.allocated == D("27.81")
    credit = _allocated(computed.allocations, "credit")
    # web sent 1500 of credit's 2000 requests (3:1): 0.80 -> 0.60 / 0.20; 2.70 -> 2.025 /
    # 0.675, a tie of remainders, so the earlier part (web) gets the cent.
    assert credit[(1, "web", "serving_requests")] == D("0.60")
    assert credit[(2, "ops", "serving_requests")] == D("0.20")
    assert credit[(1, "web", "serving_compute")] == D("2.03")
    assert credit[(2, "ops", "serving_compute")] == D("0.67")
    assert credit[(1, "web", "shared:platform")] == D("6.67")
    assert credit[(2, "ops", "shared:platform")] == D("2.22")
    assert sum(credit.values()) == D("19.79")
    # Versions are kept apart: v1 was only called by web, v2 only by ops.
    assert {(v, c) for v, c, _ in credit} == {(1, "web"), (2, "ops")}


def test_a_model_nobody_called_is_charged_to_its_owning_team() -> None:
    computed = allocate_day(cost_config(), DAY, measured_day())
    churn = [a for a in computed.allocations if a.model_name == "churn"]
    assert {(a.model_version, a.consumer_team, a.cost_center) for a in churn} == {
        (None, "risk", "CC-1")
    }
    assert sum(a.amount for a in churn) == D("3.03")


def test_cost_centres_and_categories_of_the_rows() -> None:
    computed = allocate_day(cost_config(), DAY, measured_day())
    centres = {a.consumer_team: a.cost_center for a in computed.allocations}
    assert centres == {"web": "CC-3", "ops": None, "risk": "CC-1"}  # ops declares none
    categories = {a.cost_type: a.charge_category for a in computed.allocations}
    assert categories["fixed"] == "Purchase"
    assert {categories[t] for t in categories if t != "fixed"} == {"Usage"}
    assert {(a.currency, a.day, a.charge_class, a.restatement) for a in computed.allocations} == {
        ("USD", DAY, None, 0)
    }
    quantities = {
        (a.consumer_team, a.cost_type): a.quantity
        for a in computed.allocations
        if a.model_name == "credit"
    }
    assert quantities[("web", "serving_requests")] == D(1500)
    assert quantities[("ops", "serving_compute")] == D("0.375")


def test_an_unknown_consumer_team_is_charged_without_a_cost_centre() -> None:
    measured = {"scan": ModelDay("scan", [UsageCount(1, "ghosts", 10), UsageCount(1, "web", 30)])}
    computed = allocate_day(cost_config(), DAY, measured)
    rows = [a for a in computed.allocations if a.model_name == "scan"]
    assert {a.consumer_team: a.cost_center for a in rows} == {"ghosts": None, "web": "CC-3"}
    assert computed.incurred == computed.allocated


def test_usage_counts_of_the_same_version_and_team_add_up() -> None:
    """Two counts for one (version, consumer) are one consumer's requests, not a replacement."""
    measured = {
        "scan": ModelDay(
            "scan",
            [UsageCount(1, "web", 100), UsageCount(1, "ops", 250), UsageCount(1, "web", 150)],
        )
    }
    computed = allocate_day(cost_config(), DAY, measured)
    requests = {
        a.consumer_team: (a.quantity, a.amount)
        for a in computed.allocations
        if a.model_name == "scan" and a.cost_type == "serving_requests"
    }
    # 500 requests at 1.10 per 1000 = 0.55, half each: 0.28 to the first (web), 0.27
    assert requests == {"web": (D(250), D("0.28")), "ops": (D(250), D("0.27"))}


def test_shared_usage_split_on_a_day_without_traffic_is_even() -> None:
    computed = allocate_day(cost_config(), DAY, {})
    platform = {
        c.model_name: c.amount for c in computed.charges if c.cost_type == "shared:platform"
    }
    assert platform == {"credit": D("3.34"), "churn": D("3.33"), "scan": D("3.33")}
    assert computed.incurred == computed.allocated
    assert {a.consumer_team for a in computed.allocations} == {"risk", "clinic"}


def test_zero_rated_traffic_is_kept_as_quantity_with_zero_amount() -> None:
    raw = cost_raw()
    raw["costs"]["shared"] = []
    raw["models"][2]["cost"] = {}
    config = cost_config(raw)
    computed = allocate_day(config, DAY, {"scan": ModelDay("scan", [UsageCount(1, "web", 40)])})
    scan = [c for c in computed.charges if c.model_name == "scan"]
    assert [(c.cost_type, c.quantity, c.amount) for c in scan] == [
        ("serving_requests", D(40), D(0))
    ]  # the requests still show in reports; nothing else (all zero) is booked


@pytest.mark.parametrize(
    ("year", "month", "monthly"),
    [(2026, 2, "100"), (2024, 2, "100"), (2026, 4, "100"), (2026, 1, "100"), (2026, 1, "0.07")],
)
def test_monthly_amounts_are_prorated_so_the_days_add_up_exactly(
    year: int, month: int, monthly: str
) -> None:
    days = calendar.monthrange(year, month)[1]
    shares = [
        day_share_of_month(D(monthly), date(year, month, d), "USD") for d in range(1, days + 1)
    ]
    assert sum(shares) == D(monthly)
    assert max(shares) - min(shares) <= D("0.01")
    assert shares == sorted(shares, reverse=True)  # the spare cents go to the first days


def test_prorating_by_hand_for_28_30_and_31_days() -> None:
    def share(day: date) -> Decimal:
        return day_share_of_month(D("100"), day, "USD")

    # 10000 cents / 28 = 357.14: four spare cents on days 1-4
    assert [share(date(2026, 2, d)) for d in (1, 4, 5, 28)] == [D("3.58")] * 2 + [D("3.57")] * 2
    # / 30 = 333.33: ten spare cents on days 1-10
    assert [share(date(2026, 4, d)) for d in (10, 11)] == [D("3.34"), D("3.33")]
    # / 31 = 322.58: eighteen spare cents on days 1-18
    assert [share(date(2026, 1, d)) for d in (18, 19)] == [D("3.23"), D("3.22")]


def test_fixed_and_shared_costs_of_a_whole_month_add_up_to_the_declared_amounts() -> None:
    config = cost_config()
    for month, days in ((2, 28), (4, 30), (1, 31)):
        totals: dict[str, Decimal] = {}
        for d in range(1, days + 1):
            for charge in allocate_day(config, date(2026, month, d), measured_day()).charges:
                if charge.cost_type == "fixed" or charge.cost_type.startswith("shared:"):
                    name = charge.cost_type if charge.cost_type != "fixed" else charge.model_name
                    totals[name] = totals.get(name, D(0)) + charge.amount
        assert totals == {
            "credit": D(31),
            "scan": D(90),
            "shared:platform": D(310),
            "shared:office": D(62),
            "shared:tooling": D("3.10"),
        }, month


# --- whatever the usage and the rates, every cent lands on exactly one consumer ---------

RATE = st.decimals(min_value=0, max_value=500, places=6, allow_nan=False, allow_infinity=False)
TEAMS = st.sampled_from(["web", "ops", "risk", "clinic", "unknown_team"])
USAGE = st.lists(
    st.builds(
        UsageCount,
        version=st.integers(1, 4),
        consumer_team=TEAMS,
        requests=st.integers(0, 10**7),
        latency_ms_sum=st.decimals(0, 10**9, places=3, allow_nan=False, allow_infinity=False),
    ),
    max_size=6,
)
MODEL_DAY = st.fixed_dictionaries(
    {
        "usage": USAGE,
        "training_hours": st.decimals(0, 48, places=4, allow_nan=False, allow_infinity=False),
        "governance_hours": st.decimals(0, 48, places=4, allow_nan=False, allow_infinity=False),
        "storage_bytes": st.integers(0, 10**13),
    }
)
FIELDS = ("per_1k_requests", "serving_per_hour", "per_training_hour", "storage_per_gb_month")


@st.composite
def random_days(draw: st.DrawFn) -> tuple[dict, date, dict[str, ModelDay]]:
    raw = cost_raw()
    raw["costs"]["currency"] = draw(st.sampled_from(["USD", "JPY", "KWD"]))
    for model in raw["models"]:
        model["cost"] = {
            name: str(draw(RATE)) for name in (*FIELDS, "monthly_fixed") if draw(st.booleans())
        }
    for shared in raw["costs"]["shared"]:
        shared["monthly"] = str(draw(st.decimals(0, 10**5, places=2, allow_nan=False)))
    day = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
    names = draw(st.lists(st.sampled_from(["credit", "churn", "scan"]), unique=True))
    measured = {name: ModelDay(name, **draw(MODEL_DAY)) for name in names}
    return raw, day, measured


@settings(max_examples=150, deadline=None)
@given(random_days())
def test_allocated_equals_incurred_per_model_every_day(
    case: tuple[dict, date, dict[str, ModelDay]],
) -> None:
    raw, day, measured = case
    config = cost_config(raw)
    computed = allocate_day(config, day, measured)
    unit = D(1).scaleb(-{"USD": 2, "JPY": 0, "KWD": 3}[config.costs.currency])
    assert computed.allocated == computed.incurred
    by_model: dict[str, Decimal] = {}
    for row in computed.allocations:
        by_model[row.model_name] = by_model.get(row.model_name, D(0)) + row.amount
        assert row.amount.as_tuple().exponent >= unit.as_tuple().exponent
        assert row.amount % unit == 0
        assert row.amount >= 0
    for model, incurred in computed.incurred_by_model().items():
        assert by_model.get(model, D(0)) == incurred, model
    for charge in computed.charges:
        parts = [
            a.amount
            for a in computed.allocations
            if (a.model_name, a.cost_type) == (charge.model_name, charge.cost_type)
        ]
        assert sum(parts, D(0)) == charge.amount
    callers = {
        name: {(u.version, u.consumer_team) for u in m.usage if u.requests}
        for name, m in measured.items()
    }
    for row in computed.allocations:
        expected = callers.get(row.model_name) or {(None, config.model(row.model_name).team)}
        assert (row.model_version, row.consumer_team) in expected
