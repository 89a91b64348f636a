"""The Dagster UI as the front door, clicked through in headless Chromium after a short demo.

Each test answers one question a new user brings to the UI: does the graph open, can I
materialize from here, can I run last night's audit again, which day drifted, what does the
card say (approvals included), and is the automation on.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from governance_pipelines import check_names

from .conftest import DEMO_DAYS, DemoUI

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_MS = 240_000


def _wait_for_run_success(page: Any) -> None:
    """On a run page: wait until the run has finished, and fail with its status if not."""
    from playwright.sync_api import expect

    status = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$")).first
    expect(status).to_be_visible(timeout=RUN_TIMEOUT_MS)
    assert status.inner_text() == "Success", f"run ended {status.inner_text()}: {page.url}"


def test_the_asset_graph_opens_with_each_model_in_its_group(page: Any, demo_ui: DemoUI) -> None:
    from playwright.sync_api import expect

    page.goto(f"{demo_ui.base_url}/locations/governance_pipelines/asset-groups/credit_default")
    for asset in ("training_snapshot", "model_version", "model_card", "drift_report"):
        expect(page.get_by_text(asset, exact=True).first).to_be_visible()


def test_an_asset_materialized_from_the_ui_succeeds(page: Any, demo_ui: DemoUI) -> None:
    from playwright.sync_api import expect

    page.goto(f"{demo_ui.base_url}/assets/credit_default/training_data_profile")
    page.locator("button", has_text="Materialize").first.click()
    launched = page.get_by_text(re.compile(r"Launched run [0-9a-f]{8}"))
    expect(launched).to_be_visible()
    short_id = re.search(r"[0-9a-f]{8}", launched.inner_text())
    assert short_id is not None
    # The toast goes away on its own; the Runs page is where a user finds the run again.
    page.goto(f"{demo_ui.base_url}/runs")
    page.get_by_role("link", name=short_id.group(0)).first.click()
    expect(page).to_have_url(re.compile(rf"/runs/{short_id.group(0)}"))
    _wait_for_run_success(page)


def test_a_nightly_audit_partition_launched_from_the_ui_succeeds(
    page: Any, demo_ui: DemoUI
) -> None:
    from playwright.sync_api import expect

    day = max(demo_ui.daily_verdicts("credit_default", check_names.NO_DATASET_DRIFT))
    page.goto(
        f"{demo_ui.base_url}/locations/governance_pipelines/jobs/nightly_audit_job/playground"
    )
    partition = page.get_by_placeholder("Partition")
    partition.click()
    partition.fill(day)
    page.get_by_text(day, exact=True).last.click()
    launch = page.get_by_role("button", name=re.compile("Launch Run"))
    expect(launch).to_be_enabled()
    launch.click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]+"), timeout=60_000)
    _wait_for_run_success(page)


def test_the_demo_runs_are_in_the_job_runs_tab(page: Any, demo_ui: DemoUI) -> None:
    from playwright.sync_api import expect

    days = demo_ui.daily_verdicts("credit_default", check_names.NO_DATASET_DRIFT)
    page.goto(f"{demo_ui.base_url}/locations/governance_pipelines/jobs/nightly_audit_job/runs")
    for day in days:
        expect(page.get_by_text(f"partition: {day}").first).to_be_visible()


def test_every_monitoring_partition_has_its_data(page: Any, demo_ui: DemoUI) -> None:
    """Partitions start where the demo's monitoring starts: none is missing."""
    from playwright.sync_api import expect

    page.goto(
        f"{demo_ui.base_url}/locations/governance_pipelines/jobs/nightly_audit_job/partitions"
    )
    # The counts render as 0 until the partition statuses have loaded: wait for the real ones.
    body = page.locator("body")
    # (Text content runs the figures into the labels: "…3Total partitions0Missing …".)
    expect(body).to_contain_text(re.compile(rf"(?<!\d){DEMO_DAYS}\s*Total partitions"))
    expect(body).to_contain_text(re.compile(r"(?<!\d)0\s*Missing partitions"))


def test_the_drift_check_says_which_day_drifted(page: Any, demo_ui: DemoUI) -> None:
    from playwright.sync_api import expect

    verdicts = demo_ui.daily_verdicts("credit_default", check_names.NO_DATASET_DRIFT)
    drifted = sorted(day for day, passed in verdicts.items() if not passed)
    normal = sorted(day for day, passed in verdicts.items() if passed)
    assert drifted, f"the demo should drift on some day: {verdicts}"
    assert normal, f"the demo should have a normal day: {verdicts}"

    page.goto(f"{demo_ui.base_url}/assets/credit_default/drift_report?view=checks")
    page.get_by_text("Execution history").click()
    for day, expected in ((drifted[0], "Failed"), (normal[0], "Passed")):
        row = page.get_by_role("row").filter(has_text=day).first
        expect(row).to_be_visible()
        expect(row).to_contain_text(expected)


def test_the_model_card_is_readable_on_its_asset_page_with_its_approvals(
    page: Any, demo_ui: DemoUI
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{demo_ui.base_url}/assets/credit_default/model_card")
    page.get_by_role("row").filter(has_text="card").get_by_text("[Show Markdown]").click()
    card = page.get_by_role("dialog")
    expect(card).to_contain_text("Model card: credit_default v1")
    expect(card).to_contain_text("Business context")
    expect(card).to_contain_text("Approvals")
    expect(card).to_contain_text("bob")
    expect(card).to_contain_text("carol")
    expect(card).not_to_contain_text("No approval decisions recorded")


def test_the_schedule_and_the_sensors_are_running(page: Any, demo_ui: DemoUI) -> None:
    from playwright.sync_api import expect

    page.goto(f"{demo_ui.base_url}/automation")
    for name in (
        "nightly_audit_schedule",
        "governance_alerts_sensor",
        "run_failure_alert_sensor",
        "model_card_refresh_sensor",
    ):
        link = page.get_by_role("link", name=re.compile(rf"\b{name}\b"))
        expect(link).to_be_visible()
        toggle = link.locator("xpath=following::input[@type='checkbox'][1]")
        expect(toggle).to_be_checked()


def test_a_sensor_tick_says_what_it_did(page: Any, demo_ui: DemoUI) -> None:
    from playwright.sync_api import expect

    page.goto(f"{demo_ui.base_url}/locations/governance_pipelines/sensors/governance_alerts_sensor")
    page.get_by_text("View logs").first.click(timeout=120_000)
    expect(page.get_by_role("dialog")).to_contain_text(re.compile(r"\d+ new check results"))


def test_the_demo_catalog_opens_from_disk_and_links_the_card(page: Any, demo_ui: DemoUI) -> None:
    """The catalog the demo published, with the demo's real records (not a fixture)."""
    from playwright.sync_api import expect

    index = demo_ui.home / "catalog" / "index.html"
    page.goto(index.as_uri())
    expect(page.locator("#count")).to_contain_text("2 of 2")
    page.locator("#search").fill("lending")
    expect(page.locator('.model[data-name="credit_default"]')).to_be_visible()
    expect(page.locator('.model[data-name="breast_cancer"]')).to_be_hidden()
    page.locator('.model[data-name="credit_default"] a.model-link').click()
    expect(page.locator("body")).to_contain_text("Sample request")
    expect(page.locator("body")).to_contain_text("annual_income")
    page.locator("a.card-link").first.click()
    expect(page.locator("body")).to_contain_text("credit_default")
    assert page.url.endswith("/model_cards/credit_default/v1/model_card.html")


def test_the_cost_allocation_shows_the_days_showback(page: Any, demo_ui: DemoUI) -> None:
    from playwright.sync_api import expect

    page.goto(f"{demo_ui.base_url}/assets/governance/cost_allocation?view=checks")
    expect(page.locator("body")).to_contain_text(check_names.COSTS_RECONCILED)
    page.get_by_text("Execution history").click()
    expect(page.get_by_role("row").filter(has_text="Passed").first).to_be_visible()
