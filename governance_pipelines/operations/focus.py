"""The cost ledger in the FinOps FOCUS vocabulary, and the imported bill it reconciles with.

FOCUS (FinOps Open Cost and Usage Specification) is what cloud bills and FinOps tools
speak: writing our rows in it lets finance load model costs next to the cloud bill without
a mapping, and lets us read a bill exported in it. Columns we add are `x_`-prefixed, as
the specification asks of provider-specific columns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from governance_pipelines.operations.cost_allocation import Allocation

__all__ = [
    "FOCUS_COLUMNS",
    "Bill",
    "BillError",
    "allocation_from_row",
    "allocation_to_row",
    "focus_frame",
    "read_bill",
]

FOCUS_COLUMNS = (
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "BilledCost",
    "EffectiveCost",
    "ConsumedQuantity",
    "ConsumedUnit",
    "BillingCurrency",
    "Tags",
    "x_ModelName",
    "x_ModelVersion",
    "x_Team",
    "x_ConsumerTeam",
    "x_CostCenter",
    "x_CostType",
    "x_Restatement",
)


def allocation_to_row(allocation: Allocation) -> dict[str, Any]:
    """The store's row: amounts as decimal text, exact on every backend."""
    return {
        "model_name": allocation.model_name,
        "model_version": allocation.model_version,
        "team": allocation.team,
        "consumer_team": allocation.consumer_team,
        "cost_center": allocation.cost_center,
        "cost_type": allocation.cost_type,
        "charge_category": allocation.charge_category,
        "charge_class": allocation.charge_class,
        "quantity": str(allocation.quantity),
        "unit": allocation.unit,
        "amount": str(allocation.amount),
        "currency": allocation.currency,
    }


def allocation_from_row(row: Mapping[str, Any]) -> Allocation:
    return Allocation(
        day=row["day"],
        model_name=row["model_name"],
        model_version=row["model_version"],
        team=row["team"],
        consumer_team=row["consumer_team"],
        cost_center=row["cost_center"],
        cost_type=row["cost_type"],
        charge_category=row["charge_category"],
        quantity=Decimal(row["quantity"]),
        unit=row["unit"],
        amount=Decimal(row["amount"]),
        currency=row["currency"],
        charge_class=row["charge_class"],
        restatement=int(row["restatement"]),
    )


def focus_frame(
    allocations: Sequence[Allocation], tags: Mapping[str, Mapping[str, str]] | None = None
) -> pd.DataFrame:
    """FOCUS rows; `tags` per model (its labels) become the `Tags` JSON object.

    BilledCost and EffectiveCost are the same: there are no discounts or commitments
    between a platform team and its consumers.
    """
    tags = tags or {}
    records = []
    for a in allocations:
        start = datetime(a.day.year, a.day.month, a.day.day, tzinfo=UTC)
        records.append(
            {
                "ChargePeriodStart": start,
                "ChargePeriodEnd": start + timedelta(days=1),
                "ChargeCategory": a.charge_category,
                "ChargeClass": a.charge_class,
                "ChargeDescription": f"{a.model_name} {a.cost_type.replace('_', ' ')}",
                "BilledCost": a.amount,
                "EffectiveCost": a.amount,
                "ConsumedQuantity": a.quantity,
                "ConsumedUnit": a.unit,
                "BillingCurrency": a.currency,
                "Tags": json.dumps(
                    {**tags.get(a.model_name, {}), "cost_type": a.cost_type}, sort_keys=True
                ),
                "x_ModelName": a.model_name,
                "x_ModelVersion": a.model_version,
                "x_Team": a.team,
                "x_ConsumerTeam": a.consumer_team,
                "x_CostCenter": a.cost_center,
                "x_CostType": a.cost_type,
                "x_Restatement": a.restatement,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=list(FOCUS_COLUMNS))
    frame["x_ModelVersion"] = frame["x_ModelVersion"].astype("Int64")
    return frame


class BillError(ValueError):
    """The imported bill cannot be read: says which file, row and column, and the fix."""


@dataclass(frozen=True)
class Bill:
    """Billed cost per (day, model); model None for rows that name no model."""

    path: str
    currency: str
    totals: Mapping[tuple[date, str | None], Decimal]

    def days(self) -> set[date]:
        return {day for day, _ in self.totals}


_BILL_REQUIRED = ("ChargePeriodStart", "BilledCost", "BillingCurrency")


def read_bill(path: Path, currency: str) -> Bill:
    """Read a FOCUS CSV export: BilledCost per ChargePeriodStart day (and x_ModelName).

    Amounts are parsed from their text as Decimal; every bad cell is reported at once.
    """
    if not path.is_file():
        raise BillError(f"costs.bill: no file at {path}; export the bill as FOCUS CSV there")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise BillError(f"costs.bill: {path} is not a readable CSV ({error})") from None
    missing = [c for c in _BILL_REQUIRED if c not in frame.columns]
    if missing:
        raise BillError(
            f"costs.bill: {path} lacks FOCUS column(s) {', '.join(missing)} "
            f"(has {', '.join(frame.columns) or 'none'})"
        )
    totals: dict[tuple[date, str | None], Decimal] = {}
    problems: list[str] = []
    has_model = "x_ModelName" in frame.columns
    for number, row in enumerate(frame.to_dict("records"), start=2):  # row 1 is the header
        try:
            day = _period_day(row["ChargePeriodStart"])
            amount = Decimal(row["BilledCost"].strip())
            if not amount.is_finite():
                raise InvalidOperation
        except (ValueError, InvalidOperation):
            problems.append(
                f"row {number}: ChargePeriodStart {row['ChargePeriodStart']!r} / "
                f"BilledCost {row['BilledCost']!r} is not a date and a decimal amount"
            )
            continue
        if row["BillingCurrency"].strip() != currency:
            problems.append(
                f"row {number}: BillingCurrency {row['BillingCurrency']!r} is not {currency} "
                "(costs.currency)"
            )
            continue
        model = (row.get("x_ModelName") or "").strip() or None if has_model else None
        totals[(day, model)] = totals.get((day, model), Decimal(0)) + amount
    if problems:
        shown = "; ".join(problems[:10]) + (
            f"; … {len(problems) - 10} more" if len(problems) > 10 else ""
        )
        raise BillError(f"costs.bill: {path}: {shown}")
    return Bill(str(path), currency, totals)


def _period_day(text: str) -> date:
    stamp = pd.Timestamp(text.strip())
    if pd.isna(stamp):
        raise ValueError(text)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.date()
