"""Drift engine: agreement with scipy/Evidently formulas, edge cases, profiles, serialisation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from governance_pipelines.operations import drift_stats
from governance_pipelines.operations.drift import (
    ColumnOverride,
    DriftInputError,
    DriftPolicy,
    DriftReport,
    ReferenceProfile,
    SourceReference,
    compute_drift,
)
from governance_pipelines.operations.drift_reference import NumericReference
from governance_pipelines.operations.drift_sources import FrameSource
from governance_pipelines.operations.drift_stats import quantile_wasserstein, sorted_ks
from governance_pipelines.operations.psi import distinct_sorted, psi, psi_bin_counts

REL = 1e-9


def _one(ref, cur, policy=None, categorical=()):
    profile = ReferenceProfile.from_frame({"x": ref}, categorical=categorical)
    return compute_drift(profile, {"x": cur}, policy).columns[0]


class _Chunked:
    """A column source yielding small chunks, to exercise streaming."""

    def __init__(self, values, size=333, name="x"):
        self.values, self.size, self.name = values, size, name

    def column_names(self):
        return [self.name]

    def is_numeric(self, name):
        return True

    def iter_column(self, name):
        for i in range(0, len(self.values), self.size):
            yield self.values[i : i + self.size]


@pytest.mark.parametrize(
    ("n", "m", "shift", "decimals"), [(400, 900, 0.0, None), (800, 20000, 0.3, 1)]
)
def test_ks_matches_scipy(n, m, shift, decimals):
    rng = np.random.default_rng(n)
    ref, cur = rng.normal(size=n), rng.normal(shift, 1, m)
    if decimals is not None:
        ref, cur = np.round(ref, decimals), np.round(cur, decimals)
    col = _one(ref, cur)
    expected = stats.ks_2samp(ref, cur)
    assert col.method == "ks"
    assert col.test_statistic == pytest.approx(expected.statistic, rel=REL)
    assert col.p_value == pytest.approx(expected.pvalue, rel=REL)
    assert col.drifted == (expected.pvalue <= 0.05)


@pytest.fixture(params=["exact", "streaming"])
def mode(request, monkeypatch):
    """Run a test with the window held in memory, and again streamed (a tiny limit)."""
    if request.param == "streaming":
        monkeypatch.setattr(drift_stats, "EXACT_LIMIT", 1000)
    return request.param


@pytest.mark.parametrize("decimals", [None, 0, 2])
def test_wasserstein_matches_scipy_streamed(decimals, mode):
    rng = np.random.default_rng(7)
    ref, cur = rng.normal(size=3000), rng.normal(0.05, 1.2, 7000)
    if decimals is not None:
        ref, cur = np.round(ref, decimals), np.round(cur, decimals)
    profile = ReferenceProfile.from_frame({"x": ref})
    col = compute_drift(profile, _Chunked(cur)).columns[0]
    expected = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
    assert col.method == "wasserstein"
    assert col.statistic == pytest.approx(expected, rel=REL)


def test_shift_detected_and_identical_is_zero():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=5000)
    assert _one(ref, rng.normal(0.5, 1, 5000)).drifted
    same = _one(ref, ref.copy())
    assert same.statistic == pytest.approx(0.0, abs=1e-12)
    assert not same.drifted


def test_false_alarm_rate_ks_near_nominal():
    rng = np.random.default_rng(3)
    alarms = sum(_one(rng.normal(size=300), rng.normal(size=300)).drifted for _ in range(200))
    assert alarms / 200 < 0.12  # nominal 5 %


def test_chisquare_and_jensenshannon_match_scipy():
    rng = np.random.default_rng(2)
    labels = np.array(["a", "b", "c", "d"])
    ref = labels[rng.integers(0, 4, 900)]
    cur = labels[rng.choice(4, 1200, p=[0.4, 0.2, 0.2, 0.2])]
    col = _one(ref, cur)
    ref_counts = np.array([(ref == k).sum() for k in labels])
    cur_counts = np.array([(cur == k).sum() for k in labels])
    expected = stats.chisquare(cur_counts, ref_counts * len(cur) / len(ref))
    assert col.method == "chisquare"
    assert col.p_value == pytest.approx(expected.pvalue, rel=REL)
    big = _one(np.tile(ref, 3), cur)
    assert big.method == "jensenshannon"
    assert big.statistic == pytest.approx(
        jensenshannon(ref_counts / len(ref), cur_counts / len(cur)), rel=REL
    )


def test_category_only_in_current_drifts():
    ref = np.array(["a", "b", "c"] * 100)
    cur = np.array(["a", "b", "c", "d"] * 75)
    col = _one(ref, cur)
    assert col.method == "chisquare"
    assert col.p_value == 0.0
    assert col.drifted
    assert col.n_unique == 4


def test_binary_z_test():
    rng = np.random.default_rng(4)
    ref, cur = rng.random(800) < 0.3, rng.random(900) < 0.45
    col = _one(ref, cur)
    p1, p2 = 1 - ref.mean(), 1 - cur.mean()  # proportion of "True" (not the first key)
    pooled = (p1 * 800 + p2 * 900) / 1700
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / 800 + 1 / 900))
    assert col.method == "z"
    assert col.p_value == pytest.approx(2 * (1 - stats.norm.cdf(abs(z))), rel=REL)
    assert col.drifted
    assert col.effect_size_name == "cohens_h"
    assert _one(np.zeros(10), np.zeros(10)).p_value == 1.0


def test_nan_and_inf_dropped_per_side():
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(size=500), rng.normal(size=600)
    dirty_ref = np.concatenate([ref, [np.nan, np.inf, -np.inf]])
    dirty_cur = np.concatenate([cur, [np.nan] * 10])
    col = _one(dirty_ref, dirty_cur)
    assert (col.n_reference, col.n_current) == (500, 600)
    assert col.p_value == pytest.approx(stats.ks_2samp(ref, cur).pvalue, rel=REL)
    with pytest.raises(DriftInputError, match="'x'"):
        _one(ref, np.array([np.nan, np.inf]))


@pytest.mark.parametrize("method", ["chisquare", "z"])
def test_count_based_tests_refuse_a_continuous_column(method):
    rng = np.random.default_rng(6)
    policy = DriftPolicy(overrides={"x": ColumnOverride(method=method)})
    with pytest.raises(DriftInputError, match="'x' is a continuous numeric column"):
        _one(rng.normal(size=200), rng.normal(size=200), policy)


def test_psi_hand_example():
    # expected 50/50, actual 25/75: (0.25-0.5)ln(0.5) + (0.75-0.5)ln(1.5)
    assert psi(np.array([50, 50]), np.array([25, 75])) == pytest.approx(
        -0.25 * np.log(0.5) + 0.25 * np.log(1.5)
    )
    col = _one(np.arange(1000.0), np.arange(1000.0))
    assert col.psi == pytest.approx(0.0, abs=1e-12)
    assert col.psi_band == "stable"


def test_profiles_and_overrides(mode):
    rng = np.random.default_rng(6)
    ref, cur = rng.normal(size=2000), rng.normal(1.0, 1, 2000)
    vertex = _one(ref, cur, DriftPolicy(profile="vertex"))
    assert (vertex.method, vertex.threshold) == ("js_divergence", 0.3)
    sage = _one(ref, cur, DriftPolicy(profile="sagemaker"))
    assert sage.method == "ks_distance"
    assert sage.statistic == pytest.approx(stats.ks_2samp(ref, cur).statistic, rel=REL)
    cats = np.array(["a", "b"] * 500)
    assert _one(cats, cats, DriftPolicy(profile="vertex")).method == "l_infinity"
    override = DriftPolicy(overrides={"x": ColumnOverride(method="jensenshannon", threshold=0.5)})
    col = _one(ref, cur, override)
    assert (col.method, col.threshold) == ("jensenshannon", 0.5)
    with pytest.raises(ValueError, match="unknown drift profile"):
        DriftPolicy(profile="nope")


def test_require_effect_size_suppresses_tiny_significant_shift():
    rng = np.random.default_rng(8)
    ref, cur = rng.normal(size=1000), rng.normal(0.02, 1, 200_000)
    policy = DriftPolicy(require_effect_size=True, overrides={"x": ColumnOverride(method="ks")})
    assert _one(ref, cur, DriftPolicy(overrides=policy.overrides)).p_value is not None
    assert not _one(ref, cur, policy).drifted


def test_profile_round_trip(tmp_path):
    rng = np.random.default_rng(9)
    frame = {"x": rng.normal(size=300), "c": np.array(["u", "v", "w"] * 100)}
    profile = ReferenceProfile.from_frame(frame)
    again = ReferenceProfile.from_bytes(profile.to_bytes())
    profile.save(tmp_path / "p.npz")
    loaded = ReferenceProfile.load(tmp_path / "p.npz")
    for other in (again, loaded):
        assert compute_drift(other, frame).to_dict() == compute_drift(profile, frame).to_dict()
    assert again.column("c").labels == ("u", "v", "w")


def test_report_dict_round_trip_through_json():
    """`from_dict` rebuilds the report `to_dict` stored as evidence (extra keys ignored)."""
    rng = np.random.default_rng(11)
    ref = {"x": rng.normal(size=400), "c": np.array(["u", "v"] * 200)}
    cur = {"x": rng.normal(1, 1, 300), "c": np.array(["u", "v", "v"] * 100)}
    report = compute_drift(ReferenceProfile.from_frame(ref), cur)
    stored = json.loads(json.dumps({"day": "2024-05-02", **report.to_dict(), "drifted": ["x"]}))
    again = DriftReport.from_dict(stored)
    assert again == report
    assert again.to_dict() == report.to_dict()


def test_dataset_drift_share():
    rng = np.random.default_rng(10)
    ref = {"a": rng.normal(size=500), "b": rng.normal(size=500)}
    cur = {"a": rng.normal(2, 1, 500), "b": rng.normal(size=500)}
    report = compute_drift(ReferenceProfile.from_frame(ref), cur)
    assert report.drift_share == 0.5
    assert report.dataset_drift


@pytest.mark.parametrize(
    ("n", "m"), [(1000, 1000), (1000, 3000), (3000, 1000), (997, 1201), (1, 50), (40, 1)]
)
@pytest.mark.parametrize("decimals", [None, 0])
def test_quantile_wasserstein_and_sorted_ks_match_scipy(n, m, decimals):
    """The probability-axis integral equals scipy's value-axis one for any sizes and ties."""
    rng = np.random.default_rng(n * 7 + m)
    ref, cur = rng.normal(size=n), rng.normal(0.2, 1.3, m)
    if decimals is not None:
        ref, cur = np.round(ref, decimals), np.round(cur, decimals)
    reference = NumericReference.from_values("x", ref)
    current = np.sort(cur)
    expected = stats.wasserstein_distance(ref, cur)
    got = quantile_wasserstein(reference.support, reference.counts, current)
    assert got == pytest.approx(expected, rel=REL, abs=1e-15)
    d = sorted_ks(reference.support, reference.cumulative, current)
    assert d == pytest.approx(stats.ks_2samp(ref, cur).statistic, rel=REL)


def test_streaming_switch_and_sources_agree(monkeypatch):
    """A window outgrowing EXACT_LIMIT mid-stream, a lazy reference and a stored profile
    all give the same report as the in-memory path."""
    rng = np.random.default_rng(11)
    ref = {"x": rng.normal(size=4000), "d": np.round(rng.normal(size=4000) * 3)}
    cur = {"x": rng.normal(0.1, 1.1, 9000), "d": np.round(rng.normal(0.3, 1, 9000) * 3)}
    profile = ReferenceProfile.from_frame(ref)
    exact = compute_drift(profile, cur).to_dict()
    lazy = compute_drift(SourceReference.open(FrameSource(ref)), cur).to_dict()
    assert lazy == exact
    monkeypatch.setattr(drift_stats, "EXACT_LIMIT", 2500)
    for name in ("x", "d"):
        chunked = _Chunked(cur[name], size=1000, name=name)
        streamed = compute_drift(profile, chunked, columns=[name]).columns[0]
        want = next(c for c in exact["columns"] if c["column"] == name)
        for key in ("statistic", "effect_size", "psi"):
            assert getattr(streamed, key) == pytest.approx(want[key], rel=REL)
        assert streamed.drifted == want["drifted"]


def test_few_values_column_uses_value_counts(mode):
    """≤ 5 distinct values: per-value Jensen-Shannon, including a value new in current."""
    ref = np.repeat([0.0, 1.0, 2.0], [500, 400, 300])
    cur = np.repeat([0.0, 1.0, 2.0, 3.0], [300, 400, 500, 200])
    col = _one(np.tile(ref, 2), cur)
    assert (col.method, col.n_unique) == ("jensenshannon", 4)
    expected = jensenshannon([1000, 800, 600, 0], [300, 400, 500, 200])
    assert col.statistic == pytest.approx(expected, rel=REL)


def test_sorted_helpers_match_numpy():
    rng = np.random.default_rng(12)
    for values in (np.sort(rng.normal(size=500)), np.sort(np.round(rng.normal(size=500)))):
        distinct, cumulative = distinct_sorted(values)
        expect_values, expect_counts = np.unique(values, return_counts=True)
        np.testing.assert_array_equal(distinct, expect_values)
        np.testing.assert_array_equal(cumulative, np.cumsum(expect_counts))
        edges = np.array([-1.0, 0.0, 0.5])
        binned = np.bincount(np.searchsorted(edges, values, side="left"), minlength=4)
        np.testing.assert_array_equal(psi_bin_counts(values, edges), binned)
        compressed = psi_bin_counts(distinct, edges, cumulative)
        np.testing.assert_array_equal(compressed, binned)


def test_a_window_too_small_is_not_enough_data_never_no_drift():
    rng = np.random.default_rng(7)
    profile = ReferenceProfile.from_frame({"x": rng.normal(size=500), "y": rng.normal(size=500)})
    report = compute_drift(profile, {"x": np.array([0.1]), "y": np.array([0.2])})
    assert not report.enough_data
    assert not report.dataset_drift
    assert report.verdict.startswith("NOT ENOUGH DATA")
    assert report.not_assessed == ("x", "y")
    again = DriftReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.verdict == report.verdict


def test_a_sparse_column_is_not_assessed_while_the_others_are():
    rng = np.random.default_rng(8)
    ref = {"x": rng.normal(size=500), "y": rng.normal(size=500)}
    sparse = np.full(400, np.nan)
    sparse[:5] = 0.0
    report = compute_drift(
        ReferenceProfile.from_frame(ref), {"x": rng.normal(3, 1, 400), "y": sparse}
    )
    assert report.enough_data
    assert report.not_assessed == ("y",)
    assert report.dataset_drift  # judged on x alone: 1 of 1 assessed columns drifted
    assert report.drift_share == 1.0
