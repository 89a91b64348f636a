"""`governance usage`: usage per consumer, version or day from the stored daily counts."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_pipelines.cli import main
from governance_pipelines.store import GovernanceStore

CONFIG = """
teams: [{name: risk}, {name: lending}]
people: [{name: alice, team: risk, roles: [data_scientist]}]
models:
  - name: scorer
    owner: alice
    team: risk
    description: Test model.
    data:
      source: {kind: file, path: data.csv}
      target: y
      features: [x]
    training:
      estimator: {class: sklearn.linear_model.LogisticRegression}
      min_metric: 0.5
"""
FIRST = date(2026, 5, 1)


def _row(version: int, team: str, requests: int, errors: int, latency: float | None) -> dict:
    return {
        "version": version,
        "consumer_team": team,
        "requests": requests,
        "errors": errors,
        "latency_ms_sum": latency,
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "governance.yaml").write_text(CONFIG)
    store = GovernanceStore.open(None, tmp_path)
    try:
        # Week 1: 10 requests a day from lending; week 2: 15 a day, plus an unknown team.
        for offset in range(14):
            day = FIRST + timedelta(days=offset)
            rows = [
                _row(1, "lending", 10 if offset < 7 else 15, 1, 100.0 * (10 if offset < 7 else 15))
            ]
            if offset >= 7:
                rows.append(_row(2, "shadow_team", 5, 0, None))
            store.replace_usage_day("scorer", day, rows)
    finally:
        store.dispose()
    return tmp_path


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["usage", "--home", str(home), "--config", str(home / "governance.yaml"), *args],
    )
    return result.exit_code, result.output


def test_by_consumer_marks_undeclared_teams_and_reports_adoption(home: Path) -> None:
    code, output = _run(home)
    assert code == 0, output
    assert "Usage 2026-04-14 to 2026-05-14, by consumer" in output
    lending = next(line for line in output.splitlines() if "lending" in line)
    assert "175 requests" in lending  # 7 × 10 + 7 × 15
    assert "100.0 ms" in lending  # every request took 100 ms
    assert "UNDECLARED" not in lending
    shadow = next(line for line in output.splitlines() if "shadow_team" in line)
    assert "35 requests" in shadow
    assert "UNDECLARED consumer team" in shadow
    # Last 7 days: 7 × 20 = 140; the week before: 7 × 10 = 70 → +100 %.
    assert "first call 2026-05-01, 1 week(s) ago; last 7 days 140 requests (+100.0%" in output


def test_json_and_csv_carry_the_same_figures(home: Path) -> None:
    code, output = _run(home, "--by", "version", "--format", "json")
    assert code == 0, output
    payload = json.loads(output)
    by_version = {line["key"]: line for line in payload["lines"]}
    assert by_version["v1"]["requests"] == 175
    assert by_version["v1"]["errors"] == 14
    assert by_version["v2"]["mean_latency_ms"] is None  # never measured: unknown, not 0
    assert payload["adoption"]["scorer"]["growth"] == 1.0
    code, output = _run(home, "--by", "day", "--format", "csv", "--since", "2026-05-07")
    rows = list(csv.DictReader(io.StringIO(output)))
    assert [r["key"] for r in rows] == [str(FIRST + timedelta(days=d)) for d in range(6, 14)]
    assert rows[-1]["requests"] == "20"


def test_bad_input_gets_a_clear_error(home: Path, tmp_path: Path) -> None:
    code, output = _run(home, "--model", "nope")
    assert code != 0
    assert "no usage is recorded for model 'nope'" in output
    code, output = _run(home, "--since", "2026-06-01", "--until", "2026-05-01")
    assert code != 0
    assert "--since 2026-06-01 is after --until 2026-05-01" in output
    code, output = _run(home, "--since", "May 1st")
    assert code != 0
    assert "'May 1st' does not match the format '%Y-%m-%d'" in output
