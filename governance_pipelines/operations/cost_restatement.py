"""Restating a day whose costs changed: corrections are appended, nothing is rewritten.

Late inference-log rows, a fixed rate corrected in `governance.yaml`, a training run that
finished after the day was allocated: each makes a recomputed day differ from what was
booked. Finance has already seen the booked rows, so they stay; the difference is booked
as FOCUS `ChargeClass = "Correction"` rows on the same charge period, and the ledger's
sum per key is always the latest computation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from decimal import Decimal

from governance_pipelines.operations.cost_allocation import Allocation
from governance_pipelines.operations.cost_model import ZERO

__all__ = ["CORRECTION", "Key", "booked_totals", "rows_to_book"]

CORRECTION = "Correction"
Key = tuple[str, int | None, str, str]


def booked_totals(booked: Iterable[Allocation]) -> dict[Key, tuple[Decimal, Decimal]]:
    """(amount, quantity) per key over every booked row of a day, corrections included."""
    totals: dict[Key, tuple[Decimal, Decimal]] = {}
    for row in booked:
        amount, quantity = totals.get(row.key, (ZERO, ZERO))
        totals[row.key] = (amount + row.amount, quantity + row.quantity)
    return totals


def rows_to_book(
    booked: Sequence[Allocation], computed: Sequence[Allocation], restatement: int
) -> list[Allocation]:
    """What to append so the ledger equals `computed`: all of it on a first booking, only
    the differences (as corrections numbered `restatement`) after that, nothing when the
    day is unchanged."""
    if not booked:
        return list(computed)
    before = booked_totals(booked)
    after = booked_totals(computed)
    templates = {row.key: row for row in booked} | {row.key: row for row in computed}
    corrections: list[Allocation] = []
    for key in sorted(before.keys() | after.keys(), key=_sort_key):
        old_amount, old_quantity = before.get(key, (ZERO, ZERO))
        new_amount, new_quantity = after.get(key, (ZERO, ZERO))
        if (old_amount, old_quantity) == (new_amount, new_quantity):
            continue
        corrections.append(
            dataclasses.replace(
                templates[key],
                amount=new_amount - old_amount,
                quantity=new_quantity - old_quantity,
                charge_class=CORRECTION,
                restatement=restatement,
            )
        )
    return corrections


def _sort_key(key: Key) -> tuple[str, int, str, str]:
    model, version, consumer, cost_type = key
    return (model, -1 if version is None else version, consumer, cost_type)
