"""Restating a day: corrections are appended so the ledger equals the latest computation."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from governance_pipelines.operations.cost_allocation import (
    Allocation,
    ModelDay,
    UsageCount,
    allocate_day,
)
from governance_pipelines.operations.cost_restatement import (
    CORRECTION,
    Key,
    booked_totals,
    rows_to_book,
)
from governance_pipelines_tests.operations.cost_fixtures import (
    DAY,
    cost_config,
    measured_day,
)

D = Decimal


def _row(
    consumer: str, amount: str, *, cost_type: str = "serving_requests", quantity: str = "1"
) -> Allocation:
    return Allocation(
        day=DAY,
        model_name="credit",
        model_version=1,
        team="risk",
        consumer_team=consumer,
        cost_center=None,
        cost_type=cost_type,
        charge_category="Usage",
        quantity=D(quantity),
        unit="Requests",
        amount=D(amount),
        currency="USD",
    )


def _ledger(*batches: Sequence[Allocation]) -> dict[Key, Decimal]:
    return _totals([row for batch in batches for row in batch])


def _totals(rows: Sequence[Allocation]) -> dict[Key, Decimal]:
    return {key: amount for key, (amount, _) in booked_totals(rows).items()}


def test_a_first_booking_books_every_row_as_computed() -> None:
    computed = allocate_day(cost_config(), DAY, measured_day()).allocations
    booked = rows_to_book([], computed, 0)
    assert booked == computed
    assert all(r.charge_class is None and r.restatement == 0 for r in booked)


def test_an_unchanged_recomputation_books_nothing() -> None:
    computed = allocate_day(cost_config(), DAY, measured_day()).allocations
    again = allocate_day(cost_config(), DAY, measured_day()).allocations
    assert rows_to_book(computed, again, 1) == []


def test_late_traffic_books_corrections_that_bring_the_ledger_to_the_new_day() -> None:
    config = cost_config()
    first = allocate_day(config, DAY, measured_day()).allocations
    late = dict(measured_day())
    late["scan"] = ModelDay("scan", [UsageCount(3, "web", 250), UsageCount(3, "ops", 750)])
    second = allocate_day(config, DAY, late).allocations
    corrections = rows_to_book(first, second, 1)
    assert corrections
    assert {(r.charge_class, r.restatement) for r in corrections} == {(CORRECTION, 1)}
    assert _ledger(first, corrections) == _totals(second)
    # ops's new part of scan's requests: 750 of 1000 at 1.10 per 1000 is 0.825 -> 0.82
    # (the tie goes to web, which comes first), a new key booked as a correction in full.
    new = {(r.model_name, r.consumer_team, r.cost_type): r for r in corrections}
    assert new[("scan", "ops", "serving_requests")].amount == D("0.82")
    assert new[("scan", "ops", "serving_requests")].quantity == D(750)
    # web's scan requests did not change, so its requests line is not restated...
    assert ("scan", "web", "serving_requests") not in new
    # ...but its share of the fixed fee did: 2.90 all to web before, a quarter of it now.
    assert new[("scan", "web", "fixed")].amount == D("0.73") - D("2.90")
    # The earlier rows are returned untouched (the function never edits what was booked).
    assert all(r.charge_class is None and r.restatement == 0 for r in first)


def test_a_key_that_disappears_is_reversed() -> None:
    before = [_row("web", "1.00", quantity="100"), _row("ops", "0.50", quantity="50")]
    after = [_row("web", "1.50", quantity="150")]
    corrections = rows_to_book(before, after, 1)
    assert [(r.consumer_team, r.amount, r.quantity, r.charge_class) for r in corrections] == [
        ("ops", D("-0.50"), D(-50), CORRECTION),
        ("web", D("0.50"), D(50), CORRECTION),
    ]
    assert _ledger(before, corrections) == {
        ("credit", 1, "ops", "serving_requests"): D(0),
        ("credit", 1, "web", "serving_requests"): D("1.50"),
    }


def test_an_emptied_day_reverses_everything_and_a_later_return_rebooks() -> None:
    first = [_row("web", "1.00"), _row("web", "0.10", cost_type="storage")]
    gone = rows_to_book(first, [], 1)
    assert sum(r.amount for r in gone) == D("-1.10")
    back = rows_to_book([*first, *gone], first, 2)
    assert _ledger(first, gone, back) == _totals(first)
    assert {r.restatement for r in back} == {2}


def test_a_quantity_change_with_the_same_amount_is_still_restated() -> None:
    """Rounding can hide a change of requests in the amount; the quantity still moves."""
    corrections = rows_to_book(
        [_row("web", "0.01", quantity="10")], [_row("web", "0.01", quantity="12")], 1
    )
    assert [(r.amount, r.quantity) for r in corrections] == [(D(0), D(2))]


def test_a_second_restatement_corrects_against_the_corrected_ledger() -> None:
    a = [_row("web", "1.00")]
    b = [_row("web", "2.00")]
    c = [_row("web", "1.75")]
    ab = rows_to_book(a, b, 1)
    bc = rows_to_book([*a, *ab], c, 2)
    assert [(r.amount, r.restatement) for r in ab] == [(D("1.00"), 1)]
    assert [(r.amount, r.restatement) for r in bc] == [(D("-0.25"), 2)]


def test_corrections_take_their_labels_from_the_new_computation() -> None:
    before = [_row("web", "1.00")]
    after = [dataclasses.replace(_row("web", "2.00"), cost_center="CC-9")]
    (correction,) = rows_to_book(before, after, 1)
    assert correction.cost_center == "CC-9"


# --- any two computations: the booked rows plus the corrections are the second ----------

CONSUMERS = st.sampled_from(["web", "ops", "risk", "clinic"])
MEASURED = st.dictionaries(
    st.sampled_from(["credit", "churn", "scan"]),
    st.builds(
        lambda usage, hours, size: (usage, hours, size),
        st.lists(
            st.builds(UsageCount, st.integers(1, 3), CONSUMERS, st.integers(0, 5000)), max_size=4
        ),
        st.decimals(0, 10, places=2, allow_nan=False, allow_infinity=False),
        st.integers(0, 10**11),
    ),
)


def _allocations(measured: dict) -> list[Allocation]:
    days = {
        name: ModelDay(name, usage, training_hours=hours, storage_bytes=size)
        for name, (usage, hours, size) in measured.items()
    }
    return allocate_day(cost_config(), DAY, days).allocations


@settings(max_examples=100, deadline=None)
@given(st.lists(MEASURED, min_size=2, max_size=4))
def test_any_sequence_of_computations_ends_with_the_ledger_equal_to_the_last(
    sequence: list[dict],
) -> None:
    ledger: list[Allocation] = []
    computations = [_allocations(measured) for measured in sequence]
    for restatement, computed in enumerate(computations):
        snapshot = list(ledger)
        new = rows_to_book(ledger, computed, restatement)
        assert ledger == snapshot  # what was booked is not modified
        if restatement:
            assert all(r.charge_class == CORRECTION and r.restatement == restatement for r in new)
        ledger.extend(new)
        held, wanted = booked_totals(ledger), booked_totals(computed)
        for key in held.keys() | wanted.keys():  # amount and quantity, key by key
            assert held.get(key, (D(0), D(0))) == wanted.get(key, (D(0), D(0))), key
        assert sum(r.amount for r in ledger) == sum(r.amount for r in computed)
    assert rows_to_book(ledger, computations[-1], len(computations)) == []
