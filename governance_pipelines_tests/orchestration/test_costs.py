"""Cost allocation, usage reports and the model catalog, executed for real in Dagster.

A small model is trained (the development job also publishes the catalog), three days of
traffic from two declared consumer teams and one undeclared team are logged, and the
nightly job runs for each day: usage is reported, costs are booked and reconciled. Then
late rows restate a day, a bill is reconciled, and finally the ledger is tampered with.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from governance_pipelines.alerting.policy import alert_for
from governance_pipelines.config import GovernanceConfig, parse_config
from governance_pipelines.examples.traffic import simulate_inference_log
from governance_pipelines.operations.daily_monitoring import positive_scores
from governance_pipelines.operations.focus import FOCUS_COLUMNS
from governance_pipelines.orchestration.alerts import SlackAlertsResource
from governance_pipelines.orchestration.catalog import SAMPLES_REPLAY, model_catalog_key
from governance_pipelines.orchestration.costs import compute_hours, cost_allocation_key
from governance_pipelines.orchestration.definitions_builder import (
    DEVELOPMENT_JOB,
    build_definitions,
)
from governance_pipelines.orchestration.model_context import review_version
from governance_pipelines.orchestration.nightly_audit import NIGHTLY_JOB
from governance_pipelines.orchestration.resources import GovernanceStoreResource
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.immutability import (
    create_append_only_triggers,
    drop_append_only_triggers,
)
from governance_pipelines.store.inference_log import write_inference_log
from governance_pipelines.store.verification import verify_records
from governance_pipelines_tests.orchestration.runs import materialize_only

START = date(2026, 3, 1)
DAYS = [(START + timedelta(days=i)).isoformat() for i in range(3)]

CONFIG = """
teams:
  - {name: risk, cost_center: CC-1}
  - {name: lending, cost_center: CC-2}
  - {name: marketing, cost_center: CC-3, cost: {per_training_hour: 9}}
people: [{name: alice, team: risk, roles: [data_scientist]}]
schedules: {monitoring_start_date: 2026-03-01}
costs:
  currency: EUR
  shared: [{name: platform, monthly: 310, split: usage}]
models:
  - name: applicants
    owner: alice
    team: risk
    description: Test model.
    labels: {risk_tier: low, domain: lending}
    data:
      source:
        kind: python
        callable: governance_pipelines_tests.orchestration.synthetic:applicants
      target: label
      features: [income, debt, region]
      columns:
        region: {dtype: str, isin: [north, south, east], description: Branch region}
    training:
      estimator: {class: sklearn.linear_model.LogisticRegression}
      min_metric: 0.7
      seed: 1
    sla: {availability: 0.9, p95_latency_ms: 1000, max_error_rate: 0.1}
    cost: {per_1k_requests: 2.5, serving_per_hour: 40, per_training_hour: 3.1, monthly_fixed: 93}
"""


@pytest.fixture(scope="module")
def config() -> GovernanceConfig:
    return parse_config(CONFIG)


def _traffic(
    store: GovernanceStore, config: GovernanceConfig, days: int, seed: int
) -> pd.DataFrame:
    model = config.model("applicants")
    review = review_version(store, model, 1)
    return simulate_inference_log(
        "applicants",
        1,
        review.frame[list(model.data.features)],
        lambda rows: positive_scores(review.trained, rows),
        start=START,
        days=days,
        requests_per_day=300,
        consumer_teams=["lending", "marketing", "growth_lab"],
        seed=seed,
    )


@pytest.fixture(scope="module")
def costed(tmp_path_factory: pytest.TempPathFactory, config: GovernanceConfig) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("costs")
    resource = GovernanceStoreResource(home=str(home))
    definitions = build_definitions(config, governance_store=resource, slack=SlackAlertsResource())
    with dg.instance_for_test() as instance:
        development = definitions.resolve_job_def(DEVELOPMENT_JOB).execute_in_process(
            instance=instance
        )
        assert development.success
        store = resource.store
        write_inference_log(store.engine, _traffic(store, config, days=3, seed=5))
        nightly = definitions.resolve_job_def(NIGHTLY_JOB)
        results = {
            day: nightly.execute_in_process(
                partition_key=day, instance=instance, raise_on_error=False
            )
            for day in DAYS
        }
        yield {
            "definitions": definitions,
            "instance": instance,
            "store": store,
            "home": home,
            "development": development,
            "results": results,
        }


def _check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def _publish_catalog(costed: dict) -> dg.ExecuteInProcessResult:
    """The catalog and its sample check, as the development job runs them."""
    job = costed["definitions"].resolve_job_def(DEVELOPMENT_JOB)
    return job.get_subset(asset_selection={model_catalog_key()}).execute_in_process(
        instance=costed["instance"], raise_on_error=False
    )


def _ledger_total(store: GovernanceStore, day: str) -> Decimal:
    start = date.fromisoformat(day)
    return sum(
        (Decimal(r["amount"]) for r in store.cost_rows(start, start + timedelta(days=1))),
        Decimal(0),
    )


def test_every_day_is_booked_and_reconciled(costed: dict) -> None:
    store = costed["store"]
    for day, result in costed["results"].items():
        assert result.success, day
        check = _check(result, "cost_allocation_reconciled")
        assert check.passed, check.metadata["summary"].value
        assert "allocated" in check.metadata["summary"].value
        # Fixed 93/31 = 3.00 and the shared platform 310/31 = 10.00 a day, plus requests.
        rows = store.cost_rows(date.fromisoformat(day), date.fromisoformat(day) + timedelta(days=1))
        by_type: dict[str, Decimal] = {}
        for row in rows:
            by_type[row["cost_type"]] = by_type.get(row["cost_type"], Decimal(0)) + Decimal(
                row["amount"]
            )
        assert by_type["fixed"] == Decimal("3.00")
        assert by_type["shared:platform"] == Decimal("10.00")
        requests = sum(r["requests"] for r in store.usage("applicants") if str(r["day"]) == day)
        assert (
            Decimal(
                sum(Decimal(r["quantity"]) for r in rows if r["cost_type"] == "serving_requests")
            )
            == requests
        )
        assert by_type["serving_requests"] == (Decimal(requests) * Decimal("2.5") / 1000).quantize(
            Decimal("0.01")
        )
        assert {r["currency"] for r in rows} == {"EUR"}
        parquet = costed["home"] / "costs" / "focus" / day / "booking-000.parquet"
        focus = pd.read_parquet(parquet)
        assert tuple(focus.columns) == FOCUS_COLUMNS
        assert sum(focus["BilledCost"]) == _ledger_total(store, day)


def test_chargeback_follows_requests_and_cost_centres(costed: dict) -> None:
    store = costed["store"]
    rows = store.cost_rows(START, START + timedelta(days=1))
    centres = {r["consumer_team"]: r["cost_center"] for r in rows}
    assert centres == {"lending": "CC-2", "marketing": "CC-3", "growth_lab": None}
    usage = {
        r["consumer_team"]: r["requests"] for r in store.usage("applicants") if r["day"] == START
    }
    fixed = {r["consumer_team"]: Decimal(r["amount"]) for r in rows if r["cost_type"] == "fixed"}
    assert sum(fixed.values()) == Decimal("3.00")
    busiest = max(usage, key=lambda team: usage[team])
    assert fixed[busiest] == max(fixed.values())


def test_undeclared_consumers_are_flagged(costed: dict, config: GovernanceConfig) -> None:
    check = _check(costed["results"][DAYS[0]], "usage_report_consumers_known")
    assert not check.passed
    assert "growth_lab" in check.metadata["summary"].value
    materialization = next(
        e
        for e in costed["results"][DAYS[0]].get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["applicants", "usage_report"])
    ).step_materialization_data.materialization
    assert materialization.metadata["unique_consumers"].value == 3
    assert materialization.metadata["unknown_consumers"].value == "growth_lab"
    # The owners are paged about it, as about any failed monitoring check.
    failing = [
        r
        for r in costed["store"].check_results_after(0, limit=10_000)
        if r.check_name == "usage_report_consumers_known" and not r.passed
    ]
    alert = alert_for(config, failing[0])
    assert alert is not None
    assert "growth_lab" in alert.breached


def test_training_time_is_read_from_the_instance(costed: dict, config: GovernanceConfig) -> None:
    today = datetime.now(UTC).date()
    hours = compute_hours(costed["instance"], config, today)["applicants"]
    assert hours.training > 0  # the development job trained today
    assert hours.governance > 0  # and ran the gates and the card
    assert (
        compute_hours(costed["instance"], config, today - timedelta(days=400))[
            "applicants"
        ].training
        == 0
    )


def test_late_rows_restate_the_day_with_corrections(costed: dict, config: GovernanceConfig) -> None:
    store, definitions, instance = costed["store"], costed["definitions"], costed["instance"]
    before = store.cost_rows(START, START + timedelta(days=1))
    late = _traffic(store, config, days=1, seed=99)
    late["request_id"] = [f"late-{i}" for i in range(len(late))]
    write_inference_log(store.engine, late)
    for key in (dg.AssetKey(["applicants", "inference_log"]), cost_allocation_key()):
        result = materialize_only(definitions, key, instance, partition_key=DAYS[0])
        assert result.success
    check = _check(result, "cost_allocation_reconciled")
    assert check.passed, check.metadata["summary"].value
    after = store.cost_rows(START, START + timedelta(days=1))
    assert after[: len(before)] == before  # every booked row is still there, unchanged
    corrections = after[len(before) :]
    assert corrections
    assert all(r["charge_class"] == "Correction" for r in corrections)
    assert {r["restatement"] for r in corrections} == {1}
    requests = sum(r["requests"] for r in store.usage("applicants") if r["day"] == START)
    booked = sum(Decimal(r["quantity"]) for r in after if r["cost_type"] == "serving_requests")
    assert booked == requests  # the ledger now counts the late requests too
    assert (costed["home"] / "costs" / "focus" / DAYS[0] / "booking-001.parquet").is_file()
    # Re-running the unchanged day books nothing more.
    again = materialize_only(definitions, cost_allocation_key(), instance, partition_key=DAYS[0])
    assert _check(again, "cost_allocation_reconciled").passed
    assert len(store.cost_rows(START, START + timedelta(days=1))) == len(after)


def test_the_bill_is_reconciled_to_the_cent(costed: dict, tmp_path: Path) -> None:
    store, instance = costed["store"], costed["instance"]
    billed = _ledger_total(store, DAYS[1])
    bill = tmp_path / "bill.csv"
    bill.write_text(
        "ChargePeriodStart,BilledCost,BillingCurrency,x_ModelName\n"
        f"{DAYS[1]}T00:00:00Z,{billed},EUR,applicants\n"
        f"{DAYS[2]}T00:00:00Z,0.01,EUR,applicants\n"
    )
    with_bill = parse_config(CONFIG.replace("currency: EUR", f"currency: EUR\n  bill: {bill}"))
    resource = GovernanceStoreResource(home=str(costed["home"]))
    definitions = build_definitions(with_bill, governance_store=resource)
    result = materialize_only(definitions, cost_allocation_key(), instance, partition_key=DAYS[2])
    check = _check(result, "cost_allocation_reconciled")
    assert not check.passed
    summary = check.metadata["summary"].value
    assert f"applicants on {DAYS[2]} billed 0.01" in summary
    assert f"on {DAYS[1]}" not in summary  # that day matches the bill exactly


def test_catalog_is_published_with_a_replayable_sample(costed: dict) -> None:
    result = costed["development"]
    assert _check(result, SAMPLES_REPLAY).passed
    index = json.loads((costed["home"] / "catalog" / "catalog.json").read_text())
    (entry,) = index["models"]
    assert entry["name"] == "applicants"
    assert entry["risk_tier"] == "low"
    assert set(entry["sample_request"]) == {"income", "debt", "region"}
    assert 0 <= entry["sample_response"]["prediction"] <= 1
    assert entry["versions"][0]["gate_status"] == "passed"
    assert entry["versions"][0]["card_href"] == "../model_cards/applicants/v1/model_card.html"
    region = next(f for f in entry["inputs"] if f["name"] == "region")
    assert region["rules"] == {"isin": ["north", "south", "east"]}
    assert (costed["home"] / "catalog" / "models" / "applicants" / "catalog-info.yaml").is_file()


def test_catalog_shows_usage_cost_and_alerts_after_traffic(costed: dict) -> None:
    result = _publish_catalog(costed)
    assert result.success
    assert _check(result, SAMPLES_REPLAY).passed
    (entry,) = json.loads((costed["home"] / "catalog" / "catalog.json").read_text())["models"]
    assert entry["cost"]["currency"] == "EUR"
    assert Decimal(entry["cost"]["total"]) > 0
    assert any(a["check"] == "usage_report_consumers_known" for a in entry["open_alerts"])


def test_a_replaced_artifact_fails_the_sample_replay(costed: dict) -> None:
    store = costed["store"]
    artifact = Path(store.get_model_version("applicants", 1).artifact_path)
    original = artifact.read_bytes()
    try:
        artifact.write_bytes(original + b"tampered")
        check = _check(_publish_catalog(costed), SAMPLES_REPLAY)
        assert not check.passed
        assert "applicants v1" in check.metadata["summary"].value
    finally:
        artifact.write_bytes(original)


def test_a_tampered_ledger_fails_the_blocking_check(costed: dict) -> None:
    """Last in the module: it edits a booked amount behind the store's back."""
    store = costed["store"]
    with store.engine.begin() as connection:
        drop_append_only_triggers(connection, ("cost_allocations",))
        connection.execute(
            sa.text(
                "UPDATE cost_allocations SET amount = '999.99' WHERE id = (SELECT MIN(id) FROM cost_allocations)"
            )
        )
        create_append_only_triggers(connection, ("cost_allocations",))
    result = materialize_only(
        costed["definitions"], cost_allocation_key(), costed["instance"], partition_key=DAYS[0]
    )
    check = _check(result, "cost_allocation_reconciled")
    assert not check.passed
    assert "ledger holds" in check.metadata["summary"].value
    assert "content changed" in check.metadata["summary"].value  # not papered over
    with store.engine.connect() as connection:
        problems = verify_records(connection).booking_problems
    assert any("costs of" in p and "content changed" in p for p in problems)
