"""`governance models | approve | promote | history`: clean refusals and the history answer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from governance_pipelines.check_names import FAIR, REQUIRED_VERSION_CHECKS
from governance_pipelines.cli import main
from governance_pipelines.security import approvals as workflow
from governance_pipelines.store import GovernanceStore
from governance_pipelines_tests.security.test_approvals import CHECK, CONFIG_YAML
from governance_pipelines_tests.security.test_approvals import add_version as add_any_version


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store under --home and the test governance.yaml as GOVERNANCE_CONFIG."""
    config = tmp_path / "governance.yaml"
    config.write_text(CONFIG_YAML, encoding="utf-8")
    monkeypatch.setenv("GOVERNANCE_CONFIG", str(config))
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[GovernanceStore]:
    opened = GovernanceStore.open(None, home)
    yield opened
    opened.dispose()


def run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home)])


def add_version(store: GovernanceStore, model: str = "churn", **options: Any) -> int:
    """A version with only its metric gate recorded: these tests record the others."""
    return add_any_version(store, model, all_gates=False, **options)


def pass_required_checks(
    store: GovernanceStore, model: str, version: int, *, skip: tuple[str, ...] = ()
) -> None:
    """Record a passing blocking result for each check `governance promote` requires."""
    for name in REQUIRED_VERSION_CHECKS:
        if name not in skip:
            store.record_check_result(
                model_name=model,
                check_name=name,
                passed=True,
                severity="ERROR",
                summary="ok",
                evidence={},
                actor="dagster:run",
                version=version,
            )


def test_commands_have_help_and_import_neither_dagster_nor_pandas() -> None:
    code = (
        "import sys\n"
        "from governance_pipelines.cli import main\n"
        "for name in ('models', 'approve', 'promote', 'history'):\n"
        "    try:\n        main([name, '--help'])\n    except SystemExit as exit:\n"
        "        assert exit.code == 0, name\n"
        "assert 'dagster' not in sys.modules, 'dagster imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--stage [staging|production|archived]" in result.stdout


def test_denials_exit_cleanly_with_the_reason(home: Path, store: GovernanceStore) -> None:
    pass_required_checks(store, "churn", add_version(store))
    denied = run(home, "approve", "churn", "v1", "--user", "vera")
    assert denied.exit_code == 1
    assert "Error: cannot approve churn v1: vera (roles: viewer) lacks" in denied.output
    assert "Traceback" not in denied.output
    assert isinstance(denied.exception, SystemExit)
    blocked = run(home, "promote", "churn", "1", "--stage", "production", "--user", "frank")
    assert blocked.exit_code == 1
    assert "cannot promote churn v1 to production:\n  - needs 1 approval" in blocked.output
    unknown = run(home, "approve", "churn", "9", "--user", "bob")
    assert unknown.exit_code == 1
    assert "no version 9" in unknown.output
    bad_version = run(home, "approve", "churn", "latest", "--user", "bob")
    assert bad_version.exit_code == 2
    assert "expected a version number" in bad_version.output
    assert len(store.recent_events(action="access.denied")) == 3


def test_approve_promote_and_models_table(home: Path, store: GovernanceStore) -> None:
    pass_required_checks(store, "credit", add_version(store, "credit"))
    add_version(store, "churn")
    pass_required_checks(store, "churn", add_version(store, "churn", check_passed=False))
    first = run(home, "approve", "credit", "1", "--user", "bob", "--note", "AUC ok")
    assert first.exit_code == 0, first.output
    digest = store.get_model_version("credit", 1).artifact_sha256
    assert f"bob approved credit v1 (artifact sha256 {digest[:12]}…)" in first.output
    assert "approvals: 1/2; 1 more needed" in first.output
    run(home, "approve", "credit", "1", "--user", "carol")
    promoted = run(home, "promote", "credit", "1", "--stage", "production", "--user", "frank")
    assert promoted.exit_code == 0, promoted.output
    assert "frank promoted credit v1 to production" in promoted.output

    table = run(home, "models").output.splitlines()
    assert table[0].split() == [
        "MODEL", "VERSION", "STAGE", "BLOCKING", "CHECKS", "REQUIRED", "APPROVALS"
    ]  # fmt: skip
    assert table[1].split() == [
        "credit", "v1", "production", "passed", "(6)", "5/5", "checks", "2/2"
    ]  # fmt: skip
    assert table[2].split() == ["churn", "v2", "-", "FAILED:", CHECK, "5/5", "checks", "0/1"]
    every = run(home, "models", "--all").output.splitlines()
    assert every[2].split() == ["churn", "v1", "-", "passed", "(1)", "0/5", "checks", "0/1"]
    assert every[3].split()[:2] == ["churn", "v2"]


def test_history_answers_for_a_past_date(
    home: Path, store: GovernanceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(2):
        pass_required_checks(store, "credit", add_version(store, "credit"))
    monkeypatch.setattr(workflow, "_now", lambda: datetime(2026, 2, 10, tzinfo=UTC))
    for version, user, note in [(1, "bob", "AUC ok"), (1, "carol", "fair"), (2, "bob", None)]:
        run(
            home,
            "approve",
            "credit",
            str(version),
            "--user",
            user,
            *(["--note", note] if note else []),
        )
    run(home, "approve", "credit", "2", "--user", "dave")
    monkeypatch.setattr(workflow, "_now", lambda: datetime(2026, 2, 20, 10, tzinfo=UTC))
    run(
        home,
        "promote",
        "credit",
        "1",
        "--stage",
        "production",
        "--user",
        "frank",
        "--reason",
        "first release",
    )
    monkeypatch.setattr(workflow, "_now", lambda: datetime(2026, 3, 5, 8, tzinfo=UTC))
    run(
        home,
        "promote",
        "credit",
        "2",
        "--stage",
        "production",
        "--user",
        "frank",
        "--reason",
        "retrained",
    )

    answer = run(home, "history", "credit", "--at", "2026-03-01")
    assert answer.exit_code == 0, answer.output
    assert answer.output.strip() == (
        "v1 was in production on 2026-03-01 (promoted 2026-02-20 by frank: reason: first "
        "release; approved by bob, carol — bob: AUC ok; carol: fair)"
    )
    later = run(home, "history", "credit", "--at", "2026-03-05T09:00:00+00:00")
    assert later.output.startswith("v2 was in production at 2026-03-05 09:00:00 UTC")
    before = run(home, "history", "credit", "--at", "2026-01-01")
    assert "no version of credit was in production on 2026-01-01" in before.output
    assert "first in production: v1 on 2026-02-20" in before.output

    timeline = run(home, "history", "credit").output.splitlines()
    assert [line.split()[2:4] for line in timeline] == [
        ["v1", "→"], ["v1", "→"], ["v2", "→"]
    ]  # fmt: skip
    assert "archived" in timeline[1]
    assert "replaced in production by v2" in timeline[1]
    assert "approved by bob, dave" in timeline[2]
    bad = run(home, "history", "credit", "--at", "March 1st")
    assert bad.exit_code == 1
    assert "is not a date or datetime" in bad.output


def test_promote_refuses_a_version_missing_a_required_check(
    home: Path, store: GovernanceStore
) -> None:
    version = add_version(store, "churn")
    pass_required_checks(store, "churn", version, skip=(FAIR,))
    run(home, "approve", "churn", str(version), "--user", "bob")
    table = run(home, "models").output.splitlines()
    assert table[2].split()[-3:] == ["4/5", "checks", "1/1"]

    refused = run(
        home, "promote", "churn", str(version), "--stage", "production", "--user", "frank"
    )
    assert refused.exit_code == 1
    assert "Error: cannot promote churn v1 to production:" in refused.output
    assert f"blocking check {FAIR!r} has no result for v1" in refused.output
    others = set(REQUIRED_VERSION_CHECKS) - {FAIR}
    assert not [name for name in others if name in refused.output]
    assert "approval" not in refused.output  # the approvals were enough; only the check is missing
    assert "Traceback" not in refused.output

    staged = run(home, "promote", "churn", str(version), "--stage", "staging", "--user", "frank")
    assert staged.exit_code == 0, staged.output  # staging tolerates missing checks
    pass_required_checks(store, "churn", version)
    promoted = run(home, "promote", "churn", "1", "--stage", "production", "--user", "frank")
    assert promoted.exit_code == 0, promoted.output


def test_history_without_transitions(home: Path, store: GovernanceStore) -> None:
    add_version(store, "churn")
    result = run(home, "history", "churn")
    assert result.exit_code == 0
    assert "churn has no stage transitions" in result.output
