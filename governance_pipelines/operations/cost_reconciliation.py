"""Allocated equals incurred, to the cent: for every model-day, every month, and the bill.

This is what makes the chargeback report something finance can sign: every cent a model
incurred was charged to exactly one consumer team, the ledger (booked rows plus their
corrections) still adds up to the latest computation, and, when a FOCUS bill is imported,
what was billed is what was allocated.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from governance_pipelines.operations.cost_allocation import Allocation, DayAllocation
from governance_pipelines.operations.cost_model import ZERO, minor_unit
from governance_pipelines.operations.focus import Bill

__all__ = [
    "Reconciliation",
    "booking_summary",
    "month_days",
    "reconcile_bill",
    "reconcile_day",
    "reconcile_month",
]

_LISTED = 10


@dataclass(frozen=True)
class Reconciliation:
    scope: str
    currency: str
    incurred: Decimal
    allocated: Decimal
    problems: list[str] = field(default_factory=list)
    billed: Decimal | None = None
    # Days of the scope not allocated yet (a backfill runs days in any order): reported,
    # not a failure, since nothing allocated disagrees with anything incurred.
    unallocated: list[date] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        head = (
            f"{self.scope}: allocated {self.allocated} {self.currency} = incurred {self.incurred}"
            if self.incurred == self.allocated
            else f"{self.scope}: allocated {self.allocated} {self.currency} "
            f"≠ incurred {self.incurred}"
        )
        if self.billed is not None:
            head += f", billed {self.billed}"
        if self.unallocated:
            head += f" ({len(self.unallocated)} day(s) not allocated yet: {self.unallocated[0]}…)"
        if not self.problems:
            return head
        shown = "; ".join(self.problems[:_LISTED])
        more = f"; … {len(self.problems) - _LISTED} more" if len(self.problems) > _LISTED else ""
        return f"{head} — {shown}{more}"

    def to_dict(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "currency": self.currency,
            "incurred": str(self.incurred),
            "allocated": str(self.allocated),
            "billed": None if self.billed is None else str(self.billed),
            "problems": list(self.problems),
            "unallocated": [d.isoformat() for d in self.unallocated],
        }


def booking_summary(computed: DayAllocation) -> dict[str, object]:
    """What a booking's audit event records of the day: incurred per model and in total."""
    return {
        "currency": computed.currency,
        "incurred_total": str(computed.incurred),
        "incurred": {name: str(amount) for name, amount in computed.incurred_by_model().items()},
    }


def _totals(rows: Sequence[Allocation], key: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        name = getattr(row, key)
        totals[name] = totals.get(name, ZERO) + row.amount
    return totals


def reconcile_day(computed: DayAllocation, ledger: Sequence[Allocation]) -> Reconciliation:
    """The day's ledger against a fresh computation of what each model incurred."""
    problems: list[str] = []
    unit = minor_unit(computed.currency)
    incurred = computed.incurred_by_model()
    for model, amount in sorted(_totals(computed.allocations, "model_name").items()):
        if amount != incurred.get(model, ZERO):
            problems.append(f"{model}: split into {amount}, incurred {incurred.get(model, ZERO)}")
    booked = _totals(ledger, "model_name")
    for model in sorted(incurred.keys() | booked.keys()):
        if booked.get(model, ZERO) != incurred.get(model, ZERO):
            problems.append(
                f"{model}: ledger holds {booked.get(model, ZERO)}, "
                f"incurred {incurred.get(model, ZERO)}"
            )
    odd = [r for r in ledger if r.amount % unit or r.currency != computed.currency]
    if odd:
        problems.append(
            f"{len(odd)} ledger row(s) are not whole {unit} {computed.currency} amounts"
        )
    return Reconciliation(
        computed.day.isoformat(),
        computed.currency,
        computed.incurred,
        sum((r.amount for r in ledger), ZERO),
        problems,
    )


def month_days(month: date) -> list[date]:
    first = month.replace(day=1)
    return [
        first + timedelta(days=i) for i in range(calendar.monthrange(first.year, first.month)[1])
    ]


def reconcile_month(
    month: date,
    currency: str,
    incurred_by_day: Mapping[date, Decimal],
    ledger: Sequence[Allocation],
    *,
    through: date,
    since: date | None = None,
    bill: Bill | None = None,
) -> Reconciliation:
    """The month so far (days from `since` up to `through`): each booked day's latest
    incurred total against the ledger's rows of that day, days never allocated, and the
    bill if given. Days before `since` (before costs were allocated at all) are left out."""
    problems: list[str] = []
    days = [d for d in month_days(month) if d <= through and (since is None or d >= since)]
    by_day: dict[date, Decimal] = {}
    for row in ledger:
        by_day[row.day] = by_day.get(row.day, ZERO) + row.amount
    unallocated = [d for d in days if d not in incurred_by_day]
    for day in days:
        if day in unallocated:
            if by_day.get(day, ZERO):
                problems.append(f"{day}: ledger holds {by_day[day]} but no booking records it")
        elif by_day.get(day, ZERO) != incurred_by_day[day]:
            problems.append(
                f"{day}: ledger holds {by_day.get(day, ZERO)}, incurred {incurred_by_day[day]}"
            )
    incurred = sum((incurred_by_day.get(d, ZERO) for d in days), ZERO)
    allocated = sum((by_day.get(d, ZERO) for d in days), ZERO)
    whole = through >= month_days(month)[-1] and (since is None or since <= month_days(month)[0])
    scope = f"{month:%Y-%m}" + ("" if whole else f" ({days[0]} to {days[-1]})" if days else "")
    billed = None
    if bill is not None:
        bill_problems, billed = reconcile_bill(bill, ledger, days)
        problems.extend(bill_problems)
    return Reconciliation(scope, currency, incurred, allocated, problems, billed, unallocated)


def reconcile_bill(
    bill: Bill, ledger: Sequence[Allocation], days: Sequence[date]
) -> tuple[list[str], Decimal]:
    """Billed against allocated, per model-day where the bill names the model, else per day."""
    problems: list[str] = []
    wanted = set(days)
    allocated: dict[tuple[date, str], Decimal] = {}
    for row in ledger:
        key = (row.day, row.model_name)
        allocated[key] = allocated.get(key, ZERO) + row.amount
    billed_total = ZERO
    for (day, model), amount in sorted(bill.totals.items(), key=lambda i: (i[0][0], i[0][1] or "")):
        if day not in wanted:
            continue
        billed_total += amount
        ours = (
            allocated.get((day, model), ZERO)
            if model is not None
            else sum((v for (d, _), v in allocated.items() if d == day), ZERO)
        )
        if ours != amount:
            what = f"{model} on {day}" if model else f"{day} (all models)"
            problems.append(f"bill: {what} billed {amount}, allocated {ours}")
    # A day the bill itemises by model must name every model that was allocated a cost.
    itemised = {day for day, model in bill.totals if model is not None and day in wanted}
    for (day, model), amount in sorted(allocated.items()):
        if day in itemised and amount and (day, model) not in bill.totals:
            problems.append(f"bill: {model} on {day} allocated {amount}, not on the bill")
    return problems, billed_total
