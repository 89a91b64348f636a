"""The monthly cost report: showback, chargeback and per-model totals, as text or HTML.

One module renders the month for every audience: `governance costs` prints it as a table,
CSV or JSON for scripts and spreadsheets, and the `cost_allocation` asset writes it as a
self-contained HTML page (inline SVG charts, no scripts) that can be mailed to finance.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import jinja2

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.operations.cost_allocation import Allocation
from governance_pipelines.operations.cost_model import ZERO, round_money
from governance_pipelines.operations.cost_reconciliation import Reconciliation, month_days
from governance_pipelines.operations.showback import COST_KINDS, CostLine, ReportBy, cost_report

__all__ = ["format_report", "render_month_html", "write_month_report"]

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("governance_pipelines.operations", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
_HEADERS = {"team": "owning team", "model": "model", "consumer": "consumer team"}


def format_report(lines: Sequence[CostLine], by: ReportBy, output: str) -> str:
    """The report as an aligned text table, CSV or JSON (amounts as exact decimal text)."""
    rows = [line.to_dict() for line in lines]
    header = _HEADERS[by]
    if output == "json":
        return json.dumps({"by": by, "lines": rows}, indent=2)
    columns = ["key", "cost_center", *COST_KINDS, "total", "requests", "currency"]
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().replace("key,", f"{header.replace(' ', '_')},", 1)
    table = [[header, "cost centre", *COST_KINDS, "total", "requests"]]
    table += [[str(r[c] if r[c] is not None else "") for c in columns[:-1]] for r in rows]
    total = sum((line.total for line in lines), ZERO)
    currency = lines[0].currency if lines else "USD"
    table.append(["TOTAL", "", *[""] * len(COST_KINDS), str(round_money(total, currency)), ""])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in table
    )


def _html_table(lines: Sequence[CostLine], by: ReportBy) -> str:
    """Amounts as the text report prints them (rounded to the minor unit); the cost centre
    column only where it means something (the consumer teams finance charges)."""
    columns = [*(["cost_center"] if by == "consumer" else []), *COST_KINDS, "total"]
    headers = [_HEADERS[by], *("cost centre" if c == "cost_center" else c for c in columns)]
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(value or ''))}</td>"
            for value in (row["key"], *(row[c] for c in columns))
        )
        + "</tr>"
        for row in (line.to_dict() for line in lines)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bar_chart(title: str, bars: Sequence[tuple[str, Decimal]]) -> str:
    """A horizontal bar chart as inline SVG (the page stays one file)."""
    if not bars:
        return "<p class='note'>nothing to plot</p>"
    top = max((value for _, value in bars), default=ZERO) or Decimal(1)
    height = 22 * len(bars) + 30
    rows = []
    for i, (label, value) in enumerate(bars):
        y = 26 + 22 * i
        width = int(420 * (value / top)) if value > 0 else 0
        rows.append(
            f'<text x="0" y="{y + 12}" font-size="12">{escape(label)}</text>'
            f'<rect x="180" y="{y}" width="{width}" height="16" fill="#2f80ed"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{186 + width}" y="{y + 12}" font-size="12">{value}</text>'
        )
    return (
        f'<svg role="img" aria-label="{escape(title)}" width="720" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><text x="0" y="14" font-size="13" font-weight="600">'
        f"{escape(title)}</text>{''.join(rows)}</svg>"
    )


def render_month_html(
    config: GovernanceConfig,
    month: date,
    ledger: Sequence[Allocation],
    reconciliation: Reconciliation | None,
    *,
    scope: str,
    daily: Mapping[date, Decimal] | None = None,
    restated: Sequence[date] | None = None,
) -> str:
    """The page, from ledger rows — or from a month summed in the database (`lines`
    summed over the month, with its `daily` totals and `restated` days given)."""
    currency = config.costs.currency
    reports = {by: cost_report(ledger, by, currency) for by in ("team", "model", "consumer")}
    if daily is None:
        daily = {}
        for row in ledger:
            daily[row.day] = daily.get(row.day, ZERO) + row.amount
    if restated is None:
        restated = sorted({r.day for r in ledger if r.charge_class})
    if daily:  # every day from the first booked one, so a gap shows as a zero bar
        first, last = min(daily), max(daily)
        daily = {d: daily.get(d, ZERO) for d in month_days(month) if first <= d <= last}
    shown_days = sorted(daily.items())
    return _TEMPLATES.get_template("cost_report.html.j2").render(
        organisation=config.organisation,
        month=f"{month:%Y-%m}",
        scope=scope,
        currency=currency,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        # No reconciliation is not a pass: "not reconciled" must not be shown as one.
        reconciled=reconciliation is not None and reconciliation.passed,
        reconciliation=reconciliation.summary() if reconciliation else "not reconciled",
        total=sum((row.amount for row in ledger), ZERO),
        restated=[str(day) for day in restated],
        tables={by: _html_table(lines, by) for by, lines in reports.items()},  # type: ignore[arg-type]
        team_chart=_bar_chart(
            "Showback by owning team", [(x.key, x.total) for x in reports["team"]]
        ),
        consumer_chart=_bar_chart(
            "Chargeback by consumer team", [(x.key, x.total) for x in reports["consumer"]]
        ),
        daily_chart=_bar_chart("Allocated per day", [(str(d), v) for d, v in shown_days]),
    )


def write_month_report(
    config: GovernanceConfig,
    ledger: Sequence[Allocation],
    through: date,
    folder: Path,
    reconciliation: Reconciliation | None = None,
    *,
    daily: Mapping[date, Decimal] | None = None,
    restated: Sequence[date] | None = None,
) -> Path:
    """`<folder>/<YYYY-MM>.html`, the month so far; rewritten as days are booked (it is a
    view of the ledger, which is the record)."""
    folder.mkdir(parents=True, exist_ok=True)
    last = month_days(through)[-1]
    scope = "whole month" if through >= last else f"month to {through}"
    if reconciliation is not None:
        scope = reconciliation.scope
    path = folder / f"{through:%Y-%m}.html"
    html = render_month_html(
        config, through, ledger, reconciliation, scope=scope, daily=daily, restated=restated
    )
    path.write_text(html, encoding="utf-8")
    return path
