"""Monthly showback and chargeback from the cost ledger.

Showback tells each owning team what its models cost, by kind (governance, training,
serving, storage, fixed, shared); chargeback tells each consumer team what it owes, by the
cost centre finance books it to. Both read the same ledger rows (corrections included), so
their grand totals are always equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from governance_pipelines.operations.cost_allocation import Allocation
from governance_pipelines.operations.cost_model import ZERO, round_money

__all__ = ["COST_KINDS", "CostLine", "ReportBy", "cost_kind", "cost_report"]

ReportBy = Literal["team", "model", "consumer"]
COST_KINDS = ("governance", "training", "serving", "storage", "fixed", "shared")


def cost_kind(cost_type: str) -> str:
    """The showback column of a ledger cost type (`serving_requests` is serving, …)."""
    if cost_type.startswith("shared:"):
        return "shared"
    if cost_type.startswith("serving"):
        return "serving"
    return cost_type


@dataclass(frozen=True)
class CostLine:
    """One line of a report: who, what it cost by kind, and its total."""

    key: str
    cost_center: str | None
    by_kind: dict[str, Decimal]
    requests: int
    currency: str

    @property
    def total(self) -> Decimal:
        return sum(self.by_kind.values(), ZERO)

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "cost_center": self.cost_center,
            **{
                kind: str(round_money(self.by_kind.get(kind, ZERO), self.currency))
                for kind in COST_KINDS
            },
            "total": str(round_money(self.total, self.currency)),
            "requests": self.requests,
            "currency": self.currency,
        }


def _report_key(row: Allocation, by: ReportBy) -> tuple[str, str | None]:
    if by == "team":
        return row.team, None
    if by == "model":
        return row.model_name, None
    return row.consumer_team, row.cost_center


def cost_report(rows: Sequence[Allocation], by: ReportBy, currency: str) -> list[CostLine]:
    """Totals per team (showback), model, or consumer team (chargeback), largest first."""
    kinds: dict[tuple[str, str | None], dict[str, Decimal]] = {}
    requests: dict[tuple[str, str | None], Decimal] = {}
    for row in rows:
        key = _report_key(row, by)
        line = kinds.setdefault(key, {kind: ZERO for kind in COST_KINDS})
        kind = cost_kind(row.cost_type)
        line[kind] = line.get(kind, ZERO) + row.amount
        if row.cost_type == "serving_requests":
            requests[key] = requests.get(key, ZERO) + row.quantity
    lines = [
        CostLine(key, centre, by_kind, int(requests.get((key, centre), ZERO)), currency)
        for (key, centre), by_kind in kinds.items()
    ]
    return sorted(lines, key=lambda line: (-line.total, line.key))
