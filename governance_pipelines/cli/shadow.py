"""`governance shadow NAME`: how a shadow endpoint's candidate compares with production."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from governance_pipelines.cli._common import config_option, open_store, store_options

if TYPE_CHECKING:
    from governance_pipelines.operations.shadow_comparison import ShadowComparison


@click.command()
@click.argument("endpoint")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@config_option
@store_options
def shadow(
    endpoint: str,
    as_json: bool,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Compare the candidate of shadow ENDPOINT with production on the requests it mirrored:
    agreement, score difference and, on labelled requests, each one's error with a paired
    test of the difference."""
    from governance_pipelines.config import ConfigError, load_config, resolve_config_path
    from governance_pipelines.operations.shadow_comparison import compare_shadow
    from governance_pipelines.store.shadow_log import read_shadow_pairs

    try:
        config = load_config(resolve_config_path(config_path))
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    with open_store(database_url, home) as store:
        record = store.get_endpoint(endpoint, include_deleted=True)
        if record is None:
            raise click.ClickException(
                f"no endpoint {endpoint!r}: `governance endpoints list --all` shows them"
            )
        if record.model_name not in {m.name for m in config.models}:
            raise click.ClickException(
                f"endpoint {endpoint!r} serves {record.model_name!r}, which governance.yaml "
                "does not declare"
            )
        pairs = read_shadow_pairs(store.engine, record.model_name, endpoint=endpoint)
    if pairs.empty:
        hint = (
            "it is not a shadow endpoint (`governance endpoints update NAME --mode shadow "
            "--version V`)"
            if record.mode != "shadow"
            else "send it traffic through `governance serve`"
        )
        raise click.ClickException(f"no shadow scores for endpoint {endpoint!r} yet: {hint}")
    task = config.model(record.model_name).training.task
    result = compare_shadow(pairs, record.model_name, task)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    _echo(endpoint, result)


def _echo(endpoint: str, result: ShadowComparison) -> None:
    versions = ",".join(f"v{v}" for v in result.shadow_versions)
    production = ",".join(f"v{v}" for v in result.production_versions)
    click.echo(
        f"shadow endpoint {endpoint}: {result.model_name} {versions} beside production {production}"
    )
    click.echo(f"  scored {result.scored} mirrored requests ({result.errors} failed)")
    if result.agreement is not None:
        click.echo(f"  same decision as production: {result.agreement:.1%}")
    if result.mean_abs_difference is not None:
        click.echo(f"  mean |score difference|: {result.mean_abs_difference:.4f}")
    if result.labelled and result.production_error is not None:
        click.echo(
            f"  on {result.labelled} labelled requests, mean {result.error_metric}: "
            f"production {result.production_error:.4f}, shadow {result.shadow_error:.4f}"
            + (f" (paired t-test p = {result.p_value:.3g})" if result.p_value is not None else "")
        )
    click.echo(f"  verdict: {result.verdict}")
