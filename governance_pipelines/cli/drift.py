"""`governance drift REFERENCE CURRENT`: compare two parquet/CSV files for data drift.

Start-up is kept lean on purpose (no dagster, pandas, sklearn or scipy on the default
path): files are read with pyarrow, parquet column by column in record batches (strings
stay dictionary codes), and each reference column is reduced to its statistics only when
that column is compared (``SourceReference``), so one column pair is resident at a time.
CSV is not columnar, so a CSV current file is read whole; use parquet for bounded memory.

Exit codes: 0 when drift was computed (whatever the verdict), 1 with ``--fail-on-drift``
when data-set drift was detected, 2 for unusable input (one line naming file/column + fix).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

_PROFILES = ("auto", "evidently", "vertex", "sagemaker")
EXIT_DRIFT = 1
EXIT_INPUT = 2


class _InputProblem(Exception):
    """An input error to be reported as one line with exit code 2."""


def _open(path: Path) -> Any:
    """A column source for a parquet or CSV file, validated for existence and emptiness."""
    from governance_pipelines.operations.drift_sources import FrameSource, ParquetSource

    if not path.exists():
        raise _InputProblem(f"file not found: {path}; check the path")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            rows = pq.ParquetFile(path).metadata.num_rows
            source: Any = ParquetSource(path)
        elif suffix == ".csv":
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(path)
            rows = table.num_rows
            source = FrameSource(table)
        else:
            raise _InputProblem(
                f"unknown file extension '{path.suffix}' for {path}; use .parquet, .pq or .csv"
            )
        names = source.column_names()
    except _InputProblem:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError subclasses
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _InputProblem(
            f"cannot read {path}: {first_line}; is it a valid {suffix[1:]} file?"
        ) from exc
    if rows == 0 or not names:
        raise _InputProblem(f"{path} has no rows; drift needs a non-empty file")
    return source


def _table(report: Any) -> str:
    header = (
        "column",
        "kind",
        "method",
        "statistic",
        "threshold",
        "drift",
        "p_value",
        "effect",
        "psi",
    )
    rows = [header]
    for c in report.columns:
        p_value = "-" if c.p_value is None else f"{c.p_value:.4g}"
        rows.append(
            (
                c.column,
                c.kind,
                c.method,
                f"{c.statistic:.6g}",
                f"{c.threshold:g}",
                "DRIFT" if c.drifted else "ok",
                p_value,
                f"{c.effect_size_name}={c.effect_size:.4g}",
                f"{c.psi:.4g} ({c.psi_band})",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    drifted = sum(c.drifted for c in report.columns)
    lines.append(
        f"\n{drifted}/{len(report.columns)} columns drifted (share {report.drift_share:.3f}, "
        f"threshold {report.share_threshold:g}): {report.verdict} [profile {report.profile}]"
    )
    if report.not_assessed and report.enough_data:
        lines.append(
            f"not assessed (fewer than {report.min_sample_size} current values): "
            + ", ".join(report.not_assessed)
        )
    return "\n".join(lines)


@click.command(name="drift")
@click.argument("reference", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("current", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--profile",
    type=click.Choice(_PROFILES),
    default="auto",
    show_default=True,
    help="Decision rules: auto/evidently (Evidently 0.7 defaults), vertex or sagemaker.",
)
@click.option(
    "--categorical",
    default="",
    metavar="COL,…",
    help="Comma-separated columns to treat as categorical (strings/bools always are).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("table", "json")),
    default="table",
    show_default=True,
)
@click.option(
    "--fail-on-drift",
    is_flag=True,
    help="Exit with code 1 when data-set drift is detected (default: exit 0 whenever computed).",
)
def drift(
    reference: Path,
    current: Path,
    profile: str,
    categorical: str,
    output_format: str,
    fail_on_drift: bool,
) -> None:
    """Compare CURRENT against REFERENCE (parquet or CSV) for data drift, per column.

    Exit codes: 0 computed, 1 drift with --fail-on-drift, 2 unusable input.
    """
    from governance_pipelines.operations.drift import DriftPolicy, compute_drift
    from governance_pipelines.operations.drift_inputs import DriftInputError
    from governance_pipelines.operations.drift_reference import SourceReference

    wanted = [c.strip() for c in categorical.split(",") if c.strip()]
    try:
        ref_source = _open(reference)
        cur_source = _open(current)
        ref_columns = ref_source.column_names()
        cur_columns = set(cur_source.column_names())
        missing = [c for c in ref_columns if c not in cur_columns]
        extra = sorted(cur_columns - set(ref_columns))
        if missing or extra:
            raise _InputProblem(
                f"columns differ: missing in {current}: {', '.join(missing) or '-'}; "
                f"only in {current}: {', '.join(extra) or '-'}; compare files with the same columns"
            )
        unknown = [c for c in wanted if c not in ref_columns]
        if unknown:
            raise _InputProblem(
                f"--categorical column(s) {', '.join(unknown)} not in {reference}; "
                f"available: {', '.join(ref_columns)}"
            )
        lazy_reference = SourceReference.open(ref_source, categorical=wanted)
        report = compute_drift(lazy_reference, cur_source, DriftPolicy(profile=profile))
    except (_InputProblem, DriftInputError) as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), allow_nan=True))
    else:
        click.echo(_table(report))
    if fail_on_drift and report.dataset_drift:
        raise SystemExit(EXIT_DRIFT)
