"""Ingesting inference logs from teams that serve their models themselves.

Why: monitoring, usage, cost and A/B evidence all read the inference log, and a team with
its own serving stack has no other way in. Its file is judged by the same rules the daily
`inference_log` asset applies (`validate_inference_batch`, with the model's declared
features, registered versions and categorical inputs), plus what the store's columns need:

====================  ===================================================================
reason                the row... (after the validator's reasons, see `ingestion.py`)
====================  ===================================================================
wrong_model           names another model than the one being ingested (`--model`)
value_too_long        has a request_id or consumer_team longer than 64 characters
bad_label             carries a label that is not a finite number (0/1 for a classifier),
                      or a label_at that is not a date/time
====================  ===================================================================

The valid rows are appended in one transaction with the audit event that records the
ingestion, idempotently on request_id: rows already in the log are skipped and counted as
`already_logged` (so sending a file twice adds nothing, and a file that overlaps the last one
adds only what is new). Rejected rows are reported by reason with their row numbers; they
are never silently dropped. Labels (`governance labels ingest`) are `label_ingestion.py`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from governance_pipelines.canonical import file_sha256
from governance_pipelines.development.run_record import RunRecord
from governance_pipelines.operations.feature_payloads import shown
from governance_pipelines.operations.ingestion import (
    LOG_COLUMNS,
    REASONS,
    IngestionResult,
    validate_inference_batch,
)
from governance_pipelines.operations.ingestion_report import IngestionReport, Rejections
from governance_pipelines.operations.log_files import (
    LogIngestionError,
    read_table,
    require_columns,
)
from governance_pipelines.store.log_appends import LogAppend, LoggedRequest

if TYPE_CHECKING:
    from governance_pipelines.config import GovernanceConfig, ModelConfig
    from governance_pipelines.store import GovernanceStore

__all__ = [
    "INFERENCE_INGESTED",
    "INFERENCE_REASONS",
    "IngestionReport",
    "ingest_inference_file",
]

INFERENCE_INGESTED = "inference.ingested"
INFERENCE_REASONS: tuple[str, ...] = (*REASONS, "wrong_model", "value_too_long", "bad_label")
OPTIONAL_LOG_COLUMNS = ("label", "label_at")
REQUIRED_LOG_COLUMNS = tuple(c for c in LOG_COLUMNS if c not in OPTIONAL_LOG_COLUMNS)
NAME_LIMIT = 64  # inference_log.request_id / consumer_team
_TEXT_COLUMNS = ("request_id", "model_name", "consumer_team", "status", "features")


def ingest_inference_file(
    store: GovernanceStore,
    config: GovernanceConfig,
    model_name: str,
    path: str | os.PathLike[str],
    *,
    file_format: str | None = None,
    actor: str = "cli",
) -> IngestionReport:
    """Validate a file of requests of one model and append the valid, new ones atomically."""
    model = declared_model(config, model_name)
    if model.monitoring.inference_log_url is not None:
        raise LogIngestionError(
            f"{model.name} reads its inference log from monitoring.inference_log_url, not from "
            "the governance store: write these rows into that database (same columns), or "
            "remove the setting to keep the log in the store"
        )
    frame, chosen = read_table(path, file_format, text_columns=_TEXT_COLUMNS)
    ignored = require_columns(
        frame, path, REQUIRED_LOG_COLUMNS, OPTIONAL_LOG_COLUMNS, "an inference-log file"
    )
    frame = normalised(frame, id_columns=("request_id", "model_name", "consumer_team", "status"))
    frame["features"] = frame["features"].map(_payload_text)
    rejections, valid = _judged(store, model, frame)
    requests, labels = _request_rows(frame, valid)
    base = IngestionReport(
        kind="inference",
        file=str(Path(path).resolve()),
        file_format=chosen,
        sha256=file_sha256(path) or "",
        rows=len(frame),
        appended=0,
        skipped=0,
        skip_reason="already_logged",
        counts_by_reason=rejections.counts(),
        rejected=rejections.frame(frame),
        models=(model.name,),
        ignored_columns=ignored,
    )

    def decide(found: Mapping[str, LoggedRequest]) -> tuple[LogAppend, IngestionReport]:
        new = [row for row in requests if row["request_id"] not in found]
        new_ids = {row["request_id"] for row in new}
        days = sorted({row["requested_at"].date().isoformat() for row in new})
        report = replace(
            base, appended=len(new), skipped=len(requests) - len(new), days=tuple(days)
        )
        append = LogAppend(
            requests=new,
            labels=[label for label in labels if label["request_id"] in new_ids],
            model_name=model.name,
            payload=report.payload(),
        )
        return append, report

    report, event = store.append_to_inference_log(
        [row["request_id"] for row in requests], decide, actor=actor, action=INFERENCE_INGESTED
    )
    return replace(report, audit_seq=event.seq)


def _judged(
    store: GovernanceStore, model: ModelConfig, frame: pd.DataFrame
) -> tuple[Rejections, pd.DataFrame]:
    """The daily asset's rules (declared features, registered versions, the latest version's
    categorical inputs, the task), then the store's; returns rejections and valid rows."""
    versions = store.list_model_versions(model.name)
    result: IngestionResult = validate_inference_batch(
        frame,
        features=list(model.data.features),
        known_versions={v.version for v in versions},
        categorical=(
            set(RunRecord.from_dict(versions[-1].record).features.categorical)
            if versions
            else set()
        ),
        task=model.training.task,
    )
    rejections = Rejections(len(frame), INFERENCE_REASONS)
    for position, reason, detail in zip(
        result.rejected.index, result.rejected["reason"], result.rejected["detail"], strict=True
    ):
        rejections.reject(int(position), reason, detail)
    _check_store_rules(frame, result.valid, rejections, model)
    return rejections, result.valid.loc[rejections.open()[result.valid.index.to_numpy()]]


def declared_model(config: GovernanceConfig, name: str) -> ModelConfig:
    try:
        return config.model(name)
    except KeyError as error:
        raise LogIngestionError(str(error.args[0])) from None


def normalised(frame: pd.DataFrame, *, id_columns: Sequence[str]) -> pd.DataFrame:
    """Identifiers as text (a JSON or parquet id `7` is the request "7"), timestamps given as
    bare numbers made text (an epoch number's unit is a guess, so it fails as a timestamp
    instead of landing in 1970)."""
    out = frame.copy()
    for name in id_columns:
        if name in out.columns:
            out[name] = out[name].map(_as_text)
    for name in ("requested_at", "label_at", "labeled_at"):
        if name in out.columns and pd.api.types.is_numeric_dtype(out[name]):
            out[name] = out[name].map(lambda v: None if pd.isna(v) else str(v))
        elif name in out.columns and out[name].dtype == object:
            out[name] = out[name].map(_number_as_text)
    return out


def _as_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, bool | dict | list):
        return value  # left for the validator to name
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value)


def _number_as_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return value
    return None if np.isnan(float(value)) else str(value)


def _payload_text(value: Any) -> Any:
    """A features payload given as a JSON object (JSON lines, parquet struct) as JSON text."""
    if isinstance(value, dict):
        return json.dumps(value, default=_json_scalar)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return value


def _json_scalar(value: Any) -> Any:
    """numpy scalars as their Python value, anything else (a date) as its text."""
    return value.item() if isinstance(value, np.generic) else str(value)


def _check_store_rules(
    frame: pd.DataFrame, valid: pd.DataFrame, rejections: Rejections, model: ModelConfig
) -> None:
    """wrong_model, value_too_long, bad_label: what the validator leaves to the writer.

    Vectorised over the valid rows; details are written only for the rows rejected.
    """
    sent = frame.loc[valid.index]
    wrong_model = (sent["model_name"] != model.name).to_numpy()
    too_long = np.zeros(len(sent), bool)
    for name in ("request_id", "consumer_team"):
        too_long |= (sent[name].astype(str).str.len() > NAME_LIMIT).to_numpy()
    classifier = model.training.task == "classification"
    label = valid["label"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(label) | (classifier & ~np.isin(label, (0.0, 1.0)))
    bad_label = (
        sent["label"].notna().to_numpy() & bad if "label" in sent else np.zeros(len(sent), bool)
    )
    bad_label_at = (
        (sent["label_at"].notna() & valid["label_at"].isna()).to_numpy()
        if "label_at" in sent
        else np.zeros(len(sent), bool)
    )
    expected = "0 or 1" if classifier else "a finite number"
    for i in np.flatnonzero(wrong_model | too_long | bad_label | bad_label_at):
        row, position = sent.iloc[i], int(sent.index[i])
        if wrong_model[i]:
            rejections.reject(
                position,
                "wrong_model",
                f"model_name {shown(row['model_name'])} is not {model.name!r}, the model "
                "being ingested; ingest each model's rows with its own --model",
            )
        elif too_long[i]:
            names = [c for c in ("request_id", "consumer_team") if len(str(row[c])) > NAME_LIMIT]
            rejections.reject(
                position,
                "value_too_long",
                f"{' and '.join(names)} longer than {NAME_LIMIT} characters (the log's limit)",
            )
        elif bad_label[i]:
            rejections.reject(
                position, "bad_label", f"label {shown(row['label'])} is not {expected}"
            )
        else:
            rejections.reject(
                position, "bad_label", f"label_at {shown(row['label_at'])} is not a date/time"
            )


def _request_rows(
    frame: pd.DataFrame, valid: pd.DataFrame
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The store's rows: typed values from the validator, the features payload as sent.

    Built column by column (a million rows through `DataFrame.to_dict` takes seconds).
    """
    requested_at = [t.to_pydatetime() for t in valid["requested_at"]]
    columns = {
        "request_id": valid["request_id"].tolist(),
        "model_name": valid["model_name"].tolist(),
        "model_version": valid["model_version"].astype("int64").tolist(),
        "requested_at": requested_at,
        "consumer_team": valid["consumer_team"].tolist(),
        "latency_ms": _floats(valid["latency_ms"]),
        "status": valid["status"].tolist(),
        "features": frame.loc[valid.index, "features"].tolist(),
        "prediction": _floats(valid["prediction"]),
    }
    requests = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    labels = [
        {
            "request_id": request["request_id"],
            "model_name": request["model_name"],
            "label": label,
            # A label sent with its request arrived with it.
            "labeled_at": request["requested_at"]
            if pd.isna(label_at)
            else label_at.to_pydatetime(),
        }
        for request, label, label_at in zip(
            requests, _floats(valid["label"]), valid["label_at"], strict=True
        )
        if label is not None
    ]
    return requests, labels


def _floats(values: pd.Series) -> list[float | None]:
    return [None if v != v else v for v in values.to_numpy(dtype=float).tolist()]  # NaN != NaN
