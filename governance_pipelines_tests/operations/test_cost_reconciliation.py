"""Allocated equals incurred, to the cent: per model-day, per month, and against the bill."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from governance_pipelines.operations.cost_allocation import (
    Allocation,
    Charge,
    DayAllocation,
    allocate_day,
)
from governance_pipelines.operations.cost_reconciliation import (
    Reconciliation,
    booking_summary,
    month_days,
    reconcile_day,
    reconcile_month,
)
from governance_pipelines.operations.focus import Bill, read_bill
from governance_pipelines_tests.operations.cost_fixtures import DAY, cost_config, measured_day

D = Decimal
JAN = date(2026, 1, 1)


def _day(day: date = DAY) -> DayAllocation:
    return allocate_day(cost_config(), day, measured_day())


def _change(rows: list[Allocation], model: str, delta: str) -> list[Allocation]:
    """The ledger with the first row of `model` off by `delta`."""
    index = next(i for i, r in enumerate(rows) if r.model_name == model)
    changed = dataclasses.replace(rows[index], amount=rows[index].amount + D(delta))
    return [*rows[:index], changed, *rows[index + 1 :]]


def test_a_booked_day_reconciles() -> None:
    computed = _day()
    check = reconcile_day(computed, computed.allocations)
    assert check.passed
    assert (check.incurred, check.allocated) == (D("27.81"), D("27.81"))
    assert check.summary() == "2026-01-15: allocated 27.81 USD = incurred 27.81"


def test_a_ledger_that_differs_names_the_model() -> None:
    computed = _day()
    check = reconcile_day(computed, _change(computed.allocations, "scan", "0.01"))
    assert not check.passed
    assert check.problems == ["scan: ledger holds 5.00, incurred 4.99"]
    assert check.summary() == (
        "2026-01-15: allocated 27.82 USD ≠ incurred 27.81 — scan: ledger holds 5.00, incurred 4.99"
    )


def test_a_missing_model_and_a_foreign_one_are_both_named() -> None:
    computed = _day()
    ledger = [r for r in computed.allocations if r.model_name != "churn"]
    ledger.append(dataclasses.replace(ledger[0], model_name="ghost", amount=D("1.00")))
    assert reconcile_day(computed, ledger).problems == [
        "churn: ledger holds 0, incurred 3.03",
        "ghost: ledger holds 1.00, incurred 0",
    ]


def test_amounts_off_the_minor_unit_or_in_another_currency_are_found() -> None:
    computed = _day()
    ledger = _change(computed.allocations, "credit", "0.004")
    ledger = _change(ledger[::-1], "credit", "-0.004")[::-1]  # totals unchanged
    euro = dataclasses.replace(ledger[-1], currency="EUR")
    problems = reconcile_day(computed, [*ledger[:-1], euro]).problems
    assert problems == ["3 ledger row(s) are not whole 0.01 USD amounts"]


def test_a_split_that_does_not_add_up_is_found_before_booking() -> None:
    day = DayAllocation(
        DAY,
        "USD",
        [Charge("credit", "risk", "fixed", D(1), "Days", D("1.00"))],
        [
            Allocation(
                DAY, "credit", None, "risk", "risk", None, "fixed", "Purchase", D(1), "Days",
                D("0.99"), "USD",
            )
        ],
    )  # fmt: skip
    assert reconcile_day(day, day.allocations).problems == [
        "credit: split into 0.99, incurred 1.00",
        "credit: ledger holds 0.99, incurred 1.00",
    ]


def test_booking_summary_records_incurred_per_model() -> None:
    assert booking_summary(_day()) == {
        "currency": "USD",
        "incurred_total": "27.81",
        "incurred": {"credit": "19.79", "churn": "3.03", "scan": "4.99"},
    }


# --- months ----------------------------------------------------------------------------


def _booked(*days: date) -> tuple[dict[date, Decimal], list[Allocation]]:
    incurred: dict[date, Decimal] = {}
    ledger: list[Allocation] = []
    for day in days:
        computed = _day(day)
        incurred[day] = computed.incurred
        ledger.extend(computed.allocations)
    return incurred, ledger


def test_month_days_of_short_and_long_months() -> None:
    assert len(month_days(date(2026, 2, 17))) == 28
    assert len(month_days(date(2024, 2, 1))) == 29
    assert month_days(date(2026, 4, 30))[0] == date(2026, 4, 1)
    assert month_days(date(2026, 12, 5))[-1] == date(2026, 12, 31)


def test_days_not_allocated_yet_are_reported_not_failed() -> None:
    incurred, ledger = _booked(date(2026, 1, 14), DAY)
    check = reconcile_month(JAN, "USD", incurred, ledger, through=DAY, since=JAN)
    assert check.passed
    assert check.unallocated == [JAN + timedelta(days=i) for i in range(13)]
    assert check.incurred == check.allocated == sum(incurred.values())
    assert check.scope == "2026-01 (2026-01-01 to 2026-01-15)"
    assert check.summary().endswith("(13 day(s) not allocated yet: 2026-01-01…)")
    assert check.to_dict()["unallocated"][0] == "2026-01-01"


def test_days_before_allocation_started_and_after_through_are_left_out() -> None:
    incurred, ledger = _booked(date(2026, 1, 14), DAY, date(2026, 1, 20))
    check = reconcile_month(JAN, "USD", incurred, ledger, through=DAY, since=date(2026, 1, 14))
    assert check.passed
    assert check.unallocated == []
    assert check.incurred == incurred[date(2026, 1, 14)] + incurred[DAY]
    whole = reconcile_month(JAN, "USD", incurred, ledger, through=date(2026, 1, 31))
    assert whole.scope == "2026-01"
    assert len(whole.unallocated) == 28


def test_a_day_whose_ledger_differs_fails_the_month() -> None:
    incurred, ledger = _booked(date(2026, 1, 14), DAY)
    check = reconcile_month(
        JAN, "USD", incurred, _change(ledger, "credit", "-0.02"), through=DAY, since=JAN
    )
    assert not check.passed
    assert check.problems == ["2026-01-14: ledger holds 27.79, incurred 27.81"]


def test_ledger_rows_of_a_day_no_booking_records_fail_the_month() -> None:
    incurred, ledger = _booked(date(2026, 1, 14), DAY)
    del incurred[DAY]
    check = reconcile_month(JAN, "USD", incurred, ledger, through=DAY, since=JAN)
    assert check.problems == ["2026-01-15: ledger holds 27.81 but no booking records it"]


def test_many_problems_are_listed_up_to_ten() -> None:
    days = [JAN + timedelta(days=i) for i in range(12)]
    incurred = {day: D("1.00") for day in days}
    check = reconcile_month(JAN, "USD", incurred, [], through=days[-1], since=JAN)
    assert len(check.problems) == 12
    assert check.summary().endswith("; … 2 more")


def _write_bill(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["ChargePeriodStart,BilledCost,BillingCurrency,x_ModelName"]
    lines += [f"{day}T00:00:00Z,{amount},USD,{model}" for day, amount, model in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_bill_that_agrees_per_model_and_per_day_reconciles(tmp_path: Path) -> None:
    incurred, ledger = _booked(date(2026, 1, 14), DAY)
    bill = read_bill(
        _write_bill(
            tmp_path / "bill.csv",
            [
                ("2026-01-14", "27.81", ""),  # one line for the whole day
                ("2026-01-15", "19.79", "credit"),
                ("2026-01-15", "3.03", "churn"),
                ("2026-01-15", "4.99", "scan"),
                ("2025-12-31", "99.00", "credit"),  # outside the month: not ours to judge
            ],
        ),
        "USD",
    )
    check = reconcile_month(JAN, "USD", incurred, ledger, through=DAY, since=JAN, bill=bill)
    assert check.passed, check.problems
    assert check.billed == D("55.62")
    assert "billed 55.62" in check.summary()


def test_a_bill_that_disagrees_fails_the_month_naming_model_and_day(tmp_path: Path) -> None:
    incurred, ledger = _booked(date(2026, 1, 14), DAY)
    bill = read_bill(
        _write_bill(
            tmp_path / "bill.csv",
            [("2026-01-14", "27.80", ""), ("2026-01-15", "19.78", "credit")],
        ),
        "USD",
    )
    check = reconcile_month(JAN, "USD", incurred, ledger, through=DAY, since=JAN, bill=bill)
    assert not check.passed
    assert check.problems[:2] == [
        "bill: 2026-01-14 (all models) billed 27.80, allocated 27.81",
        "bill: credit on 2026-01-15 billed 19.78, allocated 19.79",
    ]
    # A day the bill itemises by model must list every model that was allocated a cost.
    assert "bill: churn on 2026-01-15 allocated 3.03, not on the bill" in check.problems[2:]
    assert all(p.endswith("not on the bill") for p in check.problems[2:])
    assert check.billed == D("47.58")
    assert check.to_dict()["billed"] == "47.58"


def test_a_bill_without_a_model_column_is_compared_per_day() -> None:
    incurred, ledger = _booked(DAY)
    bill = Bill("bill.csv", "USD", {(DAY, None): D("27.81")})
    assert reconcile_month(JAN, "USD", incurred, ledger, through=DAY, since=DAY, bill=bill).passed


def test_to_dict_keeps_amounts_as_exact_text() -> None:
    check = Reconciliation("2026-01", "USD", D("0.10"), D("0.10"))
    assert check.to_dict() == {
        "scope": "2026-01",
        "currency": "USD",
        "incurred": "0.10",
        "allocated": "0.10",
        "billed": None,
        "problems": [],
        "unallocated": [],
    }
