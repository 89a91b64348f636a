"""`governance metrics`: the latest governance metrics for Prometheus, Grafana or Datadog.

Why a command and a tiny server rather than a push integration: every monitoring stack
teams already run can scrape a Prometheus/OpenMetrics endpoint, so one stdlib
`http.server` covers Prometheus, Grafana Agent/Alloy and Datadog's OpenMetrics check
without a new dependency or credentials. Heavy modules are imported only when the
command runs, so `governance metrics --help` stays instant.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from governance_pipelines.cli._common import open_store, store_options

if TYPE_CHECKING:
    from governance_pipelines.store import GovernanceStore

METRICS_PATH = "/metrics"
# A stalled client must not block the (single-threaded) server for longer than this.
REQUEST_TIMEOUT_SECONDS = 30


@click.command()
@click.option(
    "--model",
    "model_names",
    multiple=True,
    metavar="NAME",
    help="Only this model (repeatable). Default: every model the store knows.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["openmetrics", "prometheus"]),
    default="openmetrics",
    show_default=True,
    help="OpenMetrics 1.0, or the classic Prometheus text format 0.0.4.",
)
@click.option("--serve", is_flag=True, help="Serve GET /metrics over HTTP instead of printing.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind with --serve (0.0.0.0 exposes it to the network).",
)
@click.option(
    "--port",
    default=9464,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port for --serve (0: any free port, printed on start).",
)
@store_options
def metrics(
    model_names: tuple[str, ...],
    output_format: str,
    serve: bool,
    host: str,
    port: int,
    database_url: str | None,
    home: str | None,
) -> None:
    """Print the latest governance metrics in Prometheus/OpenMetrics text format.

    Drift share and per-feature drift scores/PSI, SLA availability, error rate and
    latency quantiles, online performance and label coverage, rejected inference-log
    rows, the status of every check per model, undelivered alerts, audit-chain validity
    and per-consumer usage, all read from the latest check results in the store. Metric
    names are documented in governance_pipelines/operations/metrics_collection.py.

    With --serve, answers GET /metrics with freshly collected figures on every scrape
    (bound to 127.0.0.1 unless --host says otherwise; Ctrl-C stops it). Point
    Prometheus at it with a scrape config such as:

    \b
        scrape_configs:
          - job_name: governance
            scrape_interval: 60s   # figures change daily; each scrape re-verifies the audit chain
            static_configs:
              - targets: ["127.0.0.1:9464"]

    Datadog: the OpenMetrics check (openmetrics.d/conf.yaml) scrapes the same URL:

    \b
        instances:
          - openmetrics_endpoint: http://127.0.0.1:9464/metrics
            namespace: governance
            metrics: [".*"]

    Without --serve, a cron job can feed node_exporter's textfile collector (write, then
    rename, so the collector never reads half a file):

    \b
        D=/var/lib/node_exporter/textfile
        governance metrics --format prometheus > $D/governance.prom.tmp \\
          && mv $D/governance.prom.tmp $D/governance.prom
    """
    names = list(model_names) or None
    with open_store(database_url, home) as store:
        render = _renderer(store, names, output_format)
        page = render()  # fail fast (unknown model, broken store) before binding a port
        if not serve:
            click.echo(page, nl=False)
            return
        content_type = _content_type(output_format)
        try:
            server = make_server(host, port, render, content_type)
        except OSError as error:
            raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None
        bound_host, bound_port = server.server_address[:2]
        click.echo(
            f"Serving governance metrics ({output_format}) on "
            f"http://{_url_host(str(bound_host))}:{bound_port}{METRICS_PATH} (Ctrl-C to stop)"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
        finally:
            server.server_close()


def make_server(host: str, port: int, render: Callable[[], str], content_type: str) -> HTTPServer:
    """An HTTP server answering GET /metrics with `render()`; everything else is 404.

    Single-threaded on purpose: scrapes are rare and each one reads the store and
    verifies the audit chain, so serialising them bounds the load. A collection error
    (database down) is a 500 with the reason, and the server keeps running.
    """

    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_SECONDS
        server_version = "governance-metrics"

        def do_GET(self) -> None:  # http.server's naming contract
            if urlsplit(self.path).path != METRICS_PATH:
                self._reply(404, "text/plain; charset=utf-8", f"not found; try {METRICS_PATH}\n")
                return
            try:
                body = render()
            except Exception as error:  # report any failure, keep serving
                click.echo(f"governance metrics: collection failed: {error}", err=True)
                self._reply(500, "text/plain; charset=utf-8", f"collection failed: {error}\n")
                return
            self._reply(200, content_type, body)

        def _reply(self, status: int, kind: str, text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a scrape every minute would flood the terminal; errors are echoed."""

    class Server(HTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    return Server((host, port), Handler)


def _renderer(
    store: GovernanceStore, names: list[str] | None, output_format: str
) -> Callable[[], str]:
    """A function that collects and renders a fresh page, with clean CLI errors."""
    from sqlalchemy.exc import SQLAlchemyError

    from governance_pipelines.operations.metrics_collection import (
        UnknownModelError,
        collect_samples,
    )
    from governance_pipelines.operations.metrics_export import (
        render_openmetrics,
        render_prometheus,
    )
    from governance_pipelines.store.repository import StoreError

    render_text = render_openmetrics if output_format == "openmetrics" else render_prometheus

    def render() -> str:
        try:
            return render_text(collect_samples(store, names))
        except UnknownModelError as error:
            raise click.ClickException(str(error)) from None
        except (StoreError, SQLAlchemyError) as error:
            raise click.ClickException(f"cannot read the governance store: {error}") from None

    return render


def _content_type(output_format: str) -> str:
    from governance_pipelines.operations.metrics_export import (
        OPENMETRICS_CONTENT_TYPE,
        PROMETHEUS_CONTENT_TYPE,
    )

    return OPENMETRICS_CONTENT_TYPE if output_format == "openmetrics" else PROMETHEUS_CONTENT_TYPE


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
