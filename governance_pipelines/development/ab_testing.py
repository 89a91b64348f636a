"""Online validation: is the candidate significantly better than the control on a KPI?

Tests (two-sided; "significant" additionally requires the candidate to be better in the
declared direction, which makes the decision a one-sided test at ``alpha / 2``):
    * conversion KPIs (0/1 outcomes or counts): two-proportion z-test with the pooled
      proportion under H0; effect size Cohen's h = 2·asin√p₁ − 2·asin√p₀; the confidence
      interval of the difference uses the unpooled (Wald) standard error.
    * continuous KPIs: Welch's t-test (``scipy.stats.ttest_ind(equal_var=False)``) and its
      Welch–Satterthwaite confidence interval; effect size Cohen's d with the pooled SD.

Sample size needed for the observed effect (per arm, at ``alpha``, ``power``):
    conversions: n = ((z₁₋α/₂ + z_power) / h)²  (the arcsine normal approximation);
    continuous:  the smallest n whose two-sample t-test power (noncentral t) reaches
                 ``power`` for the observed d.

The evaluation refuses to conclude on too little data: below ``min_samples_per_arm`` in
either arm, or when the difference is not significant and the arms are smaller than the
sample size the observed effect would need, the conclusion is ``"inconclusive"`` and the
message says how many more observations per arm are needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

Conclusion = Literal[
    "candidate_better", "candidate_worse", "no_significant_difference", "inconclusive"
]


class ABTestError(ValueError):
    """The outcomes cannot be tested as declared (empty arm, non-binary conversions, NaN)."""


@dataclass(frozen=True)
class ABTestSpec:
    """Fields:
    kpi_type: ``"conversion"`` (0/1 outcomes) or ``"continuous"``.
    direction: which way is better for the KPI (``"higher"`` for conversions, clicks,
        revenue; ``"lower"`` for latency, churn).
    alpha, power: significance level and the power used for the sample-size answer.
    min_samples_per_arm: below this no conclusion is drawn (normal approximations need it).
    kpi_name: for messages and the model card.
    """

    kpi_type: Literal["conversion", "continuous"]
    direction: Literal["higher", "lower"] = "higher"
    alpha: float = 0.05
    power: float = 0.8
    min_samples_per_arm: int = 100
    kpi_name: str = "kpi"

    def __post_init__(self) -> None:
        if self.kpi_type not in ("conversion", "continuous"):
            raise ABTestError(
                f"kpi_type must be 'conversion' or 'continuous', not {self.kpi_type!r}."
            )
        if self.direction not in ("higher", "lower"):
            raise ABTestError(f"direction must be 'higher' or 'lower', not {self.direction!r}.")
        if not (0 < self.alpha < 1 and 0 < self.power < 1):
            raise ABTestError("alpha and power must be strictly between 0 and 1.")


@dataclass(frozen=True)
class ABTestResult:
    """Everything the validation record needs: test, p-value, effect size, verdict.

    ``difference`` is candidate − control (in KPI units); ``ci_low``/``ci_high`` its
    ``1 - alpha`` confidence interval; ``relative_lift`` the difference over the control
    mean (None when the control mean is 0). ``significant`` is the gate: p < alpha and
    the candidate is better in the declared direction.
    """

    kpi_name: str
    kpi_type: str
    test: str
    direction: str
    alpha: float
    n_control: int
    n_candidate: int
    control_mean: float
    candidate_mean: float
    difference: float
    ci_low: float
    ci_high: float
    relative_lift: float | None
    effect_size_name: str
    effect_size: float
    statistic: float
    p_value: float
    required_samples_per_arm: int | None
    additional_samples_per_arm: int
    significant: bool
    conclusion: Conclusion
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(self).items()
        }


def required_samples_proportions(
    p_control: float, p_candidate: float, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Per-arm n to detect this difference in proportions; None for no difference."""
    h = abs(cohens_h(p_control, p_candidate))
    if h == 0:
        return None
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return math.ceil((z / h) ** 2)


def _t_test_power(d: float, n: int, alpha: float) -> float:
    df = 2 * n - 2
    nc = abs(d) * math.sqrt(n / 2)
    critical = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(critical, df, nc) + stats.nct.cdf(-critical, df, nc))


def required_samples_means(d: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Per-arm n for a two-sample t-test to detect Cohen's d; None for d == 0."""
    if d == 0 or not math.isfinite(d):
        return None
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    n = max(2, math.ceil(2 * (z / abs(d)) ** 2))  # normal approximation, then exact t
    while _t_test_power(d, n, alpha) < power:
        n += 1
    return n


def cohens_h(p_control: float, p_candidate: float) -> float:
    return 2 * math.asin(math.sqrt(p_candidate)) - 2 * math.asin(math.sqrt(p_control))


def _verdict(
    spec: ABTestSpec, p_value: float, difference: float, n_min: int, required: int | None
) -> tuple[Conclusion, int, str]:
    """Conclusion, extra observations needed per arm, and the sentence for the record."""
    name, p = spec.kpi_name, f"p = {p_value:.3g}"
    if n_min < spec.min_samples_per_arm:
        more = spec.min_samples_per_arm - n_min
        if required is not None:
            more = max(more, required - n_min)
        message = (
            f"Too little data to conclude on {name}: {n_min} observations in the smaller arm, "
            f"at least {spec.min_samples_per_arm} required; collect {more} more per arm."
        )
        return "inconclusive", more, message
    if p_value < spec.alpha:
        better = difference > 0 if spec.direction == "higher" else difference < 0
        word = "better" if better else "worse"
        message = f"The candidate is significantly {word} on {name} ({p} < {spec.alpha})."
        return ("candidate_better" if better else "candidate_worse"), 0, message
    if required is not None and n_min < required:
        more = required - n_min
        message = (
            f"No significant difference on {name} yet ({p}), but the test is underpowered for "
            f"the observed effect: {required} per arm are needed at power {spec.power:.0%}; "
            f"collect {more} more observations per arm."
        )
        return "inconclusive", more, message
    message = (
        f"No significant difference on {name} ({p}) with enough data to have detected "
        "the observed effect."
    )
    return "no_significant_difference", 0, message


def _as_outcomes(values: Sequence[float] | np.ndarray, arm: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise ABTestError(f"The {arm} arm has no observations.")
    if not np.all(np.isfinite(array)):
        raise ABTestError(f"The {arm} arm contains NaN or infinite outcomes; clean them first.")
    return array


def evaluate_conversions(
    control_conversions: int,
    control_n: int,
    candidate_conversions: int,
    candidate_n: int,
    spec: ABTestSpec,
) -> ABTestResult:
    """Two-proportion z-test (pooled) from conversion counts."""
    for arm, x, n in (
        ("control", control_conversions, control_n),
        ("candidate", candidate_conversions, candidate_n),
    ):
        if n <= 0 or not 0 <= x <= n:
            raise ABTestError(f"The {arm} arm needs 0 <= conversions <= n and n > 0, got {x}/{n}.")
    p0, p1 = control_conversions / control_n, candidate_conversions / candidate_n
    difference = p1 - p0
    pooled = (control_conversions + candidate_conversions) / (control_n + candidate_n)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / control_n + 1 / candidate_n))
    if se_pooled > 0:
        z = difference / se_pooled
        p_value = float(2 * stats.norm.sf(abs(z)))
    else:  # both arms all-0 or all-1: no evidence of any difference
        z, p_value = 0.0, 1.0
    se = math.sqrt(p0 * (1 - p0) / control_n + p1 * (1 - p1) / candidate_n)
    margin = stats.norm.ppf(1 - spec.alpha / 2) * se
    required = required_samples_proportions(p0, p1, spec.alpha, spec.power)
    n_min = min(control_n, candidate_n)
    conclusion, more, message = _verdict(spec, p_value, difference, n_min, required)
    return ABTestResult(
        kpi_name=spec.kpi_name,
        kpi_type="conversion",
        test="two-proportion z-test (pooled, two-sided)",
        direction=spec.direction,
        alpha=spec.alpha,
        n_control=int(control_n),
        n_candidate=int(candidate_n),
        control_mean=p0,
        candidate_mean=p1,
        difference=difference,
        ci_low=difference - margin,
        ci_high=difference + margin,
        relative_lift=difference / p0 if p0 else None,
        effect_size_name="cohen_h",
        effect_size=cohens_h(p0, p1),
        statistic=float(z),
        p_value=p_value,
        required_samples_per_arm=required,
        additional_samples_per_arm=more,
        significant=conclusion == "candidate_better",
        conclusion=conclusion,
        message=message,
    )


def evaluate_ab_test(
    control: Sequence[float] | np.ndarray,
    candidate: Sequence[float] | np.ndarray,
    spec: ABTestSpec,
) -> ABTestResult:
    """Evaluate per-observation outcomes of both arms (0/1 for conversion KPIs)."""
    control_values = _as_outcomes(control, "control")
    candidate_values = _as_outcomes(candidate, "candidate")
    if spec.kpi_type == "conversion":
        for arm, values in (("control", control_values), ("candidate", candidate_values)):
            if not np.isin(values, (0.0, 1.0)).all():
                raise ABTestError(f"Conversion outcomes of the {arm} arm must be 0 or 1.")
        return evaluate_conversions(
            int(control_values.sum()),
            control_values.size,
            int(candidate_values.sum()),
            candidate_values.size,
            spec,
        )
    n0, n1 = control_values.size, candidate_values.size
    if min(n0, n1) < 2:
        raise ABTestError("Welch's t-test needs at least 2 observations per arm.")
    m0, m1 = float(control_values.mean()), float(candidate_values.mean())
    v0, v1 = float(control_values.var(ddof=1)), float(candidate_values.var(ddof=1))
    difference = m1 - m0
    if v0 == 0 and v1 == 0:
        raise ABTestError(
            "Both arms have constant outcomes; a t-test is undefined. Check the KPI logging."
        )
    result = stats.ttest_ind(candidate_values, control_values, equal_var=False)
    interval = result.confidence_interval(confidence_level=1 - spec.alpha)
    pooled_sd = math.sqrt(((n0 - 1) * v0 + (n1 - 1) * v1) / (n0 + n1 - 2))
    d = difference / pooled_sd
    required = required_samples_means(d, spec.alpha, spec.power)
    p_value = float(result.pvalue)
    conclusion, more, message = _verdict(spec, p_value, difference, min(n0, n1), required)
    return ABTestResult(
        kpi_name=spec.kpi_name,
        kpi_type="continuous",
        test="Welch's t-test (two-sided)",
        direction=spec.direction,
        alpha=spec.alpha,
        n_control=n0,
        n_candidate=n1,
        control_mean=m0,
        candidate_mean=m1,
        difference=difference,
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        relative_lift=difference / m0 if m0 else None,
        effect_size_name="cohen_d",
        effect_size=d,
        statistic=float(result.statistic),
        p_value=p_value,
        required_samples_per_arm=required,
        additional_samples_per_arm=more,
        significant=conclusion == "candidate_better",
        conclusion=conclusion,
        message=message,
    )
