"""`governance costs`: a month of the ledger as table, CSV, JSON or HTML, and clean errors."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from governance_pipelines.cli import main
from governance_pipelines.operations.cost_booking import ComputeHours, book_day, month_ledger
from governance_pipelines.store import GovernanceStore
from governance_pipelines_tests.operations.cost_fixtures import cost_config, cost_raw

D = Decimal
JANUARY = [date(2026, 1, 14), date(2026, 1, 15), date(2026, 1, 16)]
FEBRUARY = date(2026, 2, 2)


@dataclass(frozen=True)
class Booked:
    home: Path
    config: Path
    january: Decimal  # the ledger's total of January
    by_day_model: dict[tuple[date, str], Decimal]


@pytest.fixture(scope="module")
def booked(tmp_path_factory: pytest.TempPathFactory) -> Booked:
    """A store with three days of January and one of February booked, one day restated."""
    folder = tmp_path_factory.mktemp("costs_cli")
    config_path = folder / "governance.yaml"
    config_path.write_text(yaml.safe_dump(cost_raw(), sort_keys=False))
    config = cost_config()
    store = GovernanceStore.open(None, folder / "home")
    try:
        hours = {"credit": ComputeHours(training=D(1))}
        for i, day in enumerate([*JANUARY, FEBRUARY]):
            usage = [
                {"version": 1, "consumer_team": "web", "requests": 1000 * (i + 1), "errors": 0}
            ]
            store.replace_usage_day("credit", day, usage)
            book_day(config, store, day, compute_hours=hours, actor="test")
        late = [{"version": 2, "consumer_team": "ops", "requests": 400, "errors": 1}]
        store.replace_usage_day("scan", JANUARY[1], late)  # late rows: a correction
        assert book_day(config, store, JANUARY[1], compute_hours=hours, actor="test").booked
        ledger = month_ledger(store, JANUARY[0])
        by_day_model: dict[tuple[date, str], Decimal] = {}
        for row in ledger:
            key = (row.day, row.model_name)
            by_day_model[key] = by_day_model.get(key, D(0)) + row.amount
    finally:
        store.dispose()
    return Booked(folder / "home", config_path, sum(r.amount for r in ledger), by_day_model)


def _costs(booked: Booked, *args: str, config: Path | None = None) -> Result:
    return CliRunner().invoke(
        main,
        ["costs", "--config", str(config or booked.config), "--home", str(booked.home), *args],
    )


def test_table_shows_the_month_its_total_and_the_reconciliation(booked: Booked) -> None:
    result = _costs(booked, "--month", "2026-01")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Costs 2026-01 (2026-01-01 to 2026-01-16), showback (USD)"
    assert lines[1].split()[:3] == ["owning", "team", "cost"]
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert total.split() == ["TOTAL", str(booked.january)]
    assert lines[-1] == (
        f"2026-01 (2026-01-01 to 2026-01-16): allocated {booked.january} USD = incurred "
        f"{booked.january} (13 day(s) not allocated yet: 2026-01-01…)"
    )
    assert {line.split()[0] for line in lines[2:-2]} == {"risk", "clinic"}


def test_csv_by_consumer_is_the_chargeback(booked: Booked) -> None:
    result = _costs(booked, "--month", "2026-01", "--by", "consumer", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["consumer_team"]: r["cost_center"] for r in rows} == {
        "web": "CC-3",
        "ops": "",  # ops declares no cost centre
        "risk": "CC-1",  # churn, called by nobody, is charged to its owner
        "clinic": "CC-2",  # and so is scan on the days nobody called it
    }
    assert sum(D(r["total"]) for r in rows) == booked.january
    requests = {r["consumer_team"]: int(r["requests"]) for r in rows}
    assert requests == {"web": 6000, "ops": 400, "risk": 0, "clinic": 0}


def test_json_by_model(booked: Booked) -> None:
    result = _costs(booked, "--month", "2026-01", "--by", "model", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by"] == "model"
    totals = {line["key"]: D(line["total"]) for line in data["lines"]}
    assert set(totals) == {"credit", "churn", "scan"}
    for model, total in totals.items():
        assert total == sum(v for (_, m), v in booked.by_day_model.items() if m == model)


def test_html_is_the_monthly_page(booked: Booked) -> None:
    result = _costs(booked, "--month", "2026-01", "--format", "html")
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 3
    assert page.count("<table>") == 3
    assert f"Total {booked.january} USD" in page
    assert "with corrections on 2026-01-15" in page
    assert 'class="ok"' in page


def test_without_month_the_latest_booked_month_is_shown(booked: Booked) -> None:
    result = _costs(booked, "--format", "json")
    assert result.exit_code == 0, result.output
    february = _costs(booked, "--month", "2026-02", "--format", "json")
    assert result.stdout == february.stdout
    assert _costs(booked).stdout.startswith("Costs 2026-02 (2026-02-01 to 2026-02-02)")


@pytest.mark.parametrize("month", ["2026-13", "nov", "2026-1", "2026-00", "26-01"])
def test_a_month_that_is_not_a_month_is_a_usage_error(booked: Booked, month: str) -> None:
    result = _costs(booked, "--month", month)
    assert result.exit_code == 2
    assert f"'{month}' is not a month; write it as YYYY-MM" in result.output


def test_a_month_without_bookings_is_a_clear_error(booked: Booked) -> None:
    result = _costs(booked, "--month", "2025-12")
    assert result.exit_code == 1
    assert "no costs are booked for 2025-12" in result.output
    assert "Traceback" not in result.output


def test_a_store_without_any_booking_says_how_to_book(tmp_path: Path, booked: Booked) -> None:
    GovernanceStore.open(None, tmp_path / "empty").dispose()
    result = CliRunner().invoke(
        main, ["costs", "--config", str(booked.config), "--home", str(tmp_path / "empty")]
    )
    assert result.exit_code == 1
    assert "no costs are booked yet" in result.output


def test_a_missing_store_is_an_error_not_a_new_store(tmp_path: Path, booked: Booked) -> None:
    nowhere = tmp_path / "nowhere"
    result = CliRunner().invoke(
        main, ["costs", "--config", str(booked.config), "--home", str(nowhere)]
    )
    assert result.exit_code == 1
    assert "there is no governance store" in result.output
    assert not (nowhere / "governance.db").exists()


def test_a_broken_config_is_named(tmp_path: Path, booked: Booked) -> None:
    raw = cost_raw()
    raw["costs"]["currency"] = "usd"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(raw))
    result = _costs(booked, config=tmp_path / "bad.yaml")
    assert result.exit_code == 1
    assert "costs.currency" in result.output


def _with_bill(tmp_path: Path, lines: list[str]) -> Path:
    bill = tmp_path / "bill.csv"
    bill.write_text(
        "\n".join(["ChargePeriodStart,BilledCost,BillingCurrency,x_ModelName", *lines]) + "\n"
    )
    raw = cost_raw()
    raw["costs"]["bill"] = str(bill)
    path = tmp_path / "governance.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_bill_that_agrees_is_reported(tmp_path: Path, booked: Booked) -> None:
    lines = [f"{day},{amount},USD,{model}" for (day, model), amount in booked.by_day_model.items()]
    result = _costs(booked, "--month", "2026-01", config=_with_bill(tmp_path, lines))
    assert result.exit_code == 0, result.output
    assert f"billed {booked.january}" in result.stdout.splitlines()[-1]


def test_a_bill_that_disagrees_exits_1_not_reconciled(tmp_path: Path, booked: Booked) -> None:
    wrong = booked.by_day_model[(JANUARY[1], "credit")] + D("0.01")
    config = _with_bill(tmp_path, [f"{JANUARY[1]},{wrong},USD,credit"])
    for output in ("table", "csv", "json", "html"):
        result = _costs(booked, "--month", "2026-01", "--format", output, config=config)
        assert result.exit_code == 1, output
        assert "NOT RECONCILED" in result.stderr
        assert f"bill: credit on {JANUARY[1]} billed {wrong}" in result.stderr
        assert result.stdout  # the report is still printed, for finance to look at


def test_an_unreadable_bill_is_a_clean_error(tmp_path: Path, booked: Booked) -> None:
    config = _with_bill(tmp_path, [f"{JANUARY[1]},lots,USD,credit"])
    result = _costs(booked, "--month", "2026-01", config=config)
    assert result.exit_code == 1
    assert "costs.bill:" in result.output
    assert "row 2: ChargePeriodStart '2026-01-15' / BilledCost 'lots'" in result.output
    missing = _with_bill(tmp_path, [])
    (tmp_path / "bill.csv").unlink()
    result = _costs(booked, "--month", "2026-01", config=missing)
    assert result.exit_code == 1
    assert "costs.bill: no file at" in result.output


def test_costs_is_listed_in_help() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "costs" in result.output
    assert "Showback and chargeback" in result.output
