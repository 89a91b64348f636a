"""Data drift between a reference and a (possibly huge) current window, column by column.

Why this exists: Evidently's drift preset is the de-facto standard for "is this feature
drifting", but it needs both frames in pandas and takes ~2 minutes / 2.5 GB on 1M × 1M
rows. This engine reproduces Evidently's default decision rules *exactly* (same test, same
verdict, same statistic to ~1e-12) and reads one column at a time.

The reference is reduced to its sorted distinct values with counts (``NumericReference``,
exact for KS and Wasserstein) and category counts; a ``ReferenceProfile`` stores them for
reuse, a ``SourceReference`` builds them per column on demand (one-off comparisons).

The current column is held and sorted once when it has at most ``EXACT_LIMIT`` values
(daily windows); Wasserstein is then integrated over quantiles and KS read at every
sample point (``drift_stats``). Larger windows are streamed: one pass counts, for every
gap ``[r_{i-1}, r_i)`` between reference values, the current values in it, those equal to
``r_{i-1}`` and their summed distance to ``r_i`` — the exact KS statistic, and the exact
Wasserstein area on every gap where F_cur stays on one side of the constant F_ref. Only
in gaps where F_cur *crosses* F_ref are the values needed; a second pass collects them.
For two samples from the same distribution that is O(√K) gaps; the worst case (the
current mass landing inside one wide reference gap and crossing there) keeps that gap's
values — see ``benchmarks/README.md``. Streaming state is O(K) per column.

Pure numpy; ``scipy`` is imported only by the small-sample KS and the chi-square/z
tests. Never imports dagster or pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from governance_pipelines.operations.drift_inputs import DriftInputError, is_numeric_column
from governance_pipelines.operations.drift_reference import (
    CATEGORICAL,
    NUMERIC,
    CategoricalReference,
    NumericReference,
    ReferenceProfile,
    SourceReference,
)
from governance_pipelines.operations.drift_sources import as_source
from governance_pipelines.operations.drift_stats import (
    CategoryCounts,
    NumericState,
    categorical_state,
)
from governance_pipelines.operations.psi import psi, psi_band

__all__ = [
    "PROFILES",
    "ColumnDrift",
    "ColumnOverride",
    "DriftInputError",
    "DriftPolicy",
    "DriftReport",
    "ReferenceProfile",
    "SourceReference",
    "compute_drift",
]

PROFILES = ("auto", "evidently", "vertex", "sagemaker")
# p-value tests: drift when p <= / < threshold; distances: drift when statistic >= threshold.
P_VALUE_METHODS = ("ks", "chisquare", "z")
DISTANCE_METHODS = ("wasserstein", "jensenshannon", "l_infinity", "js_divergence", "ks_distance")
METHODS = P_VALUE_METHODS + DISTANCE_METHODS
DEFAULT_THRESHOLDS = {
    "ks": 0.05,
    "chisquare": 0.05,
    "z": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "l_infinity": 0.1,
    "js_divergence": 0.3,
    "ks_distance": 0.1,
}
_PROFILE_THRESHOLDS = {"vertex": 0.3, "sagemaker": 0.1}


@dataclass(frozen=True)
class ColumnOverride:
    """Per-column method and/or threshold, replacing what the profile would choose."""

    method: str | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class DriftPolicy:
    """How drift is decided.

    ``profile``: ``auto``/``evidently`` (Evidently 0.7 defaults), ``vertex`` (L-infinity for
    categorical, JS divergence base 2 for numeric, threshold 0.3) or ``sagemaker`` (L-infinity
    0.1 for categorical; for numeric the KS distance — the L-infinity distance between the
    two CDFs, the numeric analogue of SageMaker's categorical rule — with threshold 0.1).

    ``require_effect_size`` (default False, to stay identical to Evidently): with large
    windows every p-value test fires on negligible shifts, so when True a p-value verdict
    also needs the effect size to reach its threshold — normalised Wasserstein for numeric
    (0.1), Cramér's V for categorical (0.1), Cohen's h for binary (0.2; "small").
    """

    profile: str = "auto"
    drift_share: float = 0.5
    overrides: Mapping[str, ColumnOverride] = field(default_factory=dict)
    require_effect_size: bool = False
    # Below this many current values a column gets no verdict (a 1-row window would
    # otherwise report "no drift"); 30 is the usual floor for the tests' approximations.
    min_sample_size: int = 30
    numeric_effect_threshold: float = 0.1
    categorical_effect_threshold: float = 0.1
    binary_effect_threshold: float = 0.2

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown drift profile {self.profile!r}; use one of {PROFILES}")
        for name, override in self.overrides.items():
            if override.method is not None and override.method not in METHODS:
                raise ValueError(
                    f"unknown drift method {override.method!r} for column {name!r}; use one of {METHODS}"
                )


@dataclass(frozen=True)
class ColumnDrift:
    """The verdict for one column. ``statistic`` is Evidently's drift score (the p-value
    for ks/chisquare/z, the distance otherwise); ``test_statistic`` is the raw D/χ²/z."""

    column: str
    kind: str
    method: str
    statistic: float
    threshold: float
    drifted: bool
    p_value: float | None
    test_statistic: float | None
    effect_size: float
    effect_size_name: str
    psi: float
    psi_band: str
    n_reference: int
    n_current: int
    n_unique: int
    # False when the current window has fewer values than the policy's minimum: the
    # statistics are shown, but no verdict is drawn from them.
    assessed: bool = True


@dataclass(frozen=True)
class DriftReport:
    """All column verdicts and the data-set verdict (drifted share ≥ ``drift_share``)."""

    columns: tuple[ColumnDrift, ...]
    drift_share: float
    dataset_drift: bool
    share_threshold: float
    profile: str
    min_sample_size: int = 0

    @property
    def not_assessed(self) -> tuple[str, ...]:
        """Columns with too few current values for a verdict."""
        return tuple(c.column for c in self.columns if not c.assessed)

    @property
    def enough_data(self) -> bool:
        """Whether any column could be assessed: "no drift" is never said about nothing."""
        return any(c.assessed for c in self.columns)

    @property
    def verdict(self) -> str:
        if not self.enough_data:
            return (
                f"NOT ENOUGH DATA (fewer than {self.min_sample_size} current values in every "
                "column): drift not assessed"
            )
        return "DATASET DRIFT" if self.dataset_drift else "no dataset drift"

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "share_threshold": self.share_threshold,
            "profile": self.profile,
            "min_sample_size": self.min_sample_size,
            "enough_data": self.enough_data,
            "columns": [asdict(c) for c in self.columns],
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> DriftReport:
        """The report `to_dict` gave; other keys of a stored record (``day``…) are ignored."""
        return cls(
            columns=tuple(ColumnDrift(**column) for column in record["columns"]),
            drift_share=record["drift_share"],
            dataset_drift=record["dataset_drift"],
            share_threshold=record["share_threshold"],
            profile=record["profile"],
            min_sample_size=record.get("min_sample_size", 0),
        )


def _choose_method(kind: str, n_reference: int, n_unique: int, profile: str) -> str:
    """Evidently's ``_get_default_stattest`` and the vendor profiles."""
    numeric_like = kind == NUMERIC and n_unique > 5
    if profile == "vertex":
        return "js_divergence" if kind == NUMERIC else "l_infinity"
    if profile == "sagemaker":
        return "ks_distance" if kind == NUMERIC else "l_infinity"
    if numeric_like:
        return "ks" if n_reference <= 1000 else "wasserstein"
    if n_reference <= 1000:
        return "chisquare" if n_unique > 2 else "z"
    return "jensenshannon"


def _is_drift(method: str, statistic: float, threshold: float) -> bool:
    if method == "ks":
        return bool(statistic <= threshold)
    if method in P_VALUE_METHODS:
        return bool(statistic < threshold)
    return bool(statistic >= threshold)


def _resolve(
    state: NumericState | CategoryCounts, policy: DriftPolicy
) -> tuple[str, float, CategoryCounts | None, int]:
    """Method, threshold, per-value counts (None for continuous numeric) and n_unique."""
    override = policy.overrides.get(state.name, ColumnOverride())
    if state.m == 0:
        raise DriftInputError(
            f"current column '{state.name}' has no finite/non-null values; check the current window"
        )
    counts = state.category_counts()
    n_unique = state.n_unique()
    method = override.method or _choose_method(state.kind, state.n, n_unique, policy.profile)
    if method in ("ks", "wasserstein") and not isinstance(state, NumericState):
        raise DriftInputError(
            f"method {method!r} needs a numeric column; '{state.name}' is categorical"
        )
    if method in ("chisquare", "z") and counts is None:
        raise DriftInputError(
            f"method {method!r} needs per-value counts; '{state.name}' is a continuous numeric "
            f"column ({n_unique} distinct values, more than 5): use ks, wasserstein, "
            "jensenshannon or l_infinity for it"
        )
    if override.threshold is not None:
        threshold = override.threshold
    elif override.method is None and policy.profile in _PROFILE_THRESHOLDS:
        threshold = _PROFILE_THRESHOLDS[policy.profile]
    else:
        threshold = DEFAULT_THRESHOLDS[method]
    return method, threshold, counts, n_unique


def _per_value_or_binned(
    state: NumericState | CategoryCounts, counts: CategoryCounts | None
) -> CategoryCounts:
    """The per-value counts, else (a continuous numeric column) the binned ones."""
    if counts is not None:
        return counts
    # A categorical state always has per-value counts: it is its own.
    assert isinstance(state, NumericState)
    return state.binned()


def _column_drift(
    state: NumericState | CategoryCounts,
    policy: DriftPolicy,
    method: str,
    threshold: float,
    counts: CategoryCounts | None,
    n_unique: int,
) -> ColumnDrift:
    if isinstance(state, NumericState) and (counts is None or method in ("ks", "wasserstein")):
        effect, effect_name = state.wasserstein_norm(), "wasserstein_norm"
    else:
        # Only a continuous numeric column lacks per-value counts, and it took the branch above.
        assert counts is not None
        if n_unique <= 2:
            effect, effect_name = counts.cohens_h(), "cohens_h"
        else:
            effect, effect_name = counts.cramers_v(), "cramers_v"

    p_value: float | None = None
    test_statistic: float | None = None
    if method == "ks":
        assert isinstance(state, NumericState)  # _resolve refuses ks for categorical columns
        test_statistic, p_value = state.ks()
        statistic = p_value
    elif method == "wasserstein":
        assert isinstance(state, NumericState)  # _resolve refuses it for categorical columns
        statistic = effect if effect_name == "wasserstein_norm" else state.wasserstein_norm()
    elif method == "ks_distance":
        # A categorical state is its own per-value counts (category_counts() returns it).
        statistic = state.ks_statistic() if isinstance(state, NumericState) else state.l_infinity()
    elif method in ("chisquare", "z"):
        assert counts is not None  # _resolve refuses chisquare/z without per-value counts
        test_statistic, p_value = counts.chisquare() if method == "chisquare" else counts.z_test()
        statistic = p_value
    elif method == "l_infinity":
        statistic = _per_value_or_binned(state, counts).l_infinity()
    else:  # jensenshannon (natural log, distance) / js_divergence (base 2, squared)
        binned = _per_value_or_binned(state, counts)
        distance = binned.jensenshannon(base=None if method == "jensenshannon" else 2.0)
        statistic = distance if method == "jensenshannon" else distance**2

    drifted = _is_drift(method, statistic, threshold)
    if drifted and method in P_VALUE_METHODS and policy.require_effect_size:
        limit = {
            "wasserstein_norm": policy.numeric_effect_threshold,
            "cramers_v": policy.categorical_effect_threshold,
            "cohens_h": policy.binary_effect_threshold,
        }[effect_name]
        drifted = effect >= limit
    psi_value = psi(*state.psi_counts())
    return ColumnDrift(
        column=state.name,
        kind=state.kind,
        method=method,
        statistic=float(statistic),
        threshold=float(threshold),
        drifted=drifted,
        p_value=None if p_value is None else float(p_value),
        test_statistic=None if test_statistic is None else float(test_statistic),
        effect_size=float(effect),
        effect_size_name=effect_name,
        psi=psi_value,
        psi_band=psi_band(psi_value),
        n_reference=state.n,
        n_current=state.m,
        n_unique=n_unique,
    )


def compute_drift(
    reference: ReferenceProfile | SourceReference,
    current: Any,
    policy: DriftPolicy | None = None,
    columns: list[str] | None = None,
) -> DriftReport:
    """Compare ``current`` (a frame, or a ``ColumnSource`` such as ``ParquetSource``) with
    the reference (a stored profile, or built per column from a source), column by column;
    only one column's state is resident."""
    policy = policy or DriftPolicy()
    source = as_source(current)
    available = set(source.column_names())
    names = columns if columns is not None else reference.names
    missing = [n for n in names if n not in available]
    if missing:
        raise DriftInputError(
            f"current data lacks reference column(s) {', '.join(missing)}; "
            "compare files with the same columns"
        )
    results: list[ColumnDrift] = []
    for name in names:
        ref = reference.column(name)
        state: NumericState | CategoryCounts
        if isinstance(ref, NumericReference):
            if not source.is_numeric(name):
                raise DriftInputError(
                    f"column '{name}' is numeric in the reference but not in the current data; "
                    f"fix its type or pass it as categorical"
                )
            state = NumericState(ref)
        else:
            assert isinstance(ref, CategoricalReference)
            state = categorical_state(ref)
        for chunk in source.iter_column(name):
            state.update(chunk)
        state.end_pass()
        method, threshold, counts, n_unique = _resolve(state, policy)
        state.prepare(method)
        if state.needs_second_pass():
            for chunk in source.iter_column(name):
                state.update_second_pass(chunk)
        result = _column_drift(state, policy, method, threshold, counts, n_unique)
        if result.n_current < policy.min_sample_size:
            result = replace(result, drifted=False, assessed=False)
        results.append(result)
    assessed = [c for c in results if c.assessed]
    drifted = sum(c.drifted for c in assessed)
    share = drifted / len(assessed) if assessed else 0.0
    return DriftReport(
        columns=tuple(results),
        drift_share=share,
        dataset_drift=bool(assessed) and bool(share >= policy.drift_share),
        share_threshold=policy.drift_share,
        profile=policy.profile,
        min_sample_size=policy.min_sample_size,
    )


__all__ += ["CATEGORICAL", "NUMERIC", "is_numeric_column"]
