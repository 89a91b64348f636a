"""One day's costs: what each model incurred, and who it is charged to.

Showback answers "what does each team's model cost"; chargeback answers "who pays": each
model's cost is allocated to the consumer teams in proportion to their requests that day,
and shared platform costs are split across the models by their declared rule first. A model
nobody called that day is charged to its owning team, so every incurred cent lands on
somebody (see `cost_model` for the rounding rule that makes the split exact).

The output rows use the FinOps FOCUS vocabulary (see `focus.py`), so the ledger loads into
the tools finance already uses.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from governance_pipelines.config import GovernanceConfig, ModelConfig, SharedCost
from governance_pipelines.operations.cost_model import (
    ZERO,
    EffectiveRates,
    effective_rates,
    largest_remainder,
    round_money,
)

__all__ = [
    "Allocation",
    "Charge",
    "DayAllocation",
    "ModelDay",
    "UsageCount",
    "allocate_day",
    "day_share_of_month",
]

BYTES_PER_GB = Decimal(10) ** 9  # billing GB (10^9 bytes), as cloud storage bills it
_MS_PER_HOUR = Decimal(3_600_000)
_QUANTITY = Decimal("0.000001")


@dataclass(frozen=True)
class UsageCount:
    """A model version's requests from one consumer team on the day (from `usage_records`)."""

    version: int
    consumer_team: str
    requests: int
    latency_ms_sum: Decimal = ZERO


@dataclass(frozen=True)
class ModelDay:
    """What one model consumed on one day: the cost drivers, measured elsewhere."""

    model_name: str
    usage: Sequence[UsageCount] = ()
    training_hours: Decimal = ZERO
    governance_hours: Decimal = ZERO
    storage_bytes: int = 0

    @property
    def requests(self) -> int:
        return sum(u.requests for u in self.usage)


@dataclass(frozen=True)
class Charge:
    """An incurred line: one model, one day, one cost type, rounded once."""

    model_name: str
    team: str
    cost_type: str
    quantity: Decimal
    unit: str
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    """A charge's part borne by one consumer team (and model version when known)."""

    day: date
    model_name: str
    model_version: int | None
    team: str
    consumer_team: str
    cost_center: str | None
    cost_type: str
    charge_category: str
    quantity: Decimal
    unit: str
    amount: Decimal
    currency: str
    # "Correction" (FOCUS ChargeClass) on a row that restates an earlier allocation.
    charge_class: str | None = None
    restatement: int = 0

    @property
    def key(self) -> tuple[str, int | None, str, str]:
        return (self.model_name, self.model_version, self.consumer_team, self.cost_type)


@dataclass(frozen=True)
class DayAllocation:
    day: date
    currency: str
    charges: list[Charge] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)

    def incurred_by_model(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for charge in self.charges:
            totals[charge.model_name] = totals.get(charge.model_name, ZERO) + charge.amount
        return totals

    @property
    def incurred(self) -> Decimal:
        return sum((c.amount for c in self.charges), ZERO)

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)


def day_share_of_month(monthly: Decimal, day: date, currency: str) -> Decimal:
    """The day's part of a monthly amount: the days of a month add up to it exactly."""
    days = calendar.monthrange(day.year, day.month)[1]
    shares = largest_remainder(
        round_money(monthly, currency), {str(d): 1 for d in range(1, days + 1)}, currency
    )
    return shares[str(day.day)]


def allocate_day(
    config: GovernanceConfig, day: date, measured: Mapping[str, ModelDay]
) -> DayAllocation:
    """Every declared model's charges for `day` and their allocation to consumer teams.

    `measured` holds each model's drivers; a model missing from it consumed nothing
    metered that day (its fixed and shared costs still apply).
    """
    currency = config.costs.currency
    days = {m.name: measured.get(m.name, ModelDay(m.name)) for m in config.models}
    charges: list[Charge] = []
    for model in config.models:
        charges.extend(_model_charges(model, effective_rates(config, model), days[model.name], day))
    for shared in config.costs.shared:
        charges.extend(_shared_charges(config, shared, days, day))
    charges = [c for c in charges if c.amount != 0 or c.quantity != 0]
    allocations: list[Allocation] = []
    for charge in charges:
        allocations.extend(_allocate(config, charge, days[charge.model_name], day))
    return DayAllocation(day, currency, charges, allocations)


def _model_charges(
    model: ModelConfig, rates: EffectiveRates, used: ModelDay, day: date
) -> list[Charge]:
    currency = rates.currency
    days_in_month = Decimal(calendar.monthrange(day.year, day.month)[1])
    requests = Decimal(used.requests)
    serving_hours = sum((u.latency_ms_sum for u in used.usage), ZERO) / _MS_PER_HOUR
    gb = Decimal(used.storage_bytes) / BYTES_PER_GB
    drivers = (
        ("serving_requests", requests, "Requests", requests * rates.per_1k_requests / 1000),
        ("serving_compute", serving_hours, "Hours", serving_hours * rates.serving_per_hour),
        ("training", used.training_hours, "Hours", used.training_hours * rates.per_training_hour),
        (
            "governance",
            used.governance_hours,
            "Hours",
            used.governance_hours * rates.per_training_hour,
        ),
        ("storage", gb, "GB-Month", gb * rates.storage_per_gb_month / days_in_month),
    )
    charges = [
        Charge(model.name, model.team, kind, _quantity(q), unit, round_money(amount, currency))
        for kind, q, unit, amount in drivers
    ]
    if rates.monthly_fixed:
        fixed = day_share_of_month(rates.monthly_fixed, day, currency)
        charges.append(Charge(model.name, model.team, "fixed", Decimal(1), "Days", fixed))
    return charges


def _shared_charges(
    config: GovernanceConfig, shared: SharedCost, days: Mapping[str, ModelDay], day: date
) -> list[Charge]:
    currency = config.costs.currency
    amount = day_share_of_month(shared.monthly, day, currency)
    weights: Mapping[str, Decimal | int]
    if shared.split == "weights":
        weights = {m.name: shared.weights.get(m.name, ZERO) for m in config.models}
    elif shared.split == "usage" and any(d.requests for d in days.values()):
        weights = {m.name: days[m.name].requests for m in config.models}
    else:  # even, or usage on a day without any traffic
        weights = {m.name: 1 for m in config.models}
    parts = largest_remainder(amount, weights, currency)
    return [
        Charge(
            model.name, model.team, f"shared:{shared.name}", Decimal(1), "Days", parts[model.name]
        )
        for model in config.models
        if parts[model.name]
    ]


def _allocate(
    config: GovernanceConfig, charge: Charge, used: ModelDay, day: date
) -> list[Allocation]:
    """Split a charge by requests per (version, consumer); nobody called: the owner pays."""
    weights: dict[tuple[int | None, str], int] = {}
    for u in used.usage:  # several counts of one (version, consumer) add up
        if u.requests > 0:
            key = (u.version, u.consumer_team)
            weights[key] = weights.get(key, 0) + u.requests
    if not weights:
        weights = {(None, charge.team): 1}
    keys = list(weights)
    labels = {f"{i}": key for i, key in enumerate(keys)}
    amounts = largest_remainder(
        charge.amount, {f"{i}": weights[k] for i, k in enumerate(keys)}, config.costs.currency
    )
    total_weight = Decimal(sum(weights.values()))
    category = "Purchase" if charge.cost_type == "fixed" else "Usage"
    centres = {t.name: t.cost_center for t in config.teams}
    return [
        Allocation(
            day=day,
            model_name=charge.model_name,
            model_version=labels[i][0],
            team=charge.team,
            consumer_team=labels[i][1],
            cost_center=centres.get(labels[i][1]),
            cost_type=charge.cost_type,
            charge_category=category,
            quantity=_quantity(charge.quantity * Decimal(weights[labels[i]]) / total_weight),
            unit=charge.unit,
            amount=amounts[i],
            currency=config.costs.currency,
        )
        for i in labels
    ]


def _quantity(value: Decimal) -> Decimal:
    return value.quantize(_QUANTITY)
