"""The monthly cost report as a table, CSV, JSON and a self-contained HTML page."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from governance_pipelines.operations.cost_reconciliation import Reconciliation
from governance_pipelines.operations.cost_reports import (
    format_report,
    render_month_html,
    write_month_report,
)
from governance_pipelines.operations.showback import COST_KINDS, cost_report
from governance_pipelines_tests.operations.cost_fixtures import (
    DAY,
    cost_config,
    cost_raw,
    hand_ledger,
)

D = Decimal
JAN = date(2026, 1, 1)
PASSED = Reconciliation("2026-01 (2026-01-15 to 2026-01-15)", "USD", D("17.27"), D("17.27"))


def _parse_table(text: str) -> list[dict[str, str]]:
    """Columns by the header's cells: the first two are left-aligned, the rest right."""
    header, *rows = text.splitlines()
    cells = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", header)]
    parsed = []
    for row in rows:
        record = {}
        for i, (start, end, name) in enumerate(cells):
            if i < 2:
                stop = cells[i + 1][0] if i + 1 < len(cells) else len(row)
                record[name] = row[start:stop].strip()
            else:
                record[name] = row[cells[i - 1][1] : end].strip()
        parsed.append(record)
    return parsed


@pytest.mark.parametrize("by", ["team", "model", "consumer"])
def test_the_table_lists_every_line_and_the_total(by: str) -> None:
    lines = cost_report(hand_ledger(), by, "USD")  # type: ignore[arg-type]
    text = format_report(lines, by, "table")  # type: ignore[arg-type]
    *body, total = _parse_table(text)
    assert [row["total"] for row in body] == [str(line.total) for line in lines]
    assert total[next(iter(total))] == "TOTAL"
    assert total["total"] == "17.27"
    assert len({len(line) for line in text.splitlines()}) == 1  # aligned


def test_the_chargeback_table_by_hand() -> None:
    text = format_report(cost_report(hand_ledger(), "consumer", "USD"), "consumer", "table")
    assert text.splitlines()[0].split("  ")[:2] == ["consumer team", "cost centre"]
    web, risk, ops, _ = _parse_table(text)
    assert web == {
        "consumer team": "web",
        "cost centre": "CC-3",
        "governance": "0.75",
        "training": "0.00",
        "serving": "3.73",
        "storage": "0.02",
        "fixed": "2.90",
        "shared": "6.67",
        "total": "14.07",
        "requests": "2500",
    }
    assert (risk["consumer team"], risk["total"]) == ("risk", "3.00")
    assert (ops["cost centre"], ops["total"], ops["requests"]) == ("", "0.20", "500")


def test_csv_parses_back_with_the_csv_module() -> None:
    text = format_report(cost_report(hand_ledger(), "team", "USD"), "team", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "owning_team",
        "cost_center",
        *COST_KINDS,
        "total",
        "requests",
        "currency",
    ]
    assert [(r["owning_team"], r["total"], r["requests"]) for r in rows] == [
        ("risk", "13.27", "2000"),
        ("clinic", "4.00", "1000"),
    ]
    assert sum(D(r["total"]) for r in rows) == D("17.27")
    assert {r["currency"] for r in rows} == {"USD"}


def test_json_parses_back_with_amounts_as_exact_text() -> None:
    text = format_report(cost_report(hand_ledger(), "model", "USD"), "model", "json")
    data = json.loads(text)
    assert data["by"] == "model"
    assert [(line["key"], line["total"]) for line in data["lines"]] == [
        ("credit", "10.27"),
        ("scan", "4.00"),
        ("churn", "3.00"),
    ]
    assert data["lines"][0]["shared"] == "6.67"
    assert data["lines"][0]["cost_center"] is None
    assert all(isinstance(line["total"], str) for line in data["lines"])


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def test_the_html_report_has_the_reconciliation_tables_and_charts() -> None:
    html = render_month_html(cost_config(), JAN, hand_ledger(), PASSED, scope="month to 2026-01-15")
    page = _page(html)
    assert page.tags.count("table") == 3  # showback, chargeback, by model
    assert page.tags.count("svg") == 3  # team, consumer and day-by-day charts
    assert "script" not in page.tags  # mailable: no scripts
    text = " ".join(page.text)
    assert PASSED.summary() in text
    assert 'class="ok"' in html
    assert "Total 17.27 USD" in text
    assert "with corrections on 2026-01-15" in text
    assert "month to 2026-01-15" in text
    for name in ("risk", "clinic", "web", "ops", "CC-3", "credit", "scan", "churn", "14.07"):
        assert f"<td>{name}</td>" in html, name


def test_a_failed_reconciliation_is_shown_as_such() -> None:
    failed = Reconciliation("2026-01", "USD", D("17.28"), D("17.27"), ["2026-01-15: off"])
    html = render_month_html(cost_config(), JAN, hand_ledger(), failed, scope="whole month")
    assert 'class="bad"' in html
    assert "2026-01-15: off" in html


def test_a_report_without_a_reconciliation_does_not_look_reconciled() -> None:
    html = render_month_html(cost_config(), JAN, hand_ledger(), None, scope="whole month")
    assert '<p class="bad">not reconciled</p>' in html


def test_the_organisation_name_is_escaped() -> None:
    raw = cost_raw()
    raw["organisation"] = "<script>alert('x')</script> & Sons"
    html = render_month_html(cost_config(raw), JAN, hand_ledger(), PASSED, scope="whole month")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Sons" in html
    assert "script" not in _page(html).tags


def test_an_empty_month_still_renders() -> None:
    html = render_month_html(cost_config(), JAN, [], None, scope="whole month")
    page = _page(html)
    assert "nothing to plot" in html
    assert "Total 0 USD" in " ".join(page.text)


def test_write_month_report_names_the_file_by_month(tmp_path: Path) -> None:
    partial = write_month_report(cost_config(), hand_ledger(), DAY, tmp_path / "reports")
    assert partial == tmp_path / "reports" / "2026-01.html"
    assert "month to 2026-01-15;" in partial.read_text(encoding="utf-8")
    whole = write_month_report(
        cost_config(), hand_ledger(), date(2026, 1, 31), tmp_path / "reports"
    )
    assert whole == partial  # rewritten as days are booked
    assert "whole month;" in whole.read_text(encoding="utf-8")
    checked = write_month_report(cost_config(), hand_ledger(), DAY, tmp_path / "reports", PASSED)
    text = checked.read_text(encoding="utf-8")
    assert f"{PASSED.scope};" in text  # the reconciled scope names the days it covers
    assert f'<p class="ok">{PASSED.summary()}</p>' in text


def test_a_day_without_bookings_between_booked_days_shows_as_a_zero_bar() -> None:
    ledger = [
        *hand_ledger(),
        *(dataclasses.replace(r, day=date(2026, 1, 17)) for r in hand_ledger()),
    ]
    html = render_month_html(cost_config(), JAN, ledger, PASSED, scope="x")
    assert "<title>2026-01-16: 0</title>" in html
    assert "2026-01-14" not in html  # before the first booked day: not plotted
    assert "<title>2026-01-17: 17.27</title>" in html
