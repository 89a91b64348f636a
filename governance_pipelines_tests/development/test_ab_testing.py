from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from governance_pipelines.development.ab_testing import (
    ABTestError,
    ABTestSpec,
    evaluate_ab_test,
    evaluate_conversions,
    required_samples_means,
    required_samples_proportions,
)

CONVERSION = ABTestSpec(kpi_type="conversion", kpi_name="conversion rate")


def reference_z_test(x0: int, n0: int, x1: int, n1: int) -> tuple[float, float]:
    p0, p1 = x0 / n0, x1 / n1
    pooled = (x0 + x1) / (n0 + n1)
    z = (p1 - p0) / math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
    return z, 2 * stats.norm.sf(abs(z))


def test_two_proportion_z_test_matches_reference() -> None:
    result = evaluate_conversions(200, 2000, 260, 2000, CONVERSION)
    z, p = reference_z_test(200, 2000, 260, 2000)
    assert result.statistic == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(p, rel=1e-12)
    assert result.difference == pytest.approx(0.03)
    assert result.relative_lift == pytest.approx(0.3)
    se = math.sqrt(0.1 * 0.9 / 2000 + 0.13 * 0.87 / 2000)
    assert result.ci_low == pytest.approx(0.03 - 1.959963985 * se, rel=1e-6)
    assert result.effect_size == pytest.approx(
        2 * math.asin(math.sqrt(0.13)) - 2 * math.asin(math.sqrt(0.1))
    )
    assert result.significant
    assert result.conclusion == "candidate_better"
    assert result.required_samples_per_arm < 2000
    assert result.additional_samples_per_arm == 0
    assert result.to_dict()["test"].startswith("two-proportion z-test")


def test_raw_conversion_outcomes_equal_counts() -> None:
    rng = np.random.default_rng(0)
    control, candidate = rng.binomial(1, 0.2, 1500), rng.binomial(1, 0.2, 1500)
    from_outcomes = evaluate_ab_test(control, candidate, CONVERSION)
    from_counts = evaluate_conversions(control.sum(), 1500, candidate.sum(), 1500, CONVERSION)
    assert from_outcomes.p_value == from_counts.p_value
    assert from_outcomes.statistic == pytest.approx(
        reference_z_test(control.sum(), 1500, candidate.sum(), 1500)[0]
    )


def test_significantly_worse_is_not_a_pass() -> None:
    result = evaluate_conversions(260, 2000, 200, 2000, CONVERSION)
    assert result.p_value < 0.05
    assert not result.significant
    assert result.conclusion == "candidate_worse"


def test_lower_is_better_direction() -> None:
    spec = ABTestSpec(kpi_type="conversion", direction="lower", kpi_name="churn")
    result = evaluate_conversions(260, 2000, 200, 2000, spec)
    assert result.significant
    assert result.conclusion == "candidate_better"


def test_welch_t_test_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    control = rng.normal(10.0, 2.0, 800)
    candidate = rng.normal(10.4, 3.0, 600)
    spec = ABTestSpec(kpi_type="continuous", kpi_name="basket value")
    result = evaluate_ab_test(control, candidate, spec)
    reference = stats.ttest_ind(candidate, control, equal_var=False)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-12)
    interval = reference.confidence_interval(0.95)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
    pooled = math.sqrt((799 * control.var(ddof=1) + 599 * candidate.var(ddof=1)) / 1398)
    assert result.effect_size == pytest.approx((candidate.mean() - control.mean()) / pooled)
    assert result.significant
    assert result.effect_size_name == "cohen_d"


def test_too_little_data_is_inconclusive_with_how_many_more() -> None:
    result = evaluate_conversions(5, 50, 9, 50, CONVERSION)
    assert result.conclusion == "inconclusive"
    assert not result.significant
    needed = result.required_samples_per_arm
    assert result.additional_samples_per_arm == needed - 50
    assert f"collect {needed - 50} more per arm" in result.message


def test_underpowered_non_significant_result_is_inconclusive() -> None:
    result = evaluate_conversions(100, 1000, 115, 1000, CONVERSION)
    assert result.p_value > 0.05
    assert result.conclusion == "inconclusive"
    assert result.required_samples_per_arm > 1000
    assert str(result.additional_samples_per_arm) in result.message
    rng = np.random.default_rng(3)
    same = ABTestSpec(kpi_type="continuous")
    null = evaluate_ab_test(rng.normal(size=2000), rng.normal(size=2000) + 0.1, same)
    assert null.conclusion in {"candidate_better", "inconclusive"}


def test_well_powered_null_result() -> None:
    result = evaluate_conversions(1000, 5000, 1000, 5000, CONVERSION)
    assert result.conclusion == "no_significant_difference"
    assert result.required_samples_per_arm is None
    assert result.p_value == pytest.approx(1.0)


def test_sample_size_formulas() -> None:
    # Textbook values: 10% -> 12% at alpha 0.05, power 0.8 needs ~3,835 per arm (arcsine).
    h = 2 * math.asin(math.sqrt(0.12)) - 2 * math.asin(math.sqrt(0.10))
    assert required_samples_proportions(0.10, 0.12) == math.ceil((2.8015852 / h) ** 2)
    # d = 0.5 -> 64 per arm (Cohen's table for the two-sample t-test).
    assert required_samples_means(0.5) == 64
    assert required_samples_means(0.0) is None


def test_invalid_inputs() -> None:
    with pytest.raises(ABTestError, match="0 or 1"):
        evaluate_ab_test([0, 1, 2], [0, 1, 1], CONVERSION)
    with pytest.raises(ABTestError, match="no observations"):
        evaluate_ab_test([], [1.0], ABTestSpec(kpi_type="continuous"))
    with pytest.raises(ABTestError, match="NaN"):
        evaluate_ab_test([1.0, math.nan], [1.0, 2.0], ABTestSpec(kpi_type="continuous"))
    with pytest.raises(ABTestError, match="conversions <= n"):
        evaluate_conversions(11, 10, 1, 10, CONVERSION)
    with pytest.raises(ABTestError, match="kpi_type"):
        ABTestSpec(kpi_type="clicks")  # type: ignore[arg-type]
