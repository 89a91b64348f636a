"""Money: minor units, half-even rounding, the exact largest-remainder split, rate precedence."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_pipelines.operations.cost_model import (
    EffectiveRates,
    effective_rates,
    largest_remainder,
    minor_unit,
    round_money,
)
from governance_pipelines_tests.operations.cost_fixtures import cost_config, cost_raw

D = Decimal


@pytest.mark.parametrize(
    ("currency", "unit"),
    [("USD", "0.01"), ("EUR", "0.01"), ("JPY", "1"), ("KRW", "1"), ("KWD", "0.001")],
)
def test_minor_unit_of_common_currencies(currency: str, unit: str) -> None:
    assert minor_unit(currency) == D(unit)
    assert minor_unit(currency).as_tuple().exponent == D(unit).as_tuple().exponent


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("0.125", "USD", "0.12"),  # half to even: 2 is even
        ("0.135", "USD", "0.14"),  # 3 is odd, so up
        ("0.1251", "USD", "0.13"),  # above the half: up
        ("-0.125", "USD", "-0.12"),
        ("2.5", "JPY", "2"),
        ("3.5", "JPY", "4"),
        ("0.0125", "KWD", "0.012"),
        ("0.0135", "KWD", "0.014"),
        ("7", "USD", "7.00"),
    ],
)
def test_round_money_is_half_even_to_the_minor_unit(
    amount: str, currency: str, rounded: str
) -> None:
    result = round_money(D(amount), currency)
    assert result == D(rounded)
    assert str(result) == rounded  # quantized: the text has exactly the minor unit's digits


def test_one_dollar_in_three_gives_the_odd_cent_to_the_first() -> None:
    parts = largest_remainder(D("1.00"), {"a": 1, "b": 1, "c": 1}, "USD")
    assert parts == {"a": D("0.34"), "b": D("0.33"), "c": D("0.33")}
    assert list(parts) == ["a", "b", "c"]  # the given order is kept


def test_ties_go_to_the_earlier_key_in_the_given_order() -> None:
    parts = largest_remainder(D("1.00"), {"c": 1, "b": 1, "a": 1}, "USD")
    assert parts == {"c": D("0.34"), "b": D("0.33"), "a": D("0.33")}


def test_leftover_cents_go_to_the_largest_remainders_not_the_largest_parts() -> None:
    # 1000 cents in 1:2:4 are 142.857, 285.714 and 571.428 cents: the floors add up to 998
    # and the two cents left go to .857 and .714, not to the largest part.
    parts = largest_remainder(D("10.00"), {"a": 1, "b": 2, "c": 4}, "USD")
    assert parts == {"a": D("1.43"), "b": D("2.86"), "c": D("5.71")}


def test_decimal_weights_and_other_minor_units() -> None:
    assert largest_remainder(D("100"), {"a": D("0.5"), "b": D("0.25")}, "JPY") == {
        "a": D("67"),
        "b": D("33"),
    }
    assert largest_remainder(D("7"), {"a": 1, "b": 1}, "JPY") == {"a": D("4"), "b": D("3")}
    assert largest_remainder(D("0.010"), {"a": 1, "b": 1}, "KWD") == {
        "a": D("0.005"),
        "b": D("0.005"),
    }
    assert largest_remainder(D("0.011"), {"a": 1, "b": 1}, "KWD") == {
        "a": D("0.006"),
        "b": D("0.005"),
    }


def test_a_negative_total_is_split_like_its_absolute_value_then_negated() -> None:
    parts = largest_remainder(D("-1.00"), {"a": 1, "b": 1, "c": 1}, "USD")
    assert parts == {"a": D("-0.34"), "b": D("-0.33"), "c": D("-0.33")}


def test_zero_weights_get_zero_without_a_sign() -> None:
    assert largest_remainder(D("5.00"), {"a": 0, "b": 3, "c": D(0)}, "USD") == {
        "a": D("0.00"),
        "b": D("5.00"),
        "c": D("0.00"),
    }
    negative = largest_remainder(D("-0.01"), {"a": 1, "b": 1, "z": 0}, "USD")
    assert negative == {"a": D("-0.01"), "b": D(0), "z": D(0)}
    # A ledger row of "-0.00" would be read by finance as a correction that is not there.
    assert [str(v) for v in negative.values()] == ["-0.01", "0.00", "0.00"]


def test_a_zero_total_splits_into_zeros() -> None:
    assert largest_remainder(D("0.00"), {"a": 1, "b": 2}, "USD") == {"a": D(0), "b": D(0)}


@pytest.mark.parametrize(
    ("total", "weights", "message"),
    [
        (D("1.00"), {"a": 0, "b": 0}, "no part has a positive weight"),
        (D("1.00"), {}, "no part has a positive weight"),
        (D("1.00"), {"a": -1, "b": 2}, "must not be negative"),
        (D("1.005"), {"a": 1}, r"1\.005 is not rounded to the minor unit of USD \(0\.01\)"),
    ],
)
def test_unsplittable_inputs_are_refused(
    total: Decimal, weights: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        largest_remainder(total, weights, "USD")


def test_an_amount_below_the_yen_is_not_rounded() -> None:
    with pytest.raises(ValueError, match="minor unit of JPY"):
        largest_remainder(D("1.5"), {"a": 1}, "JPY")


# --- the split is exact, whatever the weights -------------------------------------------

CURRENCIES = st.sampled_from(["USD", "JPY", "KWD"])
WEIGHT = st.one_of(
    st.integers(min_value=0, max_value=10**9),
    st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False),
)


@st.composite
def splits(draw: st.DrawFn, *, signed: bool = False) -> tuple[Decimal, dict[str, Decimal], str]:
    currency = draw(CURRENCIES)
    low = -(10**12) if signed else 0
    units = draw(st.integers(min_value=low, max_value=10**12))
    weights = draw(st.lists(WEIGHT, min_size=1, max_size=12))
    if not any(weights):
        weights[draw(st.integers(0, len(weights) - 1))] = D(1)
    keys = [f"k{i}" for i in range(len(weights))]
    return units * minor_unit(currency), dict(zip(keys, map(D, weights), strict=True)), currency


@settings(max_examples=300, deadline=None)
@given(splits(signed=True))
def test_parts_add_up_to_the_total_and_are_within_a_unit_of_the_exact_share(
    case: tuple[Decimal, dict[str, Decimal], str],
) -> None:
    total, weights, currency = case
    unit = minor_unit(currency)
    parts = largest_remainder(total, weights, currency)
    assert list(parts) == list(weights)
    assert sum(parts.values(), D(0)) == total
    weight_sum = sum(weights.values(), D(0))
    for key, part in parts.items():
        assert part % unit == 0
        assert part.as_tuple().exponent == unit.as_tuple().exponent
        exact = total * weights[key] / weight_sum
        assert abs(part - exact) < unit, (key, part, exact)
        if weights[key] == 0:
            assert part == 0


@settings(max_examples=200, deadline=None)
@given(splits())
def test_no_part_of_a_non_negative_total_is_negative(
    case: tuple[Decimal, dict[str, Decimal], str],
) -> None:
    total, weights, currency = case
    assert all(part >= 0 for part in largest_remainder(total, weights, currency).values())


@settings(max_examples=100, deadline=None)
@given(splits())
def test_equal_weights_differ_by_at_most_one_unit(
    case: tuple[Decimal, dict[str, Decimal], str],
) -> None:
    total, weights, currency = case
    equal = dict.fromkeys(weights, 1)
    parts = list(largest_remainder(total, equal, currency).values())
    assert max(parts) - min(parts) <= minor_unit(currency)
    assert parts == sorted(parts, reverse=True)  # the extra units go to the earliest keys


# --- rates: the model's own, else its team's default, else zero -------------------------


def test_effective_rates_take_the_model_then_the_team_then_zero() -> None:
    config = cost_config()
    credit = effective_rates(config, config.model("credit"))
    assert credit == EffectiveRates(
        currency="USD",
        per_1k_requests=D("0.40"),
        serving_per_hour=D("1.80"),
        per_training_hour=D("2.00"),  # risk's default
        storage_per_gb_month=D("0.30"),  # risk's default
        monthly_fixed=D("31"),
    )
    churn = effective_rates(config, config.model("churn"))
    assert churn.per_training_hour == D("3.00")  # its own rate wins over the team's 2.00
    assert churn.storage_per_gb_month == D("0.30")
    assert (churn.per_1k_requests, churn.serving_per_hour, churn.monthly_fixed) == (0, 0, 0)
    scan = effective_rates(config, config.model("scan"))  # clinic declares no defaults
    assert (scan.per_training_hour, scan.storage_per_gb_month) == (0, 0)
    assert scan.per_1k_requests == D("1.10")


def test_an_explicit_zero_rate_is_not_replaced_by_the_team_default() -> None:
    raw = cost_raw()
    raw["models"][1]["cost"] = {"per_training_hour": "0", "storage_per_gb_month": "0.00"}
    config = cost_config(raw)
    churn = effective_rates(config, config.model("churn"))
    assert (churn.per_training_hour, churn.storage_per_gb_month) == (0, 0)


def test_rates_are_the_decimals_written_not_binary_floats() -> None:
    raw = cost_raw()
    raw["costs"]["currency"] = "KWD"
    raw["models"][0]["cost"] = {"per_1k_requests": 0.1, "serving_per_hour": "0.000001"}
    config = cost_config(raw)
    rates = effective_rates(config, config.model("credit"))
    assert rates.per_1k_requests == D("0.1")  # not 0.1000000000000000055511151231257827
    assert rates.serving_per_hour == D("0.000001")
    assert rates.currency == "KWD"
