"""The e2e fixtures: a short demo, `dagster dev` on it, and headless Debian Chromium.

Everything a user does in the README is done for real: `governance demo` from the command
line, `dagster dev -w workspace.yaml` (webserver + daemon) on its instance, and a browser
clicking through the UI. A failed test leaves a screenshot under `e2e-artifacts/`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from governance_pipelines.store import GovernanceStore
from governance_pipelines_tests.dagster_dev_server import (
    REPO_ROOT,
    dagster_dev,
    group_is_gone,
    wait_until_loaded,
)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "e2e-artifacts"
DEMO_DAYS = 3
# Closed network here: no background fetches, no sandbox (root in a container).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass(frozen=True)
class DemoUI:
    base_url: str
    home: Path

    def daily_verdicts(self, model: str, check: str) -> dict[str, bool]:
        """What the governance store (the system of record) holds for each day."""
        store = GovernanceStore.open(None, self.home)
        try:
            results = store.check_results_after(0, limit=1_000_000)
        finally:
            store.dispose()
        return {
            str(r.evidence["day"]): r.passed
            for r in results
            if r.model_name == model and r.check_name == check
        }


def _browser_ready() -> str | None:
    """Why the e2e tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def demo_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoUI]:
    missing = _browser_ready()
    if missing and os.environ.get("GOVERNANCE_E2E_REQUIRED"):
        pytest.fail(f"e2e tests required (GOVERNANCE_E2E_REQUIRED) but {missing}")
    if missing:
        pytest.skip(missing)
    root = tmp_path_factory.mktemp("e2e")
    home = root / "governance_home"
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOVERNANCE_")}
    env.pop("SLACK_BOT_TOKEN", None)
    env["GOVERNANCE_HOME"] = str(home)
    governance = Path(sys.executable).parent / "governance"
    demo = subprocess.run(
        [str(governance), "demo", "--home", str(home), "--days", str(DEMO_DAYS)],
        cwd=root,
        env={**env, "DAGSTER_HOME": str(home / "dagster")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    with dagster_dev(root, env, dagster_home=home / "dagster") as (port, log_path, group):
        wait_until_loaded(port, log_path)
        yield DemoUI(f"http://127.0.0.1:{port}", home)
    assert group_is_gone(group), "dagster dev left processes behind"


@pytest.fixture(scope="module")
def browser(demo_ui: DemoUI) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # A loaded CI machine renders slower than a laptop: assertions wait up to 30 s, not 5.
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, demo_ui: DemoUI, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    # Dagster's "Join the community" dialog may open over any page; dismiss it when it does.
    page.add_locator_handler(
        page.get_by_text("Join the Dagster community"),
        lambda: page.get_by_role("button", name="Skip").click(),
    )
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
