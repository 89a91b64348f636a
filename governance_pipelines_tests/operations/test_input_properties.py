"""Property tests: no inference-log batch and no drift input gives a traceback or a silent pass.

Every row of any batch lands in exactly one of valid/rejected, rejected rows carry a known
reason, and valid rows satisfy the contract; drift either answers with a verdict over the
values it could assess or refuses with `DriftInputError` — never another exception.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance_pipelines.operations.drift import DriftInputError, ReferenceProfile, compute_drift
from governance_pipelines.operations.ingestion import REASONS, validate_inference_batch

FEATURES = ["income", "region"]
_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
_FEATURES = st.one_of(
    _ANY,
    st.builds(
        lambda income, region, extra: json.dumps(
            {"income": income, "region": region, **extra}, allow_nan=True
        ),
        _ANY,
        _ANY,
        st.dictionaries(st.text(max_size=4), _ANY, max_size=2),
    ),
)
_ROW = st.fixed_dictionaries(
    {
        "request_id": st.one_of(st.none(), st.text(max_size=6)),
        "model_name": st.one_of(st.none(), st.sampled_from(["credit", "", " "])),
        "model_version": st.one_of(st.none(), st.sampled_from([1, 2, 3, 1.5, -1, "1", "x"])),
        "requested_at": st.one_of(
            st.none(),
            st.sampled_from(["2026-01-01T10:00:00Z", "yesterday", "", "2026-13-40"]),
            st.datetimes().map(lambda d: pd.Timestamp(d, tz="UTC")),
        ),
        "consumer_team": st.one_of(st.none(), st.sampled_from(["lending", "", "  "])),
        "latency_ms": _ANY,
        "status": st.one_of(st.none(), st.sampled_from(["ok", "error", "OK", ""])),
        "features": _FEATURES,
        "prediction": _ANY,
        "label": st.one_of(st.none(), st.floats(allow_nan=True)),
        "label_at": st.none(),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(_ROW, min_size=0, max_size=12),
    task=st.sampled_from(["classification", "regression"]),
)
def test_every_row_is_either_valid_or_rejected_with_a_reason(rows, task) -> None:
    frame = pd.DataFrame(rows, columns=list(_ROW.wrapped_strategy.mapping) if rows else None)
    if frame.empty:
        frame = pd.DataFrame(columns=list(_ROW.wrapped_strategy.mapping))
    result = validate_inference_batch(
        frame, features=FEATURES, known_versions={1, 2}, categorical={"region"}, task=task
    )
    assert len(result.valid) + len(result.rejected) == len(frame)
    assert set(result.valid.index).isdisjoint(result.rejected.index)
    assert set(result.rejected["reason"]) <= set(REASONS) if len(result.rejected) else True
    assert sum(result.counts_by_reason.values()) == len(result.rejected)
    for _, row in result.valid.iterrows():
        assert str(row["consumer_team"]).strip()
        assert str(row["model_name"]).strip()
        assert row["model_version"] in (1, 2)
        if row["status"] == "ok":
            assert math.isfinite(row["prediction"])
            if task == "classification":
                assert 0 <= row["prediction"] <= 1
        assert row["income"] is None or not isinstance(row["income"], str)


_VALUES = st.lists(
    st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=0, max_size=80
)


@settings(max_examples=120, deadline=None)
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@given(reference=_VALUES, current=_VALUES, categorical=st.booleans())
def test_drift_answers_or_refuses_cleanly(reference, current, categorical) -> None:
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    data_ref = pd.Series(ref).round(0).astype(str) if categorical else ref
    data_cur = pd.Series(cur).round(0).astype(str) if categorical else cur
    try:
        profile = ReferenceProfile.from_frame(
            {"x": data_ref}, categorical=("x",) if categorical else ()
        )
        report = compute_drift(profile, {"x": data_cur})
    except DriftInputError as error:
        refusal = str(error)
    else:
        refusal = None
    if refusal is not None:
        assert "x" in refusal or "column" in refusal  # a refusal names what is wrong
        return
    (column,) = report.columns
    finite = np.isfinite(cur).sum() if not categorical else len(cur)
    if finite < report.min_sample_size:
        assert not column.assessed
        assert report.verdict.startswith("NOT ENOUGH DATA")  # never "no drift"
    assert report.dataset_drift == (column.assessed and column.drifted)
