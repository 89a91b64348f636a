"""The `governance` command: lean start-up, the demo end to end, and clean errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml
from click.testing import CliRunner

from governance_pipelines.cli import main
from governance_pipelines.config import PACKAGED_DEMO_CONFIG
from governance_pipelines.store import GovernanceStore


def test_help_lists_commands_without_importing_dagster() -> None:
    code = (
        "import sys\n"
        "from governance_pipelines.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'dagster' not in sys.modules, 'dagster imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for command in ("audit", "config", "db", "demo", "drift"):
        assert f"  {command} " in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["audit"],
        ["audit", "verify"],
        ["audit", "log"],
        ["db", "upgrade"],
        ["demo"],
        ["config", "validate"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_unknown_command_fails() -> None:
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_demo_runs_end_to_end_and_is_repeatable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--home", str(home), "--days", "3"])
    assert first.exit_code == 0, first.output
    assert f"governance demo: {PACKAGED_DEMO_CONFIG}" in first.output
    assert "credit_default: snapshot" in first.output
    assert "(20000 rows); 7/7 checks passed" in first.output
    assert "version v1: stage production; approved by bob, carol" in first.output
    card = home.resolve() / "model_cards" / "credit_default" / "v1" / "model_card.html"
    assert f"model card:    {card}" in first.output
    assert "bob" in card.read_text()  # re-rendered after sign-off: the approvals are on the card
    assert f"governance store:  sqlite:///{home.resolve()}/governance.db" in first.output
    assert "Production monitoring over the last 3 days" in first.output
    assert "credit_default: 4500 requests logged" in first.output
    assert "Slack is not configured (set SLACK_BOT_TOKEN)" in first.output
    # A challenger served as a canary by a real gateway: every answered request logged.
    assert "1400 requests over HTTP (v1: " in first.output
    assert "1400 in the inference log; 1400 labels posted back" in first.output
    assert "A/B test v2 vs v1: label " in first.output

    second = runner.invoke(main, ["demo", "--home", str(home), "--days", "3"])
    assert second.exit_code == 0, second.output
    store = GovernanceStore.open(None, home)
    try:
        assert (
            len(store.recent_events(action="snapshot.registered")) == 2
        )  # unchanged data, no new snapshot
        # Two models and the credit challenger; nothing new the second time.
        assert len(store.recent_events(action="model_version.registered")) == 3
        assert len(store.recent_events(action="model_version.promoted")) == 2  # promoted once
        assert (
            "credit_default: 4500 requests logged" in second.output
        )  # traffic not simulated twice
        assert (
            len(store.recent_events(action="audit.nightly_completed", limit=100)) == 6
        )  # 3 days, twice
        assert store.verify_audit_chain().ok
    finally:
        store.dispose()
    assert (home / "dagster" / "dagster.yaml").exists()
    workspace = yaml.safe_load((home / "workspace.yaml").read_text())
    (location,) = workspace["load_from"]
    assert location["python_module"] == {
        "module_name": "governance_pipelines.definitions",
        "location_name": "governance_pipelines",
        "working_directory": str(home.resolve()),
    }
    assert f"dagster dev -w {home.resolve() / 'workspace.yaml'}" in first.output
    # Monitoring starts on the demo's first day: no partition before its data.
    copy = yaml.safe_load((home / "governance.yaml").read_text())
    first_day = date.today() - timedelta(days=3)
    assert copy["schedules"]["monitoring_start_date"] == first_day.isoformat()
    assert f"GOVERNANCE_CONFIG={home.resolve() / 'governance.yaml'}" in first.output
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        nightly = instance.get_runs(dg.RunsFilter(job_name="nightly_audit_job"))
    assert len(nightly) == 6
    assert all(
        run.tags[".dagster/repository"] == "__repository__@governance_pipelines" for run in nightly
    )


def test_demo_runs_are_filed_under_the_code_location_as_dagster_files_them() -> None:
    """Pins the Dagster internals the demo's run tag mirrors: a launched run of the code
    location `governance_pipelines` carries exactly this tag (its Runs tab filters on it)."""
    from dagster._core.definitions.repository_definition.valid_definitions import (
        SINGLETON_REPOSITORY_NAME,
    )
    from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

    from governance_pipelines.orchestration.demo_setup import DEMO_RUN_TAGS, LOCATION_NAME

    assert {REPOSITORY_LABEL_TAG: f"{SINGLETON_REPOSITORY_NAME}@{LOCATION_NAME}"} == DEMO_RUN_TAGS
    workspace = yaml.safe_load((Path(__file__).parents[2] / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["location_name"] == LOCATION_NAME


def test_demo_uses_a_local_governance_yaml_and_reports_its_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    raw = yaml.safe_load(PACKAGED_DEMO_CONFIG.read_text())
    raw["models"][0]["training"]["min_metric"] = "high"
    Path("governance.yaml").write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 1
    assert (
        "governance.yaml: models[0].training.min_metric: expected a number, got 'high'"
        in result.output
    )


def test_demo_exits_non_zero_when_a_gate_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    raw = yaml.safe_load(PACKAGED_DEMO_CONFIG.read_text())
    raw["models"] = [raw["models"][1]]
    raw["models"][0]["data"]["columns"]["mean_radius"]["le"] = 10.0  # real radii reach 28
    Path("governance.yaml").write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(main, ["demo", "--home", str(tmp_path / "h"), "--days", "0"])
    assert result.exit_code == 1
    assert "FAILED training_snapshot_schema_valid" in result.output


def test_reading_commands_refuse_a_store_that_does_not_exist(tmp_path) -> None:
    """A mistyped --home used to create an empty store and answer about nothing (exit 0)."""
    nowhere = str(tmp_path / "nowhere")
    for command in (["history", "credit_default"], ["audit", "log"], ["alerts"]):
        result = CliRunner().invoke(main, [*command, "--home", nowhere])
        assert result.exit_code == 1, (command, result.output)
        assert "there is no governance store" in result.output
    assert not (tmp_path / "nowhere" / "governance.db").exists()


def test_history_of_an_unknown_model_is_an_error(tmp_path) -> None:
    from governance_pipelines.store import GovernanceStore

    GovernanceStore.open(None, tmp_path).dispose()
    result = CliRunner().invoke(main, ["history", "nope", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "model 'nope' has no registered versions in this store" in result.output


@pytest.mark.parametrize("command", [["db", "current"], ["db", "upgrade"], ["audit", "verify"]])
def test_an_unreachable_server_is_one_line_not_a_traceback(command: list[str]) -> None:
    url = "postgresql+psycopg2://u:secret@127.0.0.1:1/x"
    result = CliRunner().invoke(main, [*command, "--database-url", url])
    assert result.exit_code == 1
    assert "cannot connect to the governance store" in result.output
    assert "Traceback" not in result.output
    assert "secret" not in result.output


def test_the_demo_on_a_users_file_simulates_only_the_days_it_monitors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = yaml.safe_load(PACKAGED_DEMO_CONFIG.read_text())
    raw["schedules"]["monitoring_start_date"] = (date.today() - timedelta(days=2)).isoformat()
    (tmp_path / "governance.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo", "--home", str(tmp_path / "home"), "--days", "5"])
    assert result.exit_code == 0, result.output
    assert "Production monitoring over the last 2 days" in result.output
    assert not (tmp_path / "home" / "governance.yaml").exists()  # the user's file is theirs
