"""Sufficient statistics of one current numeric column, and the drift tests on them.

(Categorical columns only need counts: ``CategoryCounts`` in ``psi.py``.) ``NumericState`` compares a current numeric column with the reference's sorted distinct
values (``NumericReference``) in one of two modes, chosen by the size of the window:

* exact in memory (up to ``EXACT_LIMIT`` finite values — daily windows): the column is
  buffered and sorted once; Wasserstein is integrated along the probability axis and KS
  read at every sample point (see ``quantile_wasserstein``/``sorted_ks``). One sort per
  column replaces a binary search of every value against the reference, per batch, plus
  a second read of the file — the costs that dominated the streaming engine.
* streaming (larger windows): ``GapSums`` accumulates per-gap counts and distance sums
  over the reference support, then a second pass collects the values in the gaps where
  the two CDFs cross (see ``drift.py``); memory is O(distinct reference values) however
  large the window.

Every formula mirrors the scipy function Evidently calls (``ks_2samp``, ``chisquare``,
``wasserstein_distance``, ``jensenshannon``), so results agree to rounding. ``scipy`` is
imported lazily and only by the small-sample and chi-square/z tests, which keeps CLI
start-up (≈ 0.25 s of ``scipy.special`` imports) off the default path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from governance_pipelines.operations.drift_inputs import to_categorical, to_finite_float
from governance_pipelines.operations.drift_reference import (
    CATEGORICAL,
    NUMERIC,
    CategoricalReference,
    NumericReference,
)
from governance_pipelines.operations.psi import CategoryCounts, distinct_sorted, psi_bin_counts

SMALL_EXACT_KS = 10_000  # scipy's ks_2samp uses the exact distribution up to this size
NEW_VALUE_LIMIT = 4096  # distinct current values tracked outside a small reference support
# Current values per column held (8 bytes each, ~5 transient copies) and sorted in memory;
# larger windows are streamed with O(distinct reference values) state.
EXACT_LIMIT = 4_000_000


class CategoricalState(CategoryCounts):
    """A categorical current column: dictionary codes counted with ``np.bincount``."""

    def update(self, values: Any) -> None:
        chunk = to_categorical(values)
        valid = chunk.codes[chunk.codes >= 0]
        self.add(list(chunk.labels), np.bincount(valid, minlength=len(chunk.labels)))

    def end_pass(self) -> None:
        """Categorical counts are complete after one pass."""

    def prepare(self, method: str) -> None:
        """Nothing to plan: no second pass."""

    def needs_second_pass(self) -> bool:
        return False

    def update_second_pass(self, values: Any) -> None:
        raise AssertionError("categorical columns need one pass")


def categorical_state(ref: CategoricalReference) -> CategoricalState:
    return CategoricalState(ref.name, CATEGORICAL, list(ref.labels), ref.counts)


def quantile_wasserstein(support: np.ndarray, counts: np.ndarray, current: np.ndarray) -> float:
    """Exact ``scipy.stats.wasserstein_distance`` of the reference and a sorted current sample.

    scipy integrates |F − G| over the merged, sorted values of both samples, which needs
    every current value located in the reference. The same area measured along the
    probability axis, ∫₀¹ |F⁻¹(u) − G⁻¹(u)| du, needs no search: on the merged grid
    {i/n} ∪ {j/m} both quantile functions are constant between neighbours (order
    statistics), and the grid depends on n and m only. In integer units t = u·n·m the
    reference steps end at i·m and the current ones at j·n; ⌊i·m/n⌋ − ⌊(i−1)·m/n⌋ current
    steps end inside reference step i, so each order statistic is repeated once per grid
    interval it spans, and the areas are summed with the interval widths.
    """
    n, m = int(counts.sum()), current.size
    x = support if support.size == n else np.repeat(support, counts)  # the sorted sample
    if n == m:  # identical grids: mean absolute difference of the order statistics
        gap = x - current
        return float(np.abs(gap, out=gap).sum()) / n
    ends_x = np.arange(1, n + 1, dtype=np.int64) * m
    ends_y = np.arange(1, m + 1, dtype=np.int64) * n
    repeat_x = 1 + np.diff(ends_x // n, prepend=0)
    repeat_y = 1 + np.diff(ends_y // m, prepend=0)
    grid = np.repeat(ends_x, repeat_x)
    np.minimum(grid, np.repeat(ends_y, repeat_y), out=grid)  # grid points in merged order
    width = np.diff(grid, prepend=0).astype(np.float64)  # zero where both steps end
    del grid, ends_x, ends_y
    gap = np.repeat(x, repeat_x)
    gap -= np.repeat(current, repeat_y)
    np.abs(gap, out=gap)
    return float(gap @ width) / (n * m)


def _signed_sup(diffs: np.ndarray) -> float:
    """KS D from F_ref − F_cur at the evaluation points, as ``ks_2samp`` picks it."""
    max_s = float(diffs.max())
    min_s = float(np.clip(-diffs.min(), 0, 1))
    return min_s if min_s > max_s else max_s


def sorted_ks(support: np.ndarray, cumulative: np.ndarray, current: np.ndarray) -> float:
    """Exact two-sided KS D: both empirical CDFs at every reference and current value."""
    n, m = int(cumulative[-1]), current.size
    ref_below = np.concatenate(([0], cumulative))
    at_ref = cumulative / n - np.searchsorted(current, support, side="right") / m
    f_cur = ref_below[np.searchsorted(support, current, side="right")] / n
    at_cur = f_cur - np.searchsorted(current, current, side="right") / m
    return _signed_sup(np.concatenate((at_ref, at_cur)))


class GapSums:
    """Streaming state for windows beyond ``EXACT_LIMIT``: sums per reference gap.

    For every gap [r_{i-1}, r_i) of the sorted distinct reference values it counts the
    current values inside (``cnt``), those equal to r_{i-1} (``eq``) and their summed
    distance to r_i (``dsum``). That gives the exact KS D and the Wasserstein area of
    every gap where F_cur stays on one side of the constant F_ref; the values of the gaps
    where the CDFs cross are collected by a second pass (``plan``/``collect``).
    """

    def __init__(self, ref: NumericReference, refcum: np.ndarray) -> None:
        self.s, self.refcum, self.n = ref.support, refcum, ref.n
        k = self.k = self.s.size
        self.cnt = np.zeros(k + 1, dtype=np.int64)
        self.eq = np.zeros(k, dtype=np.int64)
        self.dsum = np.zeros(k + 1)  # last gap: distance to r_{K-1}
        self.cross_lo = self.cross_hi = np.empty(0)
        self.collected: list[np.ndarray] = []

    def update(self, y: np.ndarray) -> None:
        """Add a sorted chunk of finite current values."""
        s, k = self.s, self.k
        idx = np.searchsorted(s, y, side="right")
        self.cnt += np.bincount(idx, minlength=k + 1)
        below = idx - 1
        at = (below >= 0) & (s[np.maximum(below, 0)] == y)
        self.eq += np.bincount(below[at], minlength=k)
        distance = s[np.minimum(idx, k - 1)] - y
        top = idx == k
        distance[top] = y[top] - s[k - 1]
        self.dsum += np.bincount(idx, weights=distance, minlength=k + 1)

    def plan(self, m: int) -> None:
        """Find the gaps where F_cur crosses F_ref (their values are needed)."""
        s, n = self.s, self.n
        self.below = np.concatenate([[0], np.cumsum(self.cnt)])
        i = np.arange(1, self.k)
        lo_count = self.below[i] + self.eq[i - 1]
        c_count = self.refcum[i - 1]
        self.crossing = (lo_count * n < c_count * m) & (c_count * m < self.below[i + 1] * n)
        self.above = lo_count * n >= c_count * m
        self.cross_lo = s[i - 1][self.crossing]
        self.cross_hi = s[i][self.crossing]

    def collect(self, y: np.ndarray) -> None:
        """Second pass: keep the values of a sorted chunk inside crossing gaps.

        The (few) gap bounds are searched in the sorted chunk, not every value among the
        gaps; the kept values are the slices [r_{i-1}, r_i) of the chunk.
        """
        if self.cross_lo.size:
            lo = np.searchsorted(y, self.cross_lo, side="left")
            lengths = np.searchsorted(y, self.cross_hi, side="left") - lo
            start_in_output = np.cumsum(lengths) - lengths
            shift = np.repeat(lo - start_in_output, lengths)
            self.collected.append(y[np.arange(shift.size) + shift])

    def wasserstein(self, m: int) -> float:
        s, n, k = self.s, self.n, self.k
        below, refcum = self.below, self.refcum
        total = (self.dsum[0] + self.dsum[k]) / m
        i = np.arange(1, k)
        width = s[i] - s[i - 1]
        level = refcum[i - 1] / n
        integral_f = (below[i] * width + self.dsum[i]) / m
        part = np.where(self.above, integral_f - level * width, level * width - integral_f)
        total += float(part[~self.crossing].sum())
        if self.cross_lo.size:
            vals = np.sort(np.concatenate(self.collected))
            gap = np.searchsorted(s, vals, side="right")
            start = np.searchsorted(gap, gap, side="left")
            rank = np.arange(vals.size) - start + 1
            after = np.empty_like(vals)
            after[:-1] = vals[1:]
            last_in_gap = np.ones(vals.size, dtype=bool)
            last_in_gap[:-1] = gap[1:] != gap[:-1]
            after[last_in_gap] = s[gap[last_in_gap]]
            c = refcum[gap - 1] / n
            total += float(np.sum(np.abs(c - (below[gap] + rank) / m) * (after - vals)))
            first = rank == 1
            g = gap[first]
            lead = np.abs(refcum[g - 1] / n - below[g] / m) * (vals[first] - s[g - 1])
            total += float(lead.sum())
        return total

    def ks_statistic(self, m: int) -> float:
        """Sup of |F_ref − F_cur|, attained at a reference value or just before one."""
        n, k, below, refcum = self.n, self.k, self.below, self.refcum
        at = refcum / n - (below[1 : k + 1] + self.eq) / m
        before_ref = np.concatenate([[0], refcum[:-1]]) / n
        before = (before_ref - below[1 : k + 1] / m)[self.cnt[:k] > 0]
        return _signed_sup(np.concatenate([at, before, [0.0]]))


class NumericState:
    """A current numeric column against its reference: exact in memory, or streamed."""

    kind = NUMERIC

    def __init__(self, ref: NumericReference) -> None:
        self.ref = ref
        self.name = ref.name
        self.K = ref.support.size
        self.n = ref.n
        self.m = 0
        self.refcum = ref.cumulative
        self.buffer: list[np.ndarray] | None = []  # exact mode until the window outgrows it
        self.sorted: np.ndarray | None = None  # the whole sorted window (exact mode)
        self.gaps: GapSums | None = None  # streaming mode
        self.lo, self.hi = np.inf, -np.inf
        self.psi_cur = np.zeros(ref.psi_edges.size + 1, dtype=np.int64)
        self.track_new = self.K <= 20
        self.eq = np.zeros(self.K if self.track_new else 0, dtype=np.int64)  # equal to r_i
        self.new: dict[float, int] = {}
        self.new_overflow = False
        self.hist_edges: np.ndarray | None = None
        self.hist_cur: np.ndarray | None = None
        self._w: float | None = None

    # --- first pass ---
    def update(self, values: Any) -> None:
        y = to_finite_float(values)
        self.m += y.size
        if self.buffer is None:
            self._stream(y)
            return
        self.buffer.append(y)
        if self.m > EXACT_LIMIT:  # too large to hold: replay the buffer, stream from now on
            pending, self.buffer = self.buffer, None
            self.gaps = GapSums(self.ref, self.refcum)
            for chunk in pending:
                self._stream(chunk)

    def _gap_sums(self) -> GapSums:
        """The streaming-mode sums (only a window that outgrew the exact buffer has them)."""
        # Invariant: streaming calls (_stream, the second pass, the gap statistics) happen
        # only after `update` dropped the buffer and created the sums.
        assert self.gaps is not None, f"column '{self.name}' is not in streaming mode"
        return self.gaps

    def _stream(self, y: np.ndarray) -> None:
        y = np.sort(y)
        if y.size:
            self._observe(y)
            self._gap_sums().update(y)

    def end_pass(self) -> None:
        """Sort the buffered window once (exact mode)."""
        if self.buffer is None:
            return
        if len(self.buffer) == 1:
            y = np.sort(self.buffer[0])
        else:
            y = np.concatenate(self.buffer)
            y.sort()
        self.buffer, self.sorted = None, y
        if y.size:
            self._observe(y)

    def _observe(self, y: np.ndarray) -> None:
        """Range, PSI bins and (≤ 20 reference values) per-value counts of a sorted chunk."""
        self.lo, self.hi = min(self.lo, y[0]), max(self.hi, y[-1])
        self.psi_cur += psi_bin_counts(y, self.ref.psi_edges)
        if not self.track_new or self.new_overflow:
            return
        values, below = distinct_sorted(y)
        counts = np.diff(below, prepend=0)
        pos = np.minimum(np.searchsorted(self.ref.support, values), self.K - 1)
        known = self.ref.support[pos] == values
        self.eq[pos[known]] += counts[known]
        fresh = ~known
        if np.count_nonzero(fresh) > NEW_VALUE_LIMIT:
            self.new_overflow, self.new = True, {}
            return
        for value, count in zip(values[fresh].tolist(), counts[fresh].tolist(), strict=True):
            self.new[value] = self.new.get(value, 0) + count
        if len(self.new) > NEW_VALUE_LIMIT:
            self.new_overflow, self.new = True, {}

    def n_unique(self) -> int:
        """Distinct values over reference ∪ current (a lower bound beyond 20 reference values)."""
        if not self.track_new:
            return self.K
        return self.K + (NEW_VALUE_LIMIT + 1 if self.new_overflow else len(self.new))

    def _value_counts(self) -> CategoryCounts:
        counts = CategoryCounts(self.name, NUMERIC, self.ref.support.tolist(), self.ref.counts)
        counts.cur[: self.K] = self.eq
        counts.add(list(self.new), np.array(list(self.new.values()), dtype=np.int64))
        return counts

    def category_counts(self) -> CategoryCounts | None:
        """Per-value counts when the column has ≤ 5 distinct values (Evidently's rule)."""
        return self._value_counts() if self.n_unique() <= 5 else None

    def psi_counts(self) -> tuple[np.ndarray, np.ndarray]:
        return psi_bin_counts(self.ref.support, self.ref.psi_edges, self.refcum), self.psi_cur

    # --- planning the second pass (streaming mode, or Sturges bins) ---
    def prepare(self, method: str) -> None:
        """Sturges bins if a binned test needs them; crossing gaps when streaming."""
        if method in ("jensenshannon", "js_divergence", "l_infinity") and self.K > 20:
            s, n, m = self.ref.support, self.n, self.m
            first, last = min(s[0], self.lo), max(s[-1], self.hi)
            width = (last - first) / (np.log2(n + m) + 1.0)  # numpy's 'sturges' rule
            if first == last:
                first, last = first - 0.5, last + 0.5
            bins = int(np.ceil((last - first) / width)) if width else 1
            self.hist_edges = np.linspace(first, last, bins + 1, endpoint=True)
            self.hist_cur = np.zeros(bins, dtype=np.int64)
            if self.sorted is not None:
                self.hist_cur += np.histogram(self.sorted, self.hist_edges)[0]
        if self.gaps is not None:
            self.gaps.plan(self.m)

    def needs_second_pass(self) -> bool:
        return self.gaps is not None and (
            self.gaps.cross_lo.size > 0 or self.hist_edges is not None
        )

    def update_second_pass(self, values: Any) -> None:
        y = np.sort(to_finite_float(values))
        self._gap_sums().collect(y)
        if self.hist_edges is not None:
            self.hist_cur += np.histogram(y, self.hist_edges)[0]

    # --- statistics ---
    def wasserstein(self) -> float:
        """Exact ``scipy.stats.wasserstein_distance(reference, current)``."""
        if self._w is None:
            if self.sorted is not None:
                self._w = quantile_wasserstein(self.ref.support, self.ref.counts, self.sorted)
            else:
                self._w = self._gap_sums().wasserstein(self.m)
        return self._w

    def wasserstein_norm(self) -> float:
        """Evidently's statistic: Wasserstein / max(std(reference, ddof=0), 0.001)."""
        return self.wasserstein() / max(self.ref.std, 0.001)

    def ks_statistic(self) -> float:
        """Exact two-sided KS D."""
        if self.sorted is not None:
            return sorted_ks(self.ref.support, self.refcum, self.sorted)
        return self._gap_sums().ks_statistic(self.m)

    def ks(self) -> tuple[float, float]:
        """(D, p) as ``scipy.stats.ks_2samp(..., method='auto')``."""
        from scipy import stats

        if max(self.n, self.m) <= SMALL_EXACT_KS and self.sorted is not None:
            result = stats.ks_2samp(self.ref.values(), self.sorted)
            return float(result.statistic), float(result.pvalue)
        d = self.ks_statistic()
        big, small = sorted([float(self.n), float(self.m)], reverse=True)
        en = big * small / (big + small)
        return d, float(np.clip(stats.kstwo.sf(d, np.round(en)), 0, 1))

    def binned(self) -> CategoryCounts:
        """Evidently's ``get_binned_data``: per value up to 20 reference values, else Sturges."""
        if self.hist_edges is None:
            if self.new_overflow:
                raise ValueError(
                    f"column '{self.name}' has too many distinct current values for per-value "
                    "binning; use method 'wasserstein' or 'ks' for it"
                )
            return self._value_counts()
        ref_hist = np.histogram(self.ref.support, self.hist_edges, weights=self.ref.counts)[0]
        keys = list(range(ref_hist.size))
        counts = CategoryCounts(self.name, NUMERIC, keys, np.rint(ref_hist).astype(np.int64))
        assert self.hist_cur is not None  # prepare() sets it together with hist_edges
        counts.add(keys, self.hist_cur)
        return counts
