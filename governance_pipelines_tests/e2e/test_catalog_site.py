"""The catalog site as a reader uses it: opened from disk, searched, filtered, clicked through.

No Dagster here: the site is a folder of static files, so the test writes one to tmp_path
and drives headless Debian Chromium over ``file://`` — the hardest host for a static page
(no fetch, no server), so passing here means any static host works too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from governance_pipelines.catalog import CatalogSite, write_catalog_site
from governance_pipelines_tests.catalog.fixtures import (
    CARD_V2,
    CREDIT_COMMIT,
    GENERATED_AT,
    ORGANISATION,
    all_models,
    write_card,
)

from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _browser_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def catalog_browser() -> Iterator[Any]:
    """Chromium as the UI tests launch it, without the demo and `dagster dev` they need."""
    missing = _browser_ready()
    if missing and os.environ.get("GOVERNANCE_E2E_REQUIRED"):
        pytest.fail(f"e2e tests required (GOVERNANCE_E2E_REQUIRED) but {missing}")
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def catalog_page(catalog_browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = catalog_browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        errors.append(f"dialog opened: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert errors == [], errors  # a script error, or the hostile description ran


@pytest.fixture
def site(tmp_path: Path) -> CatalogSite:
    root = tmp_path / "catalog"
    site = write_catalog_site(
        all_models(), root, organisation=ORGANISATION, generated_at=GENERATED_AT
    )
    write_card(root, CARD_V2, "credit_default v2 card")
    return site


def _visible_models(page: Any) -> list[str]:
    return page.locator(".model:not([hidden])").evaluate_all(
        "cards => cards.map(card => card.dataset.name)"
    )


def _search_and_filter(page: Any) -> None:
    from playwright.sync_api import expect

    count = page.locator("#count")
    expect(count).to_have_text("3 of 3 models")
    assert _visible_models(page) == ["churn_predictor", "credit_default", "demand_forecast"]
    # A label value finds the one model that carries it; the count follows.
    page.locator("#search").fill("marketing")
    expect(count).to_have_text("1 of 3 models")
    assert _visible_models(page) == ["churn_predictor"]
    # Hostile text is searchable as text (and never ran: see the dialog guard).
    page.locator("#search").fill("<script>")
    expect(count).to_have_text("1 of 3 models")
    page.locator("#search").fill("")
    expect(count).to_have_text("3 of 3 models")
    # Stage filter: only models with a version in that stage; filters combine.
    page.locator("#filter-stage").select_option("archived")
    expect(count).to_have_text("2 of 3 models")
    assert _visible_models(page) == ["credit_default", "demand_forecast"]
    page.locator("#filter-team").select_option("supply chain")
    expect(count).to_have_text("1 of 3 models")
    page.locator("#filter-risk").select_option("high")
    expect(count).to_have_text("0 of 3 models")
    expect(page.locator("#empty")).to_be_visible()
    page.locator("#filter-team").select_option("")
    page.locator("#filter-risk").select_option("")
    page.locator("#filter-label").select_option("domain=lending")
    expect(count).to_have_text("1 of 3 models")
    assert _visible_models(page) == ["credit_default"]


def test_search_filter_and_click_through_the_catalog(catalog_page: Any, site: CatalogSite) -> None:
    from playwright.sync_api import expect

    page = catalog_page
    page.goto(site.index_html.as_uri())
    _search_and_filter(page)

    # Click through to the model page: the card and commit links point where they should.
    page.locator('.model[data-name="credit_default"] a.model-link').click()
    expect(page).to_have_url(re.compile(r"/models/credit_default\.html$"))
    expect(page.locator("h1")).to_have_text("credit_default")
    scm = page.locator('tr[data-version="2"] a.scm-link')
    expect(scm).to_have_attribute(
        "href", f"https://github.com/acme/credit-models/commit/{CREDIT_COMMIT}"
    )
    card = page.locator('tr[data-version="2"] a.card-link')
    expect(card).to_have_attribute("href", f"../{CARD_V2}")
    card.click()
    expect(page).to_have_url(re.compile(rf"/catalog/{re.escape(CARD_V2)}$"))
    expect(page.locator("h1")).to_have_text("credit_default v2 card")

    # A model without a known commit says so; its hostile description shows as text.
    page.goto(site.model_pages["churn_predictor"].as_uri())
    expect(page.locator(".lede")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("td", has_text="commit unknown")).to_be_visible()
    assert page.locator("a.scm-link").count() == 0
    page.locator("a.back-link").first.click()
    expect(page.locator("#count")).to_have_text("3 of 3 models")
