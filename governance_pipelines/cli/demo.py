"""`governance demo`."""

from __future__ import annotations

from pathlib import Path

import click

from governance_pipelines.cli._common import config_option


@click.command()
@config_option
@click.option(
    "--home",
    envvar="GOVERNANCE_HOME",
    type=click.Path(file_okay=False, path_type=Path),
    help="[env GOVERNANCE_HOME]",
)
@click.option(
    "--database-url", envvar="GOVERNANCE_DATABASE_URL", help="[env GOVERNANCE_DATABASE_URL]"
)
@click.option(
    "--days",
    type=click.IntRange(0, 366),
    default=21,
    show_default=True,
    help="Days of production traffic to simulate and monitor (0: development only).",
)
def demo(config_path: str | None, home: Path | None, database_url: str | None, days: int) -> None:
    """Run the whole governance graph in-process (no servers needed) and summarise it.

    Snapshots and validates the training data, trains and validates every model, writes
    the model cards, has the declared approvers sign off and promotes what passed; then
    simulates weeks of production traffic (with drift injected into the credit model's
    applicants), runs the nightly audit for every day and raises the alerts (recorded;
    sent to Slack when SLACK_BOT_TOKEN is set).
    """
    import logging

    from governance_pipelines.config import ConfigError, resolve_config_path
    from governance_pipelines.orchestration.demo import run_demo
    from governance_pipelines.store import StoreError
    from governance_pipelines.store.engine import StoreConfigurationError, display_url

    # The summary below reports alert delivery; per-run warnings would only repeat it.
    logging.getLogger("governance_pipelines").setLevel(logging.ERROR)
    path = resolve_config_path(config_path)
    click.echo(f"governance demo: {path}")
    try:
        outcome = run_demo(path, home=home, url=database_url, traffic_days=days)
    except (ConfigError, StoreError, StoreConfigurationError) as error:
        raise click.ClickException(str(error)) from None

    for model in outcome.models:
        snapshot = model.snapshot_id[:12] if model.snapshot_id else "not taken"
        failed = sorted(name for name, ok in model.checks.items() if not ok)
        checks = f"{len(model.checks) - len(failed)}/{len(model.checks)} checks passed"
        click.echo(f"  {model.name}: snapshot {snapshot} ({model.rows} rows); {checks}")
        for name in failed:
            click.echo(f"    FAILED {name}")
        if model.version is not None:
            approvers = ", ".join(model.approvers) or "none"
            click.echo(
                f"    version v{model.version}: stage {model.stage or 'none'}; approved by {approvers}"
            )
        if model.snapshot_path:
            click.echo(f"    snapshot file: {model.snapshot_path}")
        if model.card_path:
            click.echo(f"    model card:    {model.card_path}")
    if outcome.monitoring is not None:
        _print_monitoring(outcome.monitoring)
    if outcome.gateway is not None:
        _print_gateway(outcome.gateway)
    if outcome.costs is not None:
        _print_costs(outcome.costs)
    chain = "intact" if outcome.audit_ok else "BROKEN"
    click.echo(f"  audit chain: {outcome.audit_events_verified} events, {chain}")
    click.echo("Outputs:")
    click.echo(f"  governance store:  {display_url(outcome.store_url)}")
    click.echo(f"  artifacts:         {outcome.home}")
    click.echo(f"  Dagster instance:  {outcome.dagster_home} (run {outcome.run_id})")
    if outcome.catalog is not None:
        click.echo(f"  model catalog:     {outcome.catalog}")
    click.echo(
        f"Browse it: DAGSTER_HOME={outcome.dagster_home} GOVERNANCE_HOME={outcome.home} "
        f"GOVERNANCE_CONFIG={outcome.config_path} "
        f"dagster dev -w {outcome.home / 'workspace.yaml'}"
    )
    click.echo(
        "Audit it:  governance audit verify && governance models && governance history credit_default"
    )
    if not outcome.success or not outcome.audit_ok:
        raise SystemExit(1)


def _print_gateway(gateway) -> None:
    click.echo("A challenger served as a canary by a real gateway (`governance serve`):")
    if gateway.problem:
        click.echo(f"  FAILED: {gateway.problem}", err=True)
        return
    split = ", ".join(f"v{v}: {n}" for v, n in sorted(gateway.by_version.items()))
    click.echo(
        f"  {gateway.requests} requests over HTTP ({split}); {gateway.logged} in the inference "
        f"log; {gateway.labels} labels posted back"
    )
    click.echo(f"  A/B test {gateway.ab_summary}")


def _print_costs(costs) -> None:
    click.echo(f"Costs, {costs.month}; `governance costs` prints any month:")
    click.echo("  showback, by owning team:")
    click.echo("\n".join(f"    {line}" for line in costs.showback.splitlines()))
    click.echo("  chargeback, by consumer team:")
    click.echo("\n".join(f"    {line}" for line in costs.chargeback.splitlines()))
    click.echo(f"  {costs.reconciliation}")
    if costs.report is not None:
        click.echo(f"  monthly report: {costs.report}")


def _print_monitoring(monitoring) -> None:
    click.echo(
        f"Production monitoring over the last {monitoring.days} days (nightly audit per day):"
    )
    for model_name, requests in monitoring.requests.items():
        click.echo(f"  {model_name}: {requests} requests logged")
        drift = monitoring.drift_days.get(model_name, [])
        if drift:
            features = sorted({feature for _, drifted in drift for feature in drifted})
            click.echo(f"    data drift on {len(drift)} day(s): {drift[0][0]} … {drift[-1][0]}")
            click.echo(f"      drifted: {', '.join(features)}")
        else:
            click.echo("    no data drift")
        breaches = monitoring.sla_breach_days.get(model_name, [])
        click.echo(
            f"    SLA breached on: {', '.join(breaches)}" if breaches else "    SLA met every day"
        )
        degraded = monitoring.degraded_days.get(model_name, [])
        if degraded:
            click.echo(f"    performance below tolerance on: {', '.join(degraded)}")
    click.echo(
        f"  alerts raised: {monitoring.alerts_raised} about monitoring, plus "
        f"{monitoring.audit_summaries} nightly audit summaries ({monitoring.delivery}; "
        "`governance alerts` lists them all)"
    )
    if monitoring.failed_nights:
        click.echo(
            f"  nightly audit run FAILED on: {', '.join(monitoring.failed_nights)} "
            "(see the runs in the Dagster UI)",
            err=True,
        )
