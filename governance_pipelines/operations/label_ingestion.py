"""Ingesting late ground truth: one label per logged request, appended once.

Why: the online metric (`model_performance`) and A/B evidence need labels, which arrive
weeks after the request from systems that know nothing of the model. A label is its own
append-only record (`inference_labels`), never an update of the request, so a day already
sealed and reported on stays as it was. A file of labels is judged row by row:

====================  ===================================================================
reason                the row...
====================  ===================================================================
missing_metadata      has a null or empty request_id
duplicate_request_id  repeats a request_id seen earlier in the file (the first is kept)
bad_label             has a label that is not a finite number, or not 0/1 for a request
                      of a classification model
bad_timestamp         has a labeled_at that is not a date/time (a null one means now)
unknown_request       names a request that is not in the inference log (log it first)
wrong_model           names a request of another model than `--model`
conflicting_label     names a request that already has a different label: labels are
                      append-only, so a correction is refused, not written
====================  ===================================================================

A request that already has the same label is skipped as `already_labelled`: sending a
file twice adds nothing. The label's model is the one its request was logged for.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from governance_pipelines.canonical import file_sha256
from governance_pipelines.operations.feature_payloads import reals, shown
from governance_pipelines.operations.ingestion_report import IngestionReport, Rejections
from governance_pipelines.operations.log_files import (
    LogIngestionError,
    read_table,
    require_columns,
)
from governance_pipelines.operations.log_ingestion import normalised
from governance_pipelines.store.log_appends import LogAppend, LoggedRequest

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig
    from governance_pipelines.store import GovernanceStore

__all__ = ["LABELS_INGESTED", "LABEL_REASONS", "ingest_labels_file"]

LABELS_INGESTED = "labels.ingested"
LABEL_REASONS: tuple[str, ...] = (
    "missing_metadata",
    "duplicate_request_id",
    "bad_label",
    "bad_timestamp",
    "unknown_request",
    "wrong_model",
    "conflicting_label",
)
LABEL_COLUMNS = ("request_id", "label")
OPTIONAL_LABEL_COLUMNS = ("labeled_at",)


def ingest_labels_file(
    store: GovernanceStore,
    config: GovernanceConfig,
    path: str | os.PathLike[str],
    *,
    model_name: str | None = None,
    file_format: str | None = None,
    actor: str = "cli",
    now: datetime | None = None,
) -> IngestionReport:
    """Validate a file of labels and append the new ones atomically (see the module doc).

    `now` is the `labeled_at` of rows that give none (default: the current UTC time).
    """
    if model_name is not None and model_name not in _model_names(store, config):
        raise LogIngestionError(
            f"no model named {model_name!r} in governance.yaml or the store (known: "
            f"{', '.join(sorted(_model_names(store, config))) or 'none'}); check --model"
        )
    frame, chosen = read_table(path, file_format, text_columns=("request_id",))
    ignored = require_columns(frame, path, LABEL_COLUMNS, OPTIONAL_LABEL_COLUMNS, "a labels file")
    frame = normalised(frame, id_columns=("request_id",))
    rejections = Rejections(len(frame), LABEL_REASONS)
    labels, labeled_at = _check_rows(frame, rejections, now or datetime.now(UTC))
    candidates = np.flatnonzero(rejections.open())
    ids = [str(frame["request_id"].iat[i]) for i in candidates]
    tasks = {m.name: m.training.task for m in config.models}
    base = IngestionReport(
        kind="labels",
        file=str(Path(path).resolve()),
        file_format=chosen,
        sha256=file_sha256(path) or "",
        rows=len(frame),
        appended=0,
        skipped=0,
        skip_reason="already_labelled",
        counts_by_reason={},
        rejected=frame.iloc[0:0],
        ignored_columns=ignored,
    )

    def decide(found: Mapping[str, LoggedRequest]) -> tuple[LogAppend, IngestionReport]:
        judged = rejections.copy()  # pure: the store may call this again after a lock
        rows: list[dict[str, Any]] = []
        skipped = 0
        for position, request_id in zip(candidates, ids, strict=True):
            logged = found.get(request_id)
            label = float(labels[position])
            problem = _refusal(logged, request_id, label, model_name, tasks)
            if problem is not None:
                judged.reject(int(position), *problem)
            elif logged is not None and logged.label is not None:
                skipped += 1  # the same label again
            elif logged is not None:
                rows.append(
                    {
                        "request_id": request_id,
                        "model_name": logged.model_name,
                        "label": label,
                        "labeled_at": labeled_at[position],
                    }
                )
        models = tuple(sorted({row["model_name"] for row in rows}))
        report = replace(
            base,
            appended=len(rows),
            skipped=skipped,
            counts_by_reason=judged.counts(),
            rejected=judged.frame(frame),
            models=models if model_name is None else (model_name,),
        )
        subject = model_name or (models[0] if len(models) == 1 else None)
        return LogAppend(labels=rows, model_name=subject, payload=report.payload()), report

    report, event = store.append_to_inference_log(ids, decide, actor=actor, action=LABELS_INGESTED)
    return replace(report, audit_seq=event.seq)


def _model_names(store: GovernanceStore, config: GovernanceConfig) -> set[str]:
    return {m.name for m in config.models} | set(store.model_names())


def _check_rows(
    frame: pd.DataFrame, rejections: Rejections, now: datetime
) -> tuple[np.ndarray, list[datetime | None]]:
    """The checks that need no store: identity, duplicates, the label, the timestamp.

    Returns the labels as floats and each row's `labeled_at` (UTC; `now` when none given).
    """
    ids, label_cells = frame["request_id"], frame["label"]
    blank = (ids.isna() | ids.astype(str).str.strip().eq("")).to_numpy()
    labels = reals(label_cells)
    given = frame["labeled_at"] if "labeled_at" in frame else pd.Series(None, index=frame.index)
    parsed = _utc(given)
    rejections.reject_where(blank, "missing_metadata", lambda i: "null or empty request_id")
    rejections.reject_where(
        ids.duplicated(keep="first").to_numpy() & ~blank,
        "duplicate_request_id",
        lambda i: f"request_id {shown(ids.iat[i])} appears earlier in the file",
    )
    rejections.reject_where(
        ~np.isfinite(labels),
        "bad_label",
        lambda i: f"label {shown(label_cells.iat[i])} is not a finite number",
    )
    rejections.reject_where(
        (given.notna() & parsed.isna()).to_numpy(),
        "bad_timestamp",
        lambda i: f"labeled_at {shown(given.iat[i])} is not a date/time",
    )
    labeled_at = [None if pd.isna(t) else t.to_pydatetime() for t in parsed]
    return labels, [now if t is None else t for t in labeled_at]


def _refusal(
    logged: LoggedRequest | None,
    request_id: str,
    label: float,
    model_name: str | None,
    tasks: Mapping[str, str],
) -> tuple[str, str] | None:
    """Why the store's state refuses this label (reason, detail), or None."""
    if logged is None:
        return (
            "unknown_request",
            f"request_id {request_id!r} is not in the inference log; log the request first "
            "(governance log ingest), then send its label",
        )
    if model_name is not None and logged.model_name != model_name:
        return (
            "wrong_model",
            f"request {request_id!r} was logged for {logged.model_name!r}, not {model_name!r}",
        )
    if tasks.get(logged.model_name) == "classification" and label not in (0.0, 1.0):
        return (
            "bad_label",
            f"label {label!r} is not 0 or 1 ({logged.model_name} is a classification model)",
        )
    if logged.label is not None and logged.label != label:
        return (
            "conflicting_label",
            f"request {request_id!r} already has the label {logged.label!r}, this file says "
            f"{label!r}; labels are append-only, so a correction is not written",
        )
    return None


def _utc(values: pd.Series) -> pd.Series:
    """Timestamps as UTC; naive values are UTC (the log's contract)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(values):
        return values.dt.tz_localize("UTC")
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
