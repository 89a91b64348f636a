"""`governance usage`: who called which model, over a period, and whether adoption grows."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import click

from governance_pipelines.cli._common import open_store, store_options


@click.command()
@click.option("--model", "model_name", metavar="NAME", help="Only this model.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day (UTC) [default: 30 days before the latest recorded day].",
)
@click.option(
    "--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day [default: the latest]."
)
@click.option(
    "--by",
    type=click.Choice(["model", "version", "consumer", "day"]),
    default="consumer",
    show_default=True,
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Governance file (for the declared teams) [default: GOVERNANCE_CONFIG, "
    "./governance.yaml, else the packaged demo].",
)
@store_options
def usage(
    model_name: str | None,
    since: object,
    until: object,
    by: str,
    output_format: str,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Requests, errors, consumer teams and latency per model and version, consumer team or
    day, from the daily usage counts; consumer teams governance.yaml does not declare are
    marked, and each model's adoption (weeks since its first call, week-over-week growth)
    follows."""
    from governance_pipelines.config import ConfigError, load_config
    from governance_pipelines.operations.usage_summary import adoption_by_model, summarise_usage

    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    with open_store(database_url, home) as store:
        rows = store.usage(model_name)
    if not rows:
        scope = f"model {model_name!r}" if model_name else "any model"
        raise click.ClickException(
            f"no usage is recorded for {scope}; the daily inference_log asset counts it"
        )
    last: date = until.date() if until else max(r["day"] for r in rows)  # type: ignore[attr-defined]
    first: date = since.date() if since else last - timedelta(days=30)  # type: ignore[attr-defined]
    if first > last:
        raise click.BadParameter(f"--since {first} is after --until {last}")
    window = [r for r in rows if first <= r["day"] <= last]
    lines = summarise_usage(window, by, {t.name for t in config.teams})  # type: ignore[arg-type]
    trends = adoption_by_model([r for r in rows if r["day"] <= last], last)
    records = [line.to_dict() for line in lines]
    if output_format == "json":
        payload = {"from": str(first), "to": str(last), "by": by, "lines": records}
        click.echo(json.dumps({**payload, "adoption": trends}, indent=2))
        return
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=list(records[0]) if records else ["model"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(records)
        click.echo(buffer.getvalue(), nl=False)
        return
    click.echo(f"Usage {first} to {last}, by {by}")
    for record in records:
        mark = "" if record["declared"] else "  UNDECLARED consumer team"
        latency = record["mean_latency_ms"]
        click.echo(
            f"  {record['model']:<24} {record['key']:<20} {record['requests']:>10} requests "
            f"{record['errors']:>7} errors {record['consumers']:>3} teams "
            + (f"{latency:>9.1f} ms" if latency is not None else "        — ms")
            + mark
        )
    for model, trend in trends.items():
        growth = trend["growth"]
        click.echo(
            f"  {model}: first call {trend['first_call']}, "
            f"{trend['weeks_since_first_call']} week(s) ago; last 7 days "
            f"{trend['last_7_days']} requests"
            + (f" ({growth:+.1%} on the week before)" if growth is not None else "")
        )
