"""`governance costs`: the month's showback and chargeback from the cost ledger."""

from __future__ import annotations

import re
from datetime import date

import click

from governance_pipelines.cli._common import config_option, open_store, store_options

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _month(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    match = _MONTH.fullmatch(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise click.BadParameter(f"{value!r} is not a month; write it as YYYY-MM, e.g. 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


@click.command()
@click.option(
    "--month",
    callback=_month,
    metavar="YYYY-MM",
    help="The month to report [default: the month of the latest booked day].",
)
@click.option(
    "--by",
    type=click.Choice(["team", "model", "consumer"]),
    default="team",
    show_default=True,
    help="team: showback per owning team; model: per model; consumer: chargeback per "
    "consumer team and cost centre.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json", "html"]),
    default="table",
    show_default=True,
    help="html: the monthly report (showback, chargeback, charts) as one self-contained page.",
)
@config_option
@store_options
def costs(
    month: date | None,
    by: str,
    output_format: str,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Print a month's costs from the ledger the daily `cost_allocation` asset books.

    Amounts are exact decimals in costs.currency; corrections from restated days are
    included. Exits 1 when the month does not reconcile (allocated ≠ incurred, or ≠ the
    imported bill).
    """
    from governance_pipelines.config import ConfigError, load_config
    from governance_pipelines.operations.cost_booking import month_reconciliation, month_summary
    from governance_pipelines.operations.cost_reports import format_report, render_month_html
    from governance_pipelines.operations.focus import BillError
    from governance_pipelines.operations.showback import cost_report

    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    with open_store(database_url, home) as store:
        if month is None:
            latest = store.latest_cost_day()
            if latest is None:
                raise click.ClickException(
                    "no costs are booked yet: materialize governance/cost_allocation for a day "
                    "(the nightly audit job does), or run `governance demo`"
                )
            month = latest.replace(day=1)
        summary = month_summary(store, month)
        if summary.through is None:
            raise click.ClickException(
                f"no costs are booked for {month:%Y-%m}; materialize governance/cost_allocation "
                "for its days first"
            )
        ledger = summary.lines
        try:
            check = month_reconciliation(
                config,
                store,
                month,
                through=summary.through,
                since=config.schedules.monitoring_start_date,
                summary=summary,
            )
        except BillError as error:
            raise click.ClickException(str(error)) from None
    if output_format == "html":
        html = render_month_html(
            config,
            month,
            ledger,
            check,
            scope=check.scope,
            daily=summary.daily,
            restated=summary.restated,
        )
        click.echo(html, nl=False)
    else:
        lines = cost_report(ledger, by, config.costs.currency)  # type: ignore[arg-type]
        if output_format == "table":
            what = {"team": "showback", "model": "by model", "consumer": "chargeback"}[by]
            click.echo(f"Costs {check.scope}, {what} ({config.costs.currency})")
        click.echo(format_report(lines, by, output_format))  # type: ignore[arg-type]
    if not check.passed:
        click.echo(f"NOT RECONCILED: {check.summary()}", err=True)
        raise SystemExit(1)
    if output_format == "table":
        click.echo(check.summary())
