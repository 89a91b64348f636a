"""A day's split must not depend on the order the store hands the usage rows back in."""

from __future__ import annotations

from decimal import Decimal

from governance_pipelines.operations.cost_allocation import ModelDay, UsageCount, allocate_day
from governance_pipelines.operations.cost_booking import usage_counts
from governance_pipelines.store import GovernanceStore
from governance_pipelines_tests.operations.cost_fixtures import DAY, cost_config


def test_usage_counts_come_in_version_and_team_order(store: GovernanceStore) -> None:
    # Written out of order: `store.usage` orders by day and model only, and PostgreSQL
    # returned a model's rows in varying order once the table had grown.
    rows = [(2, "web"), (1, "web"), (1, "risk"), (1, "ops")]
    store.replace_usage_day(
        "credit",
        DAY,
        [
            {"version": v, "consumer_team": t, "requests": 1, "errors": 0, "latency_ms_sum": None}
            for v, t in rows
        ],
    )
    counts = usage_counts(store, DAY)["credit"]
    assert [(u.version, u.consumer_team) for u in counts] == sorted(rows)


def test_the_order_of_equal_counts_decides_who_gets_a_tied_cent() -> None:
    # Why the order above matters: largest remainder gives tied cents to the earlier part.
    config = cost_config()
    usage = [UsageCount(1, team, 1, Decimal(0)) for team in ("ops", "risk", "web")]

    def split(counts: list[UsageCount]) -> dict[tuple[str, str], Decimal]:
        day = allocate_day(config, DAY, {"credit": ModelDay("credit", counts)})
        return {(a.consumer_team, a.cost_type): a.amount for a in day.allocations}

    assert split(usage) != split(usage[::-1])
