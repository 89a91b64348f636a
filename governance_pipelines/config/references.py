"""Checks across a governance file: what no single key can show on its own.

An owner who is not among `people`, a role nobody declared, a fairness bin for a column that
is not sensitive — each is reported with its key path, alongside the per-key errors.
"""

from __future__ import annotations

from governance_pipelines.config.schema import GovernanceConfig
from governance_pipelines.security.permissions import PERMISSIONS


def cross_reference_problems(config: GovernanceConfig) -> list[str]:
    """Problems no single key shows: references between teams, people, roles and models."""
    problems: list[str] = []
    teams = {t.name for t in config.teams}
    people = {p.name for p in config.people}
    for field, names in (
        ("teams", [t.name for t in config.teams]),
        ("people", [p.name for p in config.people]),
        ("models", [m.name for m in config.models]),
    ):
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{field}: {name!r} is declared twice; names must be unique")
    for role, permissions in config.roles.items():
        for permission in permissions:
            if permission not in PERMISSIONS:
                problems.append(
                    f"roles.{role}: unknown permission {permission!r} "
                    f"(known: {', '.join(PERMISSIONS)})"
                )
    for i, person in enumerate(config.people):
        if person.team not in teams:
            problems.append(
                f"people[{i}].team: unknown team {person.team!r} (declared: {', '.join(sorted(teams))})"
            )
        for role in person.roles:
            if role not in config.roles:
                problems.append(
                    f"people[{i}].roles: unknown role {role!r} (declared: {', '.join(sorted(config.roles))})"
                )
    for i, model in enumerate(config.models):
        if model.team not in teams:
            problems.append(
                f"models[{i}].team: unknown team {model.team!r} (declared: {', '.join(sorted(teams))})"
            )
        if model.owner not in people:
            problems.append(
                f"models[{i}].owner: {model.owner!r} is not among people (declared: {', '.join(sorted(people))})"
            )
        data = model.data
        for j, attribute in enumerate(data.sensitive_attributes):
            if attribute == data.target:
                problems.append(
                    f"models[{i}].data.sensitive_attributes[{j}]: {attribute!r} is the target"
                )
        monitored = {*data.features, "prediction"}
        for key in ("feature_thresholds", "feature_methods"):
            for column in getattr(model.monitoring, key):
                if column not in monitored:
                    problems.append(
                        f"models[{i}].monitoring.{key}.{column}: not a feature (or 'prediction') of the model"
                    )
        for attribute in model.fairness.bins:
            if attribute not in data.sensitive_attributes:
                problems.append(f"models[{i}].fairness.bins.{attribute}: not a sensitive attribute")
        for j, feature in enumerate(model.fairness.excluded_from_drivers):
            if feature not in data.features:
                problems.append(
                    f"models[{i}].fairness.excluded_from_drivers[{j}]: {feature!r} is not a feature"
                )
        if model.training.split == "time" and not data.time_column:
            problems.append(f"models[{i}].training.split: 'time' needs data.time_column to be set")
    problems.extend(_cost_problems(config))
    return problems


def _cost_problems(config: GovernanceConfig) -> list[str]:
    """Costs in another currency cannot be added up; a weight for no model is a typo."""
    problems: list[str] = []
    currency = config.costs.currency
    rate_blocks = [(f"teams[{i}].cost", t.cost) for i, t in enumerate(config.teams)] + [
        (f"models[{i}].cost", m.cost) for i, m in enumerate(config.models)
    ]
    for where, rates in rate_blocks:
        if rates is not None and rates.currency not in (None, currency):
            problems.append(
                f"{where}.currency: {rates.currency} differs from costs.currency {currency}; "
                "convert the rates (one currency per governance file) or change costs.currency"
            )
    models = {m.name for m in config.models}
    for i, shared in enumerate(config.costs.shared):
        for name in shared.weights:
            if name not in models:
                problems.append(
                    f"costs.shared[{i}].weights.{name}: not a declared model "
                    f"(declared: {', '.join(sorted(models))})"
                )
    names = [s.name for s in config.costs.shared]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"costs.shared: {name!r} is declared twice; names must be unique")
    return problems
