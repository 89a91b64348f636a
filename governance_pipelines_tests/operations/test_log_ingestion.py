"""Ingesting inference logs and labels from files, on a real store (SQLite, and PostgreSQL
when configured): every format, idempotence, atomicity, each rejection reason, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from governance_pipelines.config import GovernanceConfig
from governance_pipelines.operations.ingestion import REASONS
from governance_pipelines.operations.label_ingestion import (
    LABEL_REASONS,
    LABELS_INGESTED,
    ingest_labels_file,
)
from governance_pipelines.operations.log_files import LogFileError, LogIngestionError
from governance_pipelines.operations.log_ingestion import (
    INFERENCE_INGESTED,
    INFERENCE_REASONS,
    ingest_inference_file,
)
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.inference_log import read_inference_log
from governance_pipelines.store.log_appends import LogAppendError
from governance_pipelines.store.schema import inference_labels
from governance_pipelines_tests.operations import log_fixtures as fx


@pytest.fixture(scope="module")
def config() -> GovernanceConfig:
    return fx.config()


@pytest.fixture
def credit_store(store: GovernanceStore) -> GovernanceStore:
    """The shared `store` fixture (SQLite, and PostgreSQL when configured) with credit v1."""
    fx.register_version(store, "credit")
    return store


def logged(store: GovernanceStore, model: str = "credit") -> pd.DataFrame:
    return read_inference_log(store.engine, model)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_each_format_is_appended_once_and_reads_back(
    credit_store: GovernanceStore, config: GovernanceConfig, tmp_path: Path, suffix: str
) -> None:
    sent = fx.requests(20)
    sent.loc[3, ["status", "prediction"]] = ["error", None]  # a failed request has none
    path = fx.write(sent, tmp_path / f"requests{suffix}")
    report = ingest_inference_file(credit_store, config, "credit", path, actor="ci-bot")
    assert (report.appended, report.skipped, report.rejected_count) == (20, 0, 0)
    assert report.file_format == {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}[suffix]
    assert report.days == ("2026-03-01",)
    back = logged(credit_store).set_index("request_id")
    assert len(back) == 20
    assert back.loc["req-00004", "prediction"] == pytest.approx(0.04)
    assert back.loc["req-00004", "requested_at"] == pd.Timestamp("2026-03-01 09:04", tz="UTC")
    assert back.loc["req-00004", "consumer_team"] == "collections"
    assert json.loads(back.loc["req-00004", "features"]) == json.loads(sent.loc[4, "features"])
    assert pd.isna(back.loc["req-00003", "prediction"])

    again = ingest_inference_file(credit_store, config, "credit", path, actor="ci-bot")
    assert (again.appended, again.skipped, again.rejected_count) == (0, 20, 0)
    assert len(logged(credit_store)) == 20
    first, second = fx.events(credit_store, INFERENCE_INGESTED)
    assert first.actor == "ci-bot"
    assert first.model_name == "credit"
    assert first.payload["sha256"] == report.sha256 == again.sha256
    assert (first.payload["appended"], second.payload["appended"]) == (20, 0)
    assert second.payload["skipped"] == {"already_logged": 20}
    assert credit_store.verify_audit_chain().ok


def test_an_overlapping_file_adds_only_what_is_new(
    credit_store: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    ingest_inference_file(
        credit_store, config, "credit", fx.write(fx.requests(10), tmp_path / "a.csv")
    )
    report = ingest_inference_file(
        credit_store, config, "credit", fx.write(fx.requests(10, start=5), tmp_path / "b.csv")
    )
    assert (report.appended, report.skipped) == (5, 5)
    assert len(logged(credit_store)) == 15


def test_every_rejection_reason_is_counted_with_its_row(
    credit_store: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    bad = {
        "missing_metadata": {"consumer_team": ""},
        "duplicate_request_id": {"request_id": "req-00000"},
        "bad_timestamp": {"requested_at": "yesterday"},
        "unknown_version": {"model_version": 7},
        "bad_status": {"status": "timeout"},
        "bad_latency": {"latency_ms": -3.0},
        "bad_prediction": {"prediction": 1.5},
        "unparsable_features": {"features": "{income: 1"},
        "missing_features": {"features": json.dumps({"income": 1.0, "age": 3})},
        "wrong_type": {"features": json.dumps({"income": "many", "age": 3, "region": "x"})},
        "wrong_model": {"model_name": "housing"},
        "value_too_long": {"consumer_team": "t" * 65},
        "bad_label": {"label": 0.5},
    }
    assert set(bad) == set(INFERENCE_REASONS)
    rows = [fx.request(0)] + [fx.request(i + 1, **o) for i, o in enumerate(bad.values())]
    rows.append(fx.request(99, label=1.0, label_at="2026-04-01T00:00:00+02:00"))
    path = fx.write(pd.DataFrame(rows), tmp_path / "mixed.csv")
    report = ingest_inference_file(credit_store, config, "credit", path)
    assert report.counts_by_reason == dict.fromkeys(INFERENCE_REASONS, 1)
    assert list(report.counts_by_reason)[: len(REASONS)] == list(REASONS)
    by_reason = dict(zip(report.rejected["reason"], report.rejected["row"], strict=True))
    assert by_reason == {reason: i + 2 for i, reason in enumerate(bad)}  # 1-based file rows
    assert report.appended == 2
    assert "is not 0 or 1" in report.rejected.set_index("reason").loc["bad_label", "detail"]
    labelled = logged(credit_store).set_index("request_id").loc["req-00099"]
    assert labelled["label"] == 1.0
    assert labelled["label_at"] == pd.Timestamp("2026-03-31 22:00", tz="UTC")
    assert [e["row"] for e in report.examples()] == sorted(e["row"] for e in report.examples())
    event = fx.events(credit_store, INFERENCE_INGESTED)[-1]
    assert event.payload["rejected"] == 13
    assert event.payload["rejected_by_reason"]["wrong_model"] == 1


def test_ids_stay_text_and_payloads_may_be_objects(
    credit_store: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    """JSON lines: a numeric id is the request "7"; a features object is its JSON text; an
    epoch number is not guessed into 1970, it is a bad timestamp."""
    lines = [
        {**fx.request(1), "request_id": 7, "features": {"income": 1.5, "age": 2, "region": "n"}},
        {**fx.request(2), "requested_at": 1772355600},
        {**fx.request(3), "requested_at": "2026-03-01 10:00"},  # naive: UTC
        {**fx.request(4), "requested_at": "2026-03-01T12:00:00+02:00"},
    ]
    path = tmp_path / "ids.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    csv_path = fx.write(fx.requests(1, start=30).assign(request_id="007"), tmp_path / "ids.csv")
    report = ingest_inference_file(credit_store, config, "credit", path)
    ingest_inference_file(credit_store, config, "credit", csv_path)
    assert dict(zip(report.rejected["row"], report.rejected["reason"], strict=True)) == {
        2: "bad_timestamp"
    }
    back = logged(credit_store).set_index("request_id")
    assert {"7", "007"} <= set(back.index)
    assert json.loads(back.loc["7", "features"]) == {"income": 1.5, "age": 2, "region": "n"}
    assert back.loc["req-00003", "requested_at"] == pd.Timestamp("2026-03-01 10:00", tz="UTC")
    assert back.loc["req-00004", "requested_at"] == pd.Timestamp("2026-03-01 10:00", tz="UTC")


def test_parquet_structs_and_header_only_files(
    credit_store: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    sent = fx.requests(2)
    sent["features"] = [
        {"income": 5.0, "age": 3.0, "region": "n"},
        {"income": None, "age": 1.0, "region": "s"},
    ]
    report = ingest_inference_file(
        credit_store, config, "credit", fx.write(sent, tmp_path / "struct.parquet")
    )
    assert report.appended == 2
    payloads = logged(credit_store)["features"].map(json.loads).tolist()
    assert payloads[1] == {"income": None, "age": 1.0, "region": "s"}
    header = fx.write(fx.requests(1).iloc[0:0], tmp_path / "header.csv")
    empty = ingest_inference_file(credit_store, config, "credit", header)
    assert (empty.rows, empty.appended, empty.rejected_count) == (0, 0, 0)
    assert fx.events(credit_store, INFERENCE_INGESTED)[-1].payload["rows"] == 0


def test_regression_predictions_and_labels_are_any_finite_number(
    store: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    fx.register_version(store, "housing")
    sent = fx.requests(3).assign(model_name="housing", prediction=[250_000.0, 1.5, -2.0])
    sent["label"] = [260_000.0, np.nan, np.inf]
    report = ingest_inference_file(store, config, "housing", fx.write(sent, tmp_path / "h.parquet"))
    assert report.appended == 2
    assert report.counts_by_reason["bad_label"] == 1
    assert logged(store, "housing")["label"].tolist()[:1] == [260_000.0]


def test_a_database_error_midway_leaves_nothing(
    credit_store: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    """The requests insert succeeds, the labels insert then fails on a label the store
    already holds for req-00005 (written behind the API): the whole file rolls back."""
    with credit_store.engine.begin() as connection:
        connection.execute(
            inference_labels.insert(),
            {
                "request_id": "req-00005",
                "model_name": "credit",
                "label": 1.0,
                "labeled_at": datetime(2026, 3, 2, tzinfo=UTC),
            },
        )
    sent = fx.requests(10).assign(label=1.0)
    before = credit_store.audit_event_count()
    with pytest.raises(LogAppendError, match="nothing of it was written"):
        ingest_inference_file(credit_store, config, "credit", fx.write(sent, tmp_path / "r.csv"))
    assert logged(credit_store).empty
    assert credit_store.audit_event_count() == before


def test_file_problems_name_the_file_and_the_fix(
    credit_store: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    def refused(path: Path, match: str, **options: str) -> None:
        with pytest.raises(LogFileError, match=match):
            ingest_inference_file(credit_store, config, "credit", path, **options)

    refused(tmp_path / "nope.csv", r"nope.csv: no such file")
    refused(tmp_path, r"is not a file")
    (tmp_path / "log.txt").write_text("request_id\n", encoding="utf-8")
    refused(tmp_path / "log.txt", r"log.txt: cannot tell the format .*--format")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    refused(tmp_path / "empty.csv", r"empty.csv: the file is empty")
    fx.write(fx.requests(2).drop(columns=["latency_ms", "features"]), tmp_path / "cols.csv")
    refused(
        tmp_path / "cols.csv",
        r"cols.csv: lacks column\(s\) latency_ms, features \(found: request_id, .*\)\. "
        r"an inference-log file needs .*optional: label, label_at.*README",
    )
    (tmp_path / "broken.jsonl").write_text('{"a": 1}\n{"a": \n', encoding="utf-8")
    refused(tmp_path / "broken.jsonl", r"broken.jsonl: line 2 is not valid JSON")
    (tmp_path / "array.json").write_text("[{}]\n", encoding="utf-8")
    refused(tmp_path / "array.json", r"line 1 is an array")
    fx.write(fx.requests(2), tmp_path / "really.csv")
    refused(
        tmp_path / "really.csv", r"really.csv: cannot be read as parquet", file_format="parquet"
    )
    with pytest.raises(LogIngestionError, match="no model named 'nope'"):
        ingest_inference_file(credit_store, config, "nope", tmp_path / "really.csv")
    with pytest.raises(LogIngestionError, match=r"monitoring\.inference_log_url"):
        ingest_inference_file(credit_store, config, "remote", tmp_path / "really.csv")
    assert logged(credit_store).empty


# --- labels ------------------------------------------------------------------------------


@pytest.fixture
def with_requests(
    credit_store: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> GovernanceStore:
    """credit v1 with ten logged requests, req-00001 labelled 1 with its request."""
    sent = fx.requests(10)
    sent["label"] = [np.nan, 1.0, *([np.nan] * 8)]
    ingest_inference_file(credit_store, config, "credit", fx.write(sent, tmp_path / "l.csv"))
    return credit_store


def test_labels_are_appended_once_and_joined_back(
    with_requests: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    now = datetime(2026, 3, 20, tzinfo=UTC)
    labels = pd.DataFrame(
        {
            "request_id": ["req-00002", "req-00003", "req-00001"],
            "label": [1, 0, 1],
            "labeled_at": ["2026-03-10T08:00:00Z", None, None],
        }
    )
    path = fx.write(labels, tmp_path / "labels.jsonl")
    report = ingest_labels_file(with_requests, config, path, actor="etl", now=now)
    assert (report.appended, report.skipped, report.rejected_count) == (2, 1, 0)
    assert report.skip_reason == "already_labelled"
    back = logged(with_requests).set_index("request_id")
    assert back.loc["req-00002", "label_at"] == pd.Timestamp("2026-03-10 08:00", tz="UTC")
    assert back.loc["req-00003", "label_at"] == pd.Timestamp(now)
    assert back.loc["req-00003", "label"] == 0.0
    again = ingest_labels_file(with_requests, config, path, now=now)
    assert (again.appended, again.skipped) == (0, 3)
    event = fx.events(with_requests, LABELS_INGESTED)[0]
    assert (event.actor, event.model_name) == ("etl", "credit")
    assert event.payload["appended"] == 2
    assert event.payload["skipped"] == {"already_labelled": 1}


def test_every_label_rejection_is_counted(
    with_requests: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    fx.register_version(with_requests, "housing")
    housing = fx.requests(1, start=50).assign(model_name="housing", prediction=9.0)
    ingest_inference_file(with_requests, config, "housing", fx.write(housing, tmp_path / "h.csv"))
    rows = [
        ("req-00004", 1, None),  # kept
        ("", 1, None),  # missing_metadata
        ("req-00004", 0, None),  # duplicate_request_id
        ("req-00005", 2, None),  # bad_label: a classifier's label is 0 or 1
        ("req-00006", "yes", None),  # bad_label: not a number
        ("req-00007", 1, "soon"),  # bad_timestamp
        ("req-99999", 1, None),  # unknown_request
        ("req-00050", 123.5, None),  # wrong_model (housing's request, --model credit)
        ("req-00001", 0, None),  # conflicting_label: it was labelled 1 with its request
    ]
    frame = pd.DataFrame(rows, columns=["request_id", "label", "labeled_at"])
    path = fx.write(frame, tmp_path / "labels.jsonl")
    report = ingest_labels_file(with_requests, config, path, model_name="credit")
    counts = dict.fromkeys(LABEL_REASONS, 1)
    counts["bad_label"] = 2
    assert report.counts_by_reason == counts
    assert report.rejected["row"].tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    assert report.appended == 1
    conflict = report.rejected.set_index("reason").loc["conflicting_label", "detail"]
    assert "already has the label 1.0, this file says 0.0" in conflict
    assert logged(with_requests).set_index("request_id").loc["req-00001", "label"] == 1.0
    # Without --model, a regressor's request takes any finite label.
    unscoped = ingest_labels_file(with_requests, config, path)
    assert unscoped.appended == 1
    assert logged(with_requests, "housing")["label"].tolist() == [123.5]


def test_label_file_problems(
    with_requests: GovernanceStore, config: GovernanceConfig, tmp_path: Path
) -> None:
    fx.write(pd.DataFrame({"request": ["req-00001"], "label": [1]}), tmp_path / "x.csv")
    with pytest.raises(LogFileError, match=r"x.csv: lacks column\(s\) request_id .*labels file"):
        ingest_labels_file(with_requests, config, tmp_path / "x.csv")
    with pytest.raises(LogIngestionError, match="no model named 'nope'"):
        ingest_labels_file(with_requests, config, tmp_path / "x.csv", model_name="nope")


def test_lookups_are_chunked(
    credit_store: GovernanceStore,
    config: GovernanceConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file larger than one lookup is judged the same: ids in several IN (...) lists."""
    import governance_pipelines.store.log_appends as log_appends

    monkeypatch.setattr(log_appends, "LOOKUP_CHUNK", 7)
    path = fx.write(fx.requests(30), tmp_path / "r.parquet")
    ingest_inference_file(
        credit_store, config, "credit", fx.write(fx.requests(12), tmp_path / "a.csv")
    )
    report = ingest_inference_file(credit_store, config, "credit", path)
    assert (report.appended, report.skipped) == (18, 12)
    with credit_store.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(inference_labels)).scalar()
            == 0
        )
