"""`governance log ingest`, `governance labels ingest` and `governance models export`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from governance_pipelines.cli import main
from governance_pipelines.security import approvals as workflow
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.inference_log import read_inference_log
from governance_pipelines.store.schema import access_log, alerts
from governance_pipelines_tests.operations import log_fixtures as fx


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "governance.yaml"
    config.write_text(fx.CONFIG_YAML, encoding="utf-8")
    monkeypatch.setenv("GOVERNANCE_CONFIG", str(config))
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[GovernanceStore]:
    opened = GovernanceStore.open(None, home)
    fx.register_version(opened, "credit")
    yield opened
    opened.dispose()


def run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home)])


def test_help_imports_neither_dagster_nor_pandas() -> None:
    code = (
        "import sys\n"
        "from governance_pipelines.cli import main\n"
        "for args in (['log', 'ingest'], ['labels', 'ingest'], ['models', 'export'], ['models']):\n"
        "    try:\n        main([*args, '--help'])\n    except SystemExit as exit:\n"
        "        assert exit.code == 0, args\n"
        "assert 'dagster' not in sys.modules, 'dagster imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--rejected-out FILE" in result.stdout
    assert "export" in result.stdout


def test_log_ingest_reports_appends_and_is_idempotent(
    home: Path, store: GovernanceStore, tmp_path: Path
) -> None:
    path = fx.write(fx.requests(20), tmp_path / "requests.csv")
    first = run(home, "log", "ingest", str(path), "--model", "credit", "--user", "etl")
    assert first.exit_code == 0, first.output
    assert f"{path} (csv, sha256 " in first.output
    assert first.output.split("\n")[1].split() == ["appended", "20"]
    assert "new requests on 2026-03-01 (UTC)" in first.output
    second = run(home, "log", "ingest", str(path), "--model", "credit", "--json")
    assert second.exit_code == 0, second.output
    report = json.loads(second.output)
    assert (report["appended"], report["skipped"], report["rejected"]) == (
        0,
        {"already_logged": 20},
        0,
    )
    assert len(read_inference_log(store.engine, "credit")) == 20
    actors = [e.actor for e in store.recent_events(action="inference.ingested")]
    assert actors == ["etl", "cli"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_rejected_rows_are_reported_kept_and_strict_fails(
    home: Path, store: GovernanceStore, tmp_path: Path, suffix: str
) -> None:
    rows = [fx.request(0), fx.request(1, latency_ms="fast"), fx.request(2, status="timeout")]
    path = fx.write(pd.DataFrame(rows), tmp_path / "requests.jsonl")
    out = tmp_path / "out" / f"rejected{suffix}"
    result = run(
        home,
        "log",
        "ingest",
        str(path),
        "--model",
        "credit",
        "--rejected-out",
        str(out),
        "--strict",
    )
    assert result.exit_code == 1
    assert "STRICT: 2 row(s) rejected" in result.stderr
    assert "bad_status" in result.stdout
    assert "e.g. row 2 (bad_latency): latency_ms 'fast' is not a non-negative" in result.stdout
    assert f"rejected rows written to {out}" in result.stdout
    kept = (
        pd.read_parquet(out)
        if suffix == ".parquet"
        else pd.read_csv(out)
        if suffix == ".csv"
        else pd.read_json(out, lines=True)
    )
    assert kept["row"].tolist() == [2, 3]
    assert kept["reason"].tolist() == ["bad_latency", "bad_status"]
    assert len(read_inference_log(store.engine, "credit")) == 1  # the valid row went in
    lenient = run(home, "log", "ingest", str(path), "--model", "credit")
    assert lenient.exit_code == 0
    assert "pass --rejected-out FILE" in lenient.output


def test_file_and_option_problems_exit_1_with_the_fix(
    home: Path, store: GovernanceStore, tmp_path: Path
) -> None:
    missing = run(home, "log", "ingest", str(tmp_path / "nope.csv"), "--model", "credit")
    assert missing.exit_code == 1
    assert "nope.csv: no such file" in missing.output
    cols = fx.write(fx.requests(2).drop(columns=["status"]), tmp_path / "cols.parquet")
    lacking = run(home, "log", "ingest", str(cols), "--model", "credit")
    assert lacking.exit_code == 1
    assert "cols.parquet: lacks column(s) status" in lacking.output
    assert "Traceback" not in lacking.output
    fine = fx.write(fx.requests(2), tmp_path / "fine.csv")
    unknown = run(home, "log", "ingest", str(fine), "--model", "nope")
    assert unknown.exit_code == 1
    assert "no model named 'nope'" in unknown.output
    bad_out = run(home, "log", "ingest", str(fine), "--model", "credit", "--rejected-out", "r.xlsx")
    assert bad_out.exit_code == 1
    assert "--rejected-out r.xlsx: name the file *.parquet" in bad_out.output
    wrong_format = run(home, "log", "ingest", str(fine), "--model", "credit", "--format", "jsonl")
    assert wrong_format.exit_code == 1
    assert "fine.csv: line 1 is not valid JSON" in wrong_format.output
    no_store = CliRunner().invoke(
        main, ["log", "ingest", str(fine), "--model", "credit", "--home", str(tmp_path / "x")]
    )
    assert no_store.exit_code == 1
    assert "there is no governance store" in no_store.output
    assert read_inference_log(store.engine, "credit").empty


def test_labels_ingest(home: Path, store: GovernanceStore, tmp_path: Path) -> None:
    run(
        home,
        "log",
        "ingest",
        str(fx.write(fx.requests(5), tmp_path / "r.csv")),
        "--model",
        "credit",
    )
    labels = pd.DataFrame({"request_id": ["req-00001", "req-00002", "ghost"], "label": [1, 0, 1]})
    path = fx.write(labels, tmp_path / "labels.csv")
    first = run(home, "labels", "ingest", str(path), "--user", "labeller")
    assert first.exit_code == 0, first.output
    assert first.output.split("\n")[1].split() == ["appended", "2"]
    assert "unknown_request" in first.output
    conflicting = fx.write(labels.assign(label=[0, 0, 1]), tmp_path / "conflict.csv")
    second = run(home, "labels", "ingest", str(conflicting), "--model", "credit", "--strict")
    assert second.exit_code == 1
    assert "already labelled" in second.output
    assert "conflicting_label" in second.output
    (event, _) = store.recent_events(action="labels.ingested")
    assert (event.actor, event.model_name, event.payload["appended"]) == ("labeller", "credit", 2)
    back = read_inference_log(store.engine, "credit").set_index("request_id")
    assert back.loc["req-00001", "label"] == 1.0


# --- models export ----------------------------------------------------------------------


def promote(store: GovernanceStore, version: int) -> None:
    config = fx.config()
    workflow.approve(store, config, "credit", version, "bob", note="reviewed")
    workflow.promote(store, config, "credit", version, "production", "frank", "release")


def test_export_hands_out_the_production_version_with_its_record(
    home: Path, store: GovernanceStore, tmp_path: Path
) -> None:
    promote(store, 1)
    fx.register_version(store, "credit")  # v2: newer, not promoted
    out = tmp_path / "export"
    result = run(home, "models", "export", "credit", "--out", str(out), "--user", "vera")
    assert result.exit_code == 0, result.output
    registered = store.get_model_version("credit", 1)
    assert f"sha256    {registered.artifact_sha256}" in result.output
    artifact = out / "credit-v1.joblib"
    assert artifact.read_bytes() == Path(registered.artifact_path).read_bytes()
    record = json.loads((out / "credit-v1.record.json").read_text(encoding="utf-8"))
    assert (record["model"], record["version"], record["stage"]) == ("credit", 1, "production")
    assert record["artifact"] == {
        "file": "credit-v1.joblib",
        "sha256": registered.artifact_sha256,
        "bytes": artifact.stat().st_size,
    }
    assert [(a["by"], a["note"]) for a in record["approvals"]] == [("bob", "reviewed")]
    assert record["inputs"]["features"] == fx.FEATURES
    assert record["inputs"]["prediction"] == "probability of the positive class"
    assert record["record"]["features"]["categorical"] == ["region"]
    assert record["exported"]["by"] == "vera"
    (event,) = store.recent_events(action="model.exported")
    assert (event.actor, event.version, event.payload["sha256"]) == (
        "vera",
        1,
        registered.artifact_sha256,
    )
    with store.engine.connect() as connection:
        last = connection.execute(sa.select(access_log).order_by(access_log.c.id.desc())).first()
    assert last is not None
    assert (last.user_name, last.action, last.allowed) == ("vera", "model.view", True)

    # A given version (not promoted), with the group's options before the sub-command.
    other = CliRunner().invoke(
        main,
        [
            *("models", "--home", str(home), "export", "credit", "--version", "2"),
            *("--out", str(out), "--user", "alice"),
        ],
    )
    assert other.exit_code == 0, other.output
    assert "alice exported credit v2 (never promoted)" in other.output
    assert (out / "credit-v2.joblib").exists()
    mismatch = run(home, "models", "export", "credit", "--version", "2", "--stage", "production")
    assert mismatch.exit_code == 2  # --out and --user are required
    mismatch = run(
        home,
        "models",
        "export",
        "credit",
        "--version",
        "2",
        "--stage",
        "production",
        "--out",
        str(out),
        "--user",
        "vera",
    )
    assert mismatch.exit_code == 1
    assert "credit v2 is not in production (it is not promoted)" in mismatch.output


def test_export_refuses_a_tampered_artifact(
    home: Path, store: GovernanceStore, tmp_path: Path
) -> None:
    promote(store, 1)
    artifact = Path(store.get_model_version("credit", 1).artifact_path)
    artifact.chmod(0o644)
    artifact.write_bytes(b"someone else's model")
    out = tmp_path / "export"
    result = run(home, "models", "export", "credit", "--out", str(out), "--user", "vera")
    assert result.exit_code == 1
    assert "cannot export credit v1" in result.output
    assert "replaced after registration" in result.output
    assert not out.exists() or not any(out.iterdir())
    (refusal,) = store.recent_events(action="artifact.refused")
    assert (refusal.actor, refusal.payload["purpose"]) == ("vera", "export")
    with store.engine.connect() as connection:
        kinds = connection.execute(sa.select(alerts.c.kind)).scalars().all()
    assert "integrity" in kinds
    assert store.recent_events(action="model.exported") == []


def test_export_needs_model_view_and_a_version_in_the_stage(
    home: Path, store: GovernanceStore, tmp_path: Path
) -> None:
    out = str(tmp_path / "export")
    nothing = run(home, "models", "export", "credit", "--out", out, "--user", "vera")
    assert nothing.exit_code == 1
    assert "no version of credit is in production (no version promoted)" in nothing.output
    assert "governance promote credit VERSION --stage production" in nothing.output
    promote(store, 1)
    staging = run(home, "models", "export", "credit", "--stage", "staging", "--out", out)
    assert staging.exit_code == 2
    denied = run(home, "models", "export", "credit", "--out", out, "--user", "cody")
    assert denied.exit_code == 1
    assert "cannot export credit: cody (roles: contractor) lacks the permission 'model.view'" in (
        denied.output
    )
    stranger = run(home, "models", "export", "credit", "--out", out, "--user", "zed")
    assert stranger.exit_code == 1
    assert "unknown user 'zed'" in stranger.output
    unknown = run(home, "models", "export", "nope", "--out", out, "--user", "vera")
    assert unknown.exit_code == 1
    assert "model 'nope' has no registered versions" in unknown.output
    denials = [
        (e.actor, e.payload["permission"]) for e in store.recent_events(action="access.denied")
    ]
    assert denials == [("cody", "model.view"), ("zed", "model.view")]
    assert not Path(out).exists()
    assert run(home, "models").exit_code == 0  # the listing is unchanged
