"""Money and rates: what a model costs per driver, and how amounts are rounded and split.

Why Decimal everywhere: a float cannot hold 0.10, so a month of float sums drifts off the
bill by cents that nobody can explain to finance. Every amount here is a `Decimal`; rates
come from `governance.yaml` as the text they were written as.

The rounding rule (documented in the README and relied on by the reconciliation check):

1. every incurred charge line (one model, one day, one cost type) is rounded once, half to
   even, to the currency's minor unit;
2. a line is split among its parts (consumer teams, days of a month, models sharing a
   platform cost) by the **largest remainder** method: each part gets the floor of its exact
   share in minor units, and the cents left over go one by one to the largest fractional
   remainders (ties to the earlier part in the given order). The parts therefore always add
   up to the line exactly: allocation never loses or creates a cent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from governance_pipelines.config import CostRates, GovernanceConfig, ModelConfig

__all__ = [
    "ZERO",
    "EffectiveRates",
    "effective_rates",
    "largest_remainder",
    "minor_unit",
    "round_money",
]

ZERO = Decimal(0)
# ISO 4217 currencies whose minor unit is not the cent (the common ones).
_MINOR_DIGITS = {
    "BIF": 0, "CLP": 0, "ISK": 0, "JPY": 0, "KRW": 0, "PYG": 0, "UGX": 0, "VND": 0, "XAF": 0,
    "XOF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency: 0.01 for USD and EUR, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-_MINOR_DIGITS.get(currency, 2))


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN)


def largest_remainder(
    total: Decimal, weights: Mapping[str, Decimal | int], currency: str
) -> dict[str, Decimal]:
    """Split a rounded `total` in proportion to `weights`, to the minor unit, exactly.

    Parts with zero weight get zero. A negative total (a correction) is split like its
    absolute value, then negated. Raises ValueError when no weight is positive, since there
    is then nobody to give the amount to (callers decide who bears it instead).
    """
    unit = minor_unit(currency)
    units = (total / unit).to_integral_value()
    if units * unit != total:
        raise ValueError(f"{total} is not rounded to the minor unit of {currency} ({unit})")
    if any(Decimal(w) < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    positive = {key: Decimal(w) for key, w in weights.items() if Decimal(w) > 0}
    if not positive:
        raise ValueError("cannot split an amount when no part has a positive weight")
    sign = -1 if units < 0 else 1
    remaining = abs(int(units))
    weight_sum = sum(positive.values(), ZERO)
    floors: dict[str, int] = {}
    remainders: list[tuple[Decimal, int, str]] = []
    for order, (key, weight) in enumerate(positive.items()):
        exact = Decimal(abs(int(units))) * weight / weight_sum
        floor = int(exact.to_integral_value(rounding=ROUND_FLOOR))
        floors[key] = floor
        remainders.append((exact - floor, -order, key))
    remaining -= sum(floors.values())
    for _, _, key in sorted(remainders, reverse=True)[:remaining]:
        floors[key] += 1
    # The sign goes on the integer: a Decimal zero times -1 is "-0.00" in the ledger's text.
    return {key: Decimal(sign * floors.get(key, 0)) * unit for key in weights}


@dataclass(frozen=True)
class EffectiveRates:
    """A model's rates after team defaults are applied; every driver has a value."""

    currency: str
    per_1k_requests: Decimal = ZERO
    serving_per_hour: Decimal = ZERO
    per_training_hour: Decimal = ZERO
    storage_per_gb_month: Decimal = ZERO
    monthly_fixed: Decimal = ZERO


_RATE_FIELDS = (
    "per_1k_requests",
    "serving_per_hour",
    "per_training_hour",
    "storage_per_gb_month",
    "monthly_fixed",
)


def effective_rates(config: GovernanceConfig, model: ModelConfig) -> EffectiveRates:
    """The model's own rate where it declares one, else its team's default, else zero."""
    team_rates = config.team(model.team).cost or CostRates()
    values: dict[str, Decimal] = {}
    for name in _RATE_FIELDS:
        own, default = getattr(model.cost, name), getattr(team_rates, name)
        values[name] = own if own is not None else default if default is not None else ZERO
    return EffectiveRates(currency=config.costs.currency, **values)
