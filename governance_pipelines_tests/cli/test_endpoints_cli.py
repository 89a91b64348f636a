"""`governance endpoints …` and `governance tokens …`: clean refusals, and a token that is
printed once and found nowhere else — not in the database's bytes, the audit log, the access
log, the listings or the logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from governance_pipelines.cli import main
from governance_pipelines.store import GovernanceStore
from governance_pipelines_tests.security.endpoint_fixtures import (
    ADMIN,
    ENDPOINTS_CONFIG_YAML,
    USER,
    access_rows,
)
from governance_pipelines_tests.security.test_approvals import add_version


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated store under --home and the test governance.yaml as GOVERNANCE_CONFIG."""
    config = tmp_path / "governance.yaml"
    config.write_text(ENDPOINTS_CONFIG_YAML, encoding="utf-8")
    monkeypatch.setenv("GOVERNANCE_CONFIG", str(config))
    GovernanceStore.open(None, tmp_path / "home").dispose()
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[GovernanceStore]:
    opened = GovernanceStore.open(None, home)
    yield opened
    opened.dispose()


def run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home)])


def create(home: Path, name: str = "credit-api", *extra: str, user: str = ADMIN) -> Result:
    return run(
        home,
        "endpoints",
        "create",
        name,
        "--model",
        "credit",
        "--teams",
        "risk,web",
        "--rate-limit",
        "600",
        "--user",
        user,
        *extra,
    )


def test_commands_have_help_and_import_neither_dagster_nor_pandas() -> None:
    code = (
        "import sys\n"
        "from governance_pipelines.cli import main\n"
        "for args in (['endpoints', '--help'], ['endpoints', 'create', '--help'],\n"
        "             ['endpoints', 'update', '--help'], ['endpoints', 'list', '--help'],\n"
        "             ['tokens', 'issue', '--help'], ['tokens', 'list', '--help'],\n"
        "             ['tokens', 'revoke', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit as exit:\n"
        "        assert exit.code == 0, args\n"
        "assert 'dagster' not in sys.modules, 'dagster imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--mode [live|canary|shadow]" in result.stdout
    assert "--expires" in result.stdout


def test_an_admin_manages_endpoints_from_the_shell(home: Path, store: GovernanceStore) -> None:
    created = create(home)
    assert created.exit_code == 0, created.output
    assert "created endpoint credit-api: model credit, serves production" in created.output
    version = add_version(store, "credit")
    updated = run(
        home,
        "endpoints",
        "update",
        "credit-api",
        "--mode",
        "canary",
        "--version",
        str(version),
        "--traffic-share",
        "0.1",
        "--user",
        ADMIN,
    )
    assert updated.exit_code == 0, updated.output
    assert f"serves canary v{version} (10%)" in updated.output
    listed = run(home, "endpoints", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[0].split() == [
        "NAME",
        "MODEL",
        "SERVES",
        "TEAMS",
        "RATE/MIN",
        "UPDATED",
        "STATE",
    ]
    assert "canary v1 (10%)" in listed.output
    deleted = run(home, "endpoints", "delete", "credit-api", "--user", ADMIN)
    assert deleted.exit_code == 0, deleted.output
    assert "no endpoints yet" in run(home, "endpoints", "list").output
    as_json = json.loads(run(home, "endpoints", "list", "--all", "--json").output)
    assert [(e["name"], e["deleted_by"]) for e in as_json] == [("credit-api", ADMIN)]
    actions = [e.action for e in store.recent_events(limit=100)]
    assert [a for a in actions if a.startswith("endpoint.")] == [
        "endpoint.created",
        "endpoint.updated",
        "endpoint.deleted",
    ]


def test_refusals_exit_1_with_the_reason_and_are_audited(
    home: Path, store: GovernanceStore
) -> None:
    refused = create(home, user=USER)
    assert refused.exit_code == 1
    assert "Error: cannot create endpoint 'credit-api': uma (roles: user) lacks the permission" in (
        refused.output
    )
    assert "Traceback" not in refused.output
    assert [(r.user_name, r.allowed) for r in access_rows(store)] == [(USER, False)]

    invalid = create(home, "credit-api", "--mode", "canary", "--version", "7")
    assert invalid.exit_code == 1
    assert "a canary needs --traffic-share" in invalid.output
    unknown = run(home, "endpoints", "delete", "nope", "--user", ADMIN)
    assert unknown.exit_code == 1
    assert "there is no endpoint 'nope'" in unknown.output
    bad_expiry = run(
        home, "tokens", "issue", "--team", "web", "--endpoints", "x", "--expires", "forever",
        "--user", ADMIN,
    )  # fmt: skip
    assert bad_expiry.exit_code == 1
    assert "expected a lifetime like 90d or 12h" in bad_expiry.output
    missing_store = CliRunner().invoke(
        main, ["endpoints", "list", "--home", str(home.parent / "elsewhere")]
    )
    assert missing_store.exit_code == 1
    assert "there is no governance store" in missing_store.output


def test_a_token_is_printed_once_and_stored_nowhere(
    home: Path, store: GovernanceStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert create(home).exit_code == 0
    issued = run(
        home,
        "tokens",
        "issue",
        "--team",
        "web",
        "--endpoints",
        "credit-api",
        "--expires",
        "90d",
        "--user",
        ADMIN,
    )
    assert issued.exit_code == 0, issued.output
    secret = issued.stdout.strip()
    assert secret.startswith("gov_")
    assert len(secret.splitlines()) == 1
    [record] = store.list_tokens()
    assert f"issued token {record.token_id} for team web on credit-api" in issued.stderr
    assert secret not in issued.stderr

    listed = run(home, "tokens", "list")
    listed_json = run(home, "tokens", "list", "--json")
    assert record.token_id in listed.output
    assert "active" in listed.output
    assert json.loads(listed_json.output)[0]["status"] == "active"
    revoked = run(home, "tokens", "revoke", record.token_id, "--user", ADMIN)
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in run(home, "tokens", "list").output

    store.dispose()  # checkpoint SQLite's write-ahead log into the file
    digest = record.token_sha256
    leaks = []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if secret.encode() in data:
            leaks.append(f"secret in {path.name}")
    for event in store.recent_events(limit=1000):
        if secret in json.dumps(event.payload) or digest in json.dumps(event.payload):
            leaks.append(f"secret or hash in audit event #{event.seq} ({event.action})")
    for row in access_rows(store):
        if secret in str(row._mapping):
            leaks.append("secret in the access log")
    for output in (listed.output, listed_json.output, revoked.output):
        if secret in output or digest in output:
            leaks.append("secret or hash in a listing")
    for log_record in caplog.records:
        if secret in f"{log_record.getMessage()} {log_record.__dict__!r}":
            leaks.append(f"secret in log record of {log_record.name}")
    assert not leaks, leaks
    assert list(home.rglob("*.db")), "the store's database file was inspected"
