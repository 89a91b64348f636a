"""`governance reproduce` and `governance abtest` against a real store."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from governance_pipelines.cli import main
from governance_pipelines.config import PACKAGED_DEMO_CONFIG
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.inference_log import write_inference_log


def _log(version: int, n: int, default_rate: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    return pd.DataFrame(
        {
            "request_id": [str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**63, n)],
            "model_name": "credit_default",
            "model_version": version,
            "requested_at": [start + timedelta(minutes=int(m)) for m in rng.integers(0, 10_000, n)],
            "consumer_team": "lending",
            "latency_ms": 30.0,
            "status": "ok",
            "features": "{}",
            "prediction": 0.1,
            "label": (rng.random(n) < default_rate).astype(float),
            "label_at": start + timedelta(days=30),
        }
    )


@pytest.fixture
def store(tmp_path: Path):
    opened = GovernanceStore.open(None, tmp_path)
    yield opened
    opened.dispose()


def _abtest(store: GovernanceStore, *extra: str):
    url = store.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(
        main,
        [
            "abtest",
            "credit_default",
            "--candidate",
            "2",
            "--control",
            "1",
            "--config",
            str(PACKAGED_DEMO_CONFIG),
            "--database-url",
            url,
            *extra,
        ],
    )


def test_abtest_concludes_and_matches_scipy(store: GovernanceStore) -> None:
    control, candidate = _log(1, 4000, 0.12, 1), _log(2, 4000, 0.09, 2)
    write_inference_log(store.engine, pd.concat([control, candidate]))
    result = _abtest(store, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert (
        payload["conclusion"] == "candidate_better"
    )  # lower default rate is better for this model
    x0, x1 = control["label"].sum(), candidate["label"].sum()
    pooled = (x0 + x1) / 8000
    z = (x1 / 4000 - x0 / 4000) / np.sqrt(pooled * (1 - pooled) * (2 / 4000))
    assert payload["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    (evidence,) = [c for c in store.latest_check_results("credit_default", version=2)]
    assert evidence.check_name == "model_version_ab_test"
    assert evidence.passed
    assert evidence.evidence["control_version"] == 1


def test_abtest_refuses_to_conclude_on_too_little_data(store: GovernanceStore) -> None:
    write_inference_log(store.engine, pd.concat([_log(1, 120, 0.12, 3), _log(2, 120, 0.10, 4)]))
    result = _abtest(store)
    assert result.exit_code == 0, result.output
    assert "inconclusive" in result.output
    assert "more" in result.output


def test_abtest_errors_name_the_problem(store: GovernanceStore) -> None:
    write_inference_log(store.engine, _log(1, 50, 0.1, 5))
    missing = _abtest(store)
    assert missing.exit_code == 1
    assert "no 'label' outcomes for credit_default v2" in missing.output
    url = store.engine.url.render_as_string(hide_password=False)
    unknown = CliRunner().invoke(
        main,
        [
            "abtest",
            "nope",
            "--candidate",
            "2",
            "--control",
            "1",
            "--config",
            str(PACKAGED_DEMO_CONFIG),
            "--database-url",
            url,
        ],
    )
    assert unknown.exit_code == 1
    assert "no model named 'nope'" in unknown.output


def test_reproduce_unknown_version_fails_cleanly(store: GovernanceStore) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["reproduce", "credit_default", "3", "--database-url", url])
    assert result.exit_code == 1
    assert "has no version 3" in result.output
