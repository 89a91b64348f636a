"""SLA and performance reports read back from stored evidence: `from_dict` inverts `to_dict`.

The daily checks store `SlaReport.to_dict()` and `{**PerformanceDay.to_dict(), "versions":
[...]}` in a JSON column under the day the check ran; the metrics exporter and the nightly
summary rebuild the reports from it. A round trip must give the same record, and a row
that is not such a record must say which key is wrong with a `ValueError` — the error the
readers turn into "unreadable evidence" instead of failing a scrape.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_pipelines.config import SlaConfig
from governance_pipelines.operations.performance import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    PerformanceDay,
)
from governance_pipelines.operations.sla import SlaReport

_FLOATS = st.floats(allow_nan=False)
_COUNTS = st.integers(min_value=0, max_value=10**12)
_SLA_CONFIGS = st.builds(
    SlaConfig,
    availability=st.floats(min_value=0, max_value=1, exclude_min=True),
    p95_latency_ms=st.floats(min_value=0, max_value=1e9, exclude_min=True),
    p99_latency_ms=st.none() | st.floats(min_value=0, max_value=1e9, exclude_min=True),
    max_error_rate=st.floats(min_value=0, max_value=1),
)
_SLA_REPORTS = st.builds(
    SlaReport,
    model_name=st.text(max_size=20),
    day=st.none() | st.dates(),
    requests=_COUNTS,
    errors=_COUNTS,
    availability=st.none() | _FLOATS,
    error_rate=st.none() | _FLOATS,
    p50_latency_ms=st.none() | _FLOATS,
    p95_latency_ms=st.none() | _FLOATS,
    p99_latency_ms=st.none() | _FLOATS,
    latency_samples=_COUNTS,
    breaches=st.lists(st.text(max_size=30), max_size=4).map(tuple),
    passed=st.booleans(),
    sla=_SLA_CONFIGS,
)
_PERFORMANCE_DAYS = st.builds(
    PerformanceDay,
    day=st.dates(),
    version=st.integers(min_value=1, max_value=10**6),
    metric=st.sampled_from([*CLASSIFICATION_METRICS, *REGRESSION_METRICS]),
    value=st.none() | _FLOATS,
    validation_value=_FLOATS,
    tolerance=st.floats(min_value=0, allow_nan=False),
    higher_is_better=st.booleans(),
    degraded=st.booleans(),
    requests=_COUNTS,
    labelled=_COUNTS,
    scored=_COUNTS,
    label_coverage=st.floats(min_value=0, max_value=1),
    positives=st.none() | _COUNTS,
    note=st.none() | st.text(max_size=40),
)
# Anything a JSON column can hold in place of one field.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _FLOATS | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


def _stored(record: dict[str, Any]) -> dict[str, Any]:
    """As the store gives evidence back: under the check's day, through JSON."""
    return json.loads(json.dumps({"day": "2024-05-02", **record}))


def _sla() -> SlaReport:
    return SlaReport(
        "credit",
        date(2024, 5, 2),
        59,
        2,
        57 / 59,
        2 / 59,
        45.0,
        75.1,
        78.4,
        57,
        ("p95 latency 75.1 ms > 60 ms",),
        False,
        SlaConfig(p95_latency_ms=60.0, availability=0.99),
    )


def _performance() -> PerformanceDay:
    return PerformanceDay(
        date(2024, 5, 2), 2, "roc_auc", 0.81, 0.9, 0.05, True, True, 59, 59, 59, 1.0, 30, None
    )


@settings(max_examples=200, deadline=None)
@given(_SLA_REPORTS)
def test_sla_report_round_trips_through_stored_evidence(report: SlaReport) -> None:
    assert SlaReport.from_dict(report.to_dict()) == report
    assert SlaReport.from_dict(_stored(report.to_dict())) == report


@settings(max_examples=200, deadline=None)
@given(_PERFORMANCE_DAYS)
def test_performance_day_round_trips_through_stored_evidence(day: PerformanceDay) -> None:
    assert PerformanceDay.from_dict(day.to_dict()) == day
    # The performance check stores the headline day plus every serving version.
    evidence = {**day.to_dict(), "versions": [day.to_dict()]}
    assert PerformanceDay.from_dict(_stored(evidence)) == day


def test_derived_and_extra_keys_are_ignored() -> None:
    day = _performance()
    stored = {**day.to_dict(), "delta": 123.0, "versions": [], "drifted": ["x"]}
    assert PerformanceDay.from_dict(stored) == day
    assert SlaReport.from_dict({**_sla().to_dict(), "run_id": "abc"}) == _sla()


def test_json_integers_are_read_as_floats() -> None:
    stored = {**_sla().to_dict(), "availability": 1, "p50_latency_ms": 45}
    report = SlaReport.from_dict(stored)
    assert (report.availability, report.p50_latency_ms) == (1.0, 45.0)
    assert isinstance(report.availability, float)


@pytest.mark.parametrize("key", list(_sla().to_dict()))
def test_every_sla_key_is_required_and_named(key: str) -> None:
    stored = _sla().to_dict()
    del stored[key]
    with pytest.raises(ValueError, match=f"SLA report evidence has no '{key}'"):
        SlaReport.from_dict(stored)


@pytest.mark.parametrize("key", [k for k in _performance().to_dict() if k != "delta"])
def test_every_performance_key_is_required_and_named(key: str) -> None:
    stored = _performance().to_dict()
    del stored[key]
    with pytest.raises(ValueError, match=f"performance day evidence has no '{key}'"):
        PerformanceDay.from_dict(stored)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("requests", "59", "'requests' must be an integer, got '59'"),
        ("errors", True, "'errors' must be an integer, got True"),
        ("availability", False, "'availability' must be a number"),
        ("p95_latency_ms", "75 ms", "'p95_latency_ms' must be a number"),
        ("error_rate", 10**400, "'error_rate' must be a number in float range"),
        ("passed", "yes", "'passed' must be true or false"),
        ("day", "yesterday", r"'day' must be an ISO date \(YYYY-MM-DD\)"),
        ("day", 20240502, "'day' must be an ISO date"),
        ("model_name", None, "'model_name' must be a string, got None"),
        ("breaches", "p95 latency", "'breaches' must be a list of strings"),
        ("sla", {"availability": 2}, "'sla' is not a valid SLA"),
        ("sla", {**SlaConfig().model_dump(), "uptime": 1}, "'sla' is not a valid SLA"),
        ("sla", None, "'sla' is not a valid SLA"),
    ],
)
def test_invalid_sla_fields_are_named(key: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"SLA report evidence {message}"):
        SlaReport.from_dict({**_sla().to_dict(), key: value})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("version", 1.5, "'version' must be an integer, got 1.5"),
        ("day", None, "'day' must be an ISO date"),
        ("validation_value", None, "'validation_value' must be a number, got None"),
        ("label_coverage", "all", "'label_coverage' must be a number"),
        ("degraded", 0, "'degraded' must be true or false, got 0"),
        ("positives", 2.0, "'positives' must be an integer"),
        ("note", 3, "'note' must be a string, got 3"),
    ],
)
def test_invalid_performance_fields_are_named(key: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"performance day evidence {message}"):
        PerformanceDay.from_dict({**_performance().to_dict(), key: value})


@pytest.mark.parametrize("evidence", [[], "report", None, 3])
def test_evidence_that_is_no_object_is_a_value_error(evidence: Any) -> None:
    with pytest.raises(ValueError, match="SLA report evidence must be a JSON object"):
        SlaReport.from_dict(evidence)
    with pytest.raises(ValueError, match="performance day evidence must be a JSON object"):
        PerformanceDay.from_dict(evidence)


@settings(max_examples=300, deadline=None)
@given(st.data(), _JSON)
def test_any_field_value_gives_a_record_or_a_value_error_naming_it(
    data: st.DataObject, replacement: Any
) -> None:
    """Readers catch `ValueError` only: no odd row may surface as Key-/Type-/OverflowError."""
    for parse, record in (
        (SlaReport.from_dict, _sla().to_dict()),
        (PerformanceDay.from_dict, _performance().to_dict()),
    ):
        key = data.draw(st.sampled_from(sorted(record)))
        message = None
        try:
            parse({**record, key: replacement})
        except ValueError as error:
            message = str(error)
        assert message is None or repr(key) in message
