"""`governance log ingest` and `governance labels ingest`: traffic from teams' own serving.

The work is `operations/log_ingestion.py` and `operations/label_ingestion.py`; this module
parses options, prints the report and chooses the exit code: 0 when every valid row is in
the log (rejected rows are reported, and `--strict` makes them an exit 1), 1 when the file
cannot be read as the contract's table (the message names the file, the columns and the
fix). Heavy imports stay inside the commands so `governance --help` stays instant.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from governance_pipelines.cli._common import open_store, store_options
from governance_pipelines.cli._text import shown

if TYPE_CHECKING:
    from governance_pipelines.operations.ingestion_report import IngestionReport

F = TypeVar("F", bound=Callable[..., Any])
_FORMATS = ("parquet", "csv", "jsonl")  # = log_files.FORMATS, kept import-free
_OUTPUT_SUFFIXES = (".parquet", ".pq", ".csv", ".jsonl", ".ndjson", ".json")


def _ingest_options(function: F) -> F:
    """FILE and the options both ingest commands share."""
    for option in reversed(
        (
            click.argument("file", type=click.Path()),
            click.option(
                "--format",
                "file_format",
                type=click.Choice(_FORMATS),
                help="The file's format [default: from its suffix: .parquet, .csv, .jsonl].",
            ),
            click.option(
                "--rejected-out",
                type=click.Path(dir_okay=False),
                help="Write every rejected row (row number, reason, detail, its columns) to "
                "this .parquet, .csv or .jsonl file.",
            ),
            click.option("--strict", is_flag=True, help="Exit 1 if any row was rejected."),
            click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
            click.option(
                "--user",
                default="cli",
                show_default=True,
                help="Recorded as the actor of the ingestion's audit event.",
            ),
            click.option(
                "--config",
                "config_path",
                type=click.Path(dir_okay=False),
                help="Governance file [default: GOVERNANCE_CONFIG, ./governance.yaml, else the "
                "packaged demo].",
            ),
            store_options,
        )
    ):
        function = option(function)
    return function


@click.group()
def log() -> None:
    """Write the inference log from files (teams that serve their models themselves)."""


@log.command("ingest")
@click.option("--model", "model_name", required=True, help="The model the requests are for.")
@_ingest_options
def log_ingest(model_name: str, **options: Any) -> None:
    """Append FILE's valid, new requests to the inference log.

    FILE has the columns request_id, model_name, model_version, requested_at,
    consumer_team, latency_ms, status, features (JSON object of the model's declared
    features) and prediction, optionally label and label_at. Rows whose request_id is
    already logged are skipped, so sending a file twice adds nothing. Atomic: every valid
    row is appended, or none is.
    """
    from governance_pipelines.operations.log_ingestion import ingest_inference_file

    _run(
        lambda store, config, file, file_format, user: ingest_inference_file(
            store, config, model_name, file, file_format=file_format, actor=user
        ),
        options,
    )


@click.group()
def labels() -> None:
    """Append late ground truth to the inference log's requests from files."""


@labels.command("ingest")
@click.option("--model", "model_name", help="Only accept labels of this model's requests.")
@_ingest_options
def labels_ingest(model_name: str | None, **options: Any) -> None:
    """Append FILE's valid, new labels (one per logged request).

    FILE has the columns request_id and label (a finite number; 0 or 1 for a classifier),
    optionally labeled_at (default: now, UTC). A label for a request not in the log is
    rejected (unknown_request); the same label again is skipped; a different label for a
    request already labelled is rejected (conflicting_label): labels are append-only.
    """
    from governance_pipelines.operations.label_ingestion import ingest_labels_file

    _run(
        lambda store, config, file, file_format, user: ingest_labels_file(
            store, config, file, model_name=model_name, file_format=file_format, actor=user
        ),
        options,
    )


def _run(ingest: Callable[..., IngestionReport], options: dict[str, Any]) -> None:
    """Open config and store, ingest, report, write rejected rows, choose the exit code."""
    from governance_pipelines.config import load_config

    rejected_out = options["rejected_out"]
    if rejected_out is not None and Path(rejected_out).suffix.lower() not in _OUTPUT_SUFFIXES:
        raise click.ClickException(
            f"--rejected-out {rejected_out}: name the file *.parquet, *.csv or *.jsonl, so the "
            "rejected rows can be written in that format"
        )
    with _clean_errors():
        config = load_config(options["config_path"])
        with open_store(options["database_url"], options["home"]) as store:
            report = ingest(store, config, options["file"], options["file_format"], options["user"])
        if rejected_out is not None and report.rejected_count:
            from governance_pipelines.operations.log_files import write_table

            write_table(report.rejected, rejected_out)
    if options["as_json"]:
        click.echo(json.dumps({**report.to_dict(), "rejected_out": rejected_out}, default=str))
    else:
        _echo_report(report, rejected_out)
    if options["strict"] and report.rejected_count:
        click.echo(f"STRICT: {report.rejected_count} row(s) rejected", err=True)
        raise SystemExit(1)


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Unreadable files, undeclared models and store refusals: `Error: …`, exit 1."""
    from governance_pipelines.config import ConfigError
    from governance_pipelines.store import StoreError

    try:
        yield
    except (ValueError, ConfigError, StoreError, OSError) as error:
        raise click.ClickException(str(error)) from None


def _echo_report(report: IngestionReport, rejected_out: str | None) -> None:
    what = "requests" if report.kind == "inference" else "labels"
    click.echo(
        f"{report.file} ({report.file_format}, sha256 {report.sha256[:12]}…): {report.rows} {what}"
    )
    rows = [
        ("appended", report.appended),
        (report.skip_reason.replace("_", " "), report.skipped),
        ("rejected", report.rejected_count),
    ]
    for label, count in rows:
        click.echo(f"  {label:<18}{count:>10}")
    for reason, count in report.counts_by_reason.items():
        if count:
            click.echo(f"    {reason:<20}{count:>6}")
    for example in report.examples():
        click.echo(f"  e.g. row {example['row']} ({example['reason']}): {shown(example['detail'])}")
    if report.rejected_count:
        click.echo(
            f"rejected rows written to {rejected_out}"
            if rejected_out
            else "pass --rejected-out FILE to keep every rejected row with its reason"
        )
    if report.ignored_columns:
        click.echo(f"ignored columns: {', '.join(map(shown, report.ignored_columns))}")
    if report.kind == "inference" and report.days:
        days = report.days[0] if len(report.days) == 1 else f"{report.days[0]} … {report.days[-1]}"
        click.echo(
            f"new requests on {days} (UTC): each day's {report.models[0]}/inference_log "
            "partition reads them when it runs; re-run days already materialized"
        )
    click.echo(f"recorded as audit event #{report.audit_seq}")
