"""`governance serve`: the token-authenticated gateway in front of the governed models."""

from __future__ import annotations

import os

import click

from governance_pipelines.cli._common import config_option, store_options


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0 exposes it.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (each journals its own requests; rate limits apply per worker).",
)
@click.option(
    "--refresh-seconds",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.1, 300),
    help="How often endpoints, stages and token revocations are re-read.",
)
@click.option(
    "--model-threads",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Threads (OpenMP/BLAS) a worker's model may use per prediction. 1 suits "
    "request-at-a-time serving: a thread pool woken for a one-row predict costs more CPU "
    "than it saves and takes the other workers' cores.",
)
@config_option
@store_options
def serve(
    host: str,
    port: int,
    workers: int,
    refresh_seconds: float,
    model_threads: int,
    config_path: str | None,
    database_url: str | None,
    home: str | None,
) -> None:
    """Serve every endpoint (`governance endpoints create`) over HTTP.

    POST /v1/endpoints/NAME/predict {"records": [...]} with `Authorization: Bearer TOKEN`
    (`governance tokens issue`); POST /v1/endpoints/NAME/labels for late ground truth;
    GET /v1/endpoints[/NAME], /metrics, /healthz, /readyz. Every answered request is in the
    inference log. A promotion or rollback is served within --refresh-seconds.
    """
    import uvicorn

    from governance_pipelines.config import ConfigError, load_config, resolve_config_path
    from governance_pipelines.serving.server import MODEL_THREADS_ENV, REFRESH_ENV
    from governance_pipelines.store import GovernanceStore, StoreError

    path = resolve_config_path(config_path)
    try:
        load_config(path)
        GovernanceStore.open_existing(database_url, home).dispose()
    except (ConfigError, StoreError) as error:
        raise click.ClickException(str(error)) from None
    os.environ["GOVERNANCE_CONFIG"] = str(path)
    os.environ[REFRESH_ENV] = str(refresh_seconds)
    os.environ[MODEL_THREADS_ENV] = str(model_threads)
    if home:
        os.environ["GOVERNANCE_HOME"] = home
    if database_url:
        os.environ["GOVERNANCE_DATABASE_URL"] = database_url
    click.echo(f"governance serve: http://{host}:{port} ({workers} worker(s)); Ctrl-C stops it")
    uvicorn.run(
        "governance_pipelines.serving.server:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
