"""The ledger in FinOps FOCUS terms, and the FOCUS bill it is reconciled with."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from governance_pipelines.operations.cost_allocation import ModelDay, UsageCount, allocate_day
from governance_pipelines.operations.cost_restatement import rows_to_book
from governance_pipelines.operations.focus import (
    FOCUS_COLUMNS,
    BillError,
    allocation_from_row,
    allocation_to_row,
    focus_frame,
    read_bill,
)
from governance_pipelines_tests.operations.cost_fixtures import DAY, cost_config, measured_day

D = Decimal
HEADER = "ChargePeriodStart,BilledCost,BillingCurrency,x_ModelName"


def _restated_day() -> list:
    config = cost_config()
    first = allocate_day(config, DAY, measured_day()).allocations
    late = {**measured_day(), "churn": ModelDay("churn", [UsageCount(1, "ops", 10)])}
    return first + rows_to_book(first, allocate_day(config, DAY, late).allocations, 1)


def test_focus_frame_has_the_focus_columns_and_exact_amounts() -> None:
    rows = _restated_day()
    frame = focus_frame(rows, {"credit": {"risk_tier": "high"}})
    assert tuple(frame.columns) == FOCUS_COLUMNS
    assert len(frame) == len(rows)
    assert all(isinstance(v, Decimal) for v in frame["BilledCost"])
    assert all(isinstance(v, Decimal) for v in frame["ConsumedQuantity"])
    assert (frame["BilledCost"] == frame["EffectiveCost"]).all()
    assert sum(frame["BilledCost"], D(0)) == sum(r.amount for r in rows)
    first = frame.iloc[0]
    assert first["ChargePeriodStart"] == datetime(2026, 1, 15, tzinfo=UTC)
    assert first["ChargePeriodEnd"] == datetime(2026, 1, 16, tzinfo=UTC)
    assert first["ChargeDescription"] == "credit serving requests"
    assert json.loads(first["Tags"]) == {"risk_tier": "high", "cost_type": "serving_requests"}
    assert frame["x_ModelVersion"].dtype == "Int64"
    assert frame["x_ModelVersion"].isna().sum() == sum(r.model_version is None for r in rows)


def test_corrections_carry_charge_class_correction_and_their_restatement() -> None:
    frame = focus_frame(_restated_day())
    corrections = frame[frame["ChargeClass"].notna()]
    assert len(corrections) > 0
    assert set(corrections["ChargeClass"]) == {"Correction"}
    assert set(corrections["x_Restatement"]) == {1}
    assert set(frame[frame["ChargeClass"].isna()]["x_Restatement"]) == {0}
    fixed = frame[frame["x_CostType"] == "fixed"]
    assert set(fixed["ChargeCategory"]) == {"Purchase"}


def test_the_frame_survives_parquet_without_losing_a_cent(tmp_path: Path) -> None:
    rows = _restated_day()
    frame = focus_frame(rows)
    frame.to_parquet(tmp_path / "ledger.parquet")
    back = pd.read_parquet(tmp_path / "ledger.parquet")
    assert tuple(back.columns) == FOCUS_COLUMNS
    assert list(back["BilledCost"]) == [r.amount for r in rows]
    assert all(isinstance(v, Decimal) for v in back["BilledCost"])
    assert list(back["ConsumedQuantity"]) == [r.quantity for r in rows]
    assert sum(back["BilledCost"], D(0)) == sum(r.amount for r in rows)
    assert list(back["x_ModelVersion"]) == list(frame["x_ModelVersion"])
    assert list(back["ChargeClass"].fillna("")) == [r.charge_class or "" for r in rows]


def test_an_empty_ledger_is_an_empty_frame_with_the_columns(tmp_path: Path) -> None:
    frame = focus_frame([])
    assert tuple(frame.columns) == FOCUS_COLUMNS
    assert frame.empty
    frame.to_parquet(tmp_path / "empty.parquet")


def test_store_rows_round_trip_exactly() -> None:
    for row in _restated_day():
        stored = {**allocation_to_row(row), "day": row.day, "restatement": row.restatement}
        assert isinstance(stored["amount"], str)
        assert allocation_from_row(stored) == row


# --- reading the bill -------------------------------------------------------------------


def _bill(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "bill.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_a_focus_bill_per_model_and_per_day(tmp_path: Path) -> None:
    path = _bill(
        tmp_path,
        "2026-01-15T00:00:00Z,19.79,USD,credit",
        "2026-01-15,0.01,USD,credit",  # two lines of one model-day add up
        "2026-01-15T00:00:00+00:00,3.03,USD,churn",
        "2026-01-16T00:00:00Z,1.10,USD,",  # no model: the whole day
        "2026-01-17T01:00:00+02:00,0.10,USD, ",  # 23:00 UTC on the 16th
    )
    bill = read_bill(path, "USD")
    assert bill.totals == {
        (DAY, "credit"): D("19.80"),
        (DAY, "churn"): D("3.03"),
        (date(2026, 1, 16), None): D("1.20"),
    }
    assert bill.currency == "USD"
    assert bill.path == str(path)
    assert bill.days() == {DAY, date(2026, 1, 16)}


def test_a_bill_without_model_names_is_per_day(tmp_path: Path) -> None:
    path = _bill(
        tmp_path,
        "2026-01-15,1.5,USD",
        "2026-01-15,2.25,USD",
        header="ChargePeriodStart,BilledCost,BillingCurrency",
    )
    assert read_bill(path, "USD").totals == {(DAY, None): D("3.75")}


def test_a_missing_bill_says_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(BillError, match=r"costs\.bill: no file at .*nowhere\.csv; export"):
        read_bill(tmp_path / "nowhere.csv", "USD")


def test_missing_focus_columns_are_named(tmp_path: Path) -> None:
    path = _bill(tmp_path, "2026-01-15,1", header="ChargePeriodStart,Cost")
    with pytest.raises(BillError) as caught:
        read_bill(path, "USD")
    assert str(caught.value) == (
        f"costs.bill: {path} lacks FOCUS column(s) BilledCost, BillingCurrency "
        "(has ChargePeriodStart, Cost)"
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("2026-01-15,abc,USD,credit", "row 3: ChargePeriodStart '2026-01-15' / BilledCost 'abc'"),
        ("2026-01-15,NaN,USD,credit", "BilledCost 'NaN' is not a date and a decimal amount"),
        ("2026-01-15,Infinity,USD,credit", "BilledCost 'Infinity'"),
        ("2026-01-15,,USD,credit", "BilledCost ''"),
        ("yesterday,1.00,USD,credit", "ChargePeriodStart 'yesterday'"),
        ("2026-01-15,1.00,EUR,credit", "row 3: BillingCurrency 'EUR' is not USD (costs.currency)"),
    ],
)
def test_a_bad_row_is_named_by_file_and_row(tmp_path: Path, line: str, problem: str) -> None:
    path = _bill(tmp_path, "2026-01-15,1.00,USD,credit", line)
    with pytest.raises(BillError) as caught:
        read_bill(path, "USD")
    message = str(caught.value)
    assert message.startswith(f"costs.bill: {path}: row 3")
    assert problem in message


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    path = _bill(tmp_path, *[f"2026-01-{d:02d},x,USD,credit" for d in range(1, 13)])
    with pytest.raises(BillError) as caught:
        read_bill(path, "USD")
    assert "row 2:" in str(caught.value)
    assert "row 11:" in str(caught.value)
    assert str(caught.value).endswith("; … 2 more")


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"", "No columns to parse"),
        (b"\xff\xfe\x00\x01garbage\n", "can't decode byte 0xff"),
        (f'{HEADER}\n"2026-01-15,1,USD,credit\n'.encode(), "EOF inside string"),
        # A thousands separator splits the amount into two fields.
        (f"{HEADER}\n2026-01-15,1.00,USD,a\n2026-01-15,1,000.00,USD,a\n".encode(), "line 3"),
    ],
    ids=["empty", "not-utf8", "unclosed-quote", "extra-field"],
)
def test_an_unreadable_file_is_a_bill_error_not_a_traceback(
    tmp_path: Path, content: bytes, detail: str
) -> None:
    path = tmp_path / "bill.csv"
    path.write_bytes(content)
    with pytest.raises(BillError) as caught:
        read_bill(path, "USD")
    assert str(caught.value).startswith(f"costs.bill: {path} is not a readable CSV (")
    assert detail in str(caught.value)


def test_a_bill_with_only_a_header_bills_nothing(tmp_path: Path) -> None:
    assert read_bill(_bill(tmp_path), "USD").totals == {}
