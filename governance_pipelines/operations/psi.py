"""Statistics of two aligned count vectors: PSI and the categorical drift tests.

``CategoryCounts`` holds reference and current counts over the union of categories (or of
numeric values, or histogram bins) and computes Evidently's chi-square, z, Jensen-Shannon
and L-infinity tests and the effect sizes from them; like PSI it needs nothing else.

The population stability index (PSI) is always reported beside the drift test. PSI is the industry's lingua franca for "how much did this feature move": risk teams read
it with the usual bands (< 0.1 stable, 0.1–0.25 moderate, ≥ 0.25 significant). Numeric
columns use 10 bins at the reference's deciles, so the bins are fixed by the training data
and never move with the current window; categorical columns use one bin per category.
Empty bins are floored at ``PSI_EPSILON`` so that a category absent on one side gives a
large but finite PSI instead of infinity.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PSI_BINS = 10
PSI_EPSILON = 1e-4
PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25


def distinct_sorted(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and their cumulative counts (values <= each).

    Neighbour comparison on data that is sorted anyway (``np.unique`` would sort again);
    all-distinct data (continuous features) is returned as is, without gathering a copy,
    and the running counts come for free from the group ends (no ``cumsum``).
    """
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return ordered, np.arange(1, ordered.size + 1, dtype=np.int64)
    ends = np.append(np.flatnonzero(~same) + 1, ordered.size)
    return ordered[ends - 1], ends


def psi_edges_from_sorted(support: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
    """Inner bin edges at the reference deciles (``np.quantile`` 'linear'), de-duplicated.

    Works on the compressed reference (sorted unique values and cumulative counts) so the
    full reference never has to be materialised again.
    """
    n = int(cumulative[-1])
    positions = (n - 1) * np.linspace(0.0, 1.0, PSI_BINS + 1)[1:-1]
    lower = np.floor(positions).astype(np.int64)
    upper = np.minimum(lower + 1, n - 1)
    value_lo = support[np.searchsorted(cumulative, lower, side="right")]
    value_hi = support[np.searchsorted(cumulative, upper, side="right")]
    edges = value_lo + (positions - lower) * (value_hi - value_lo)
    return np.unique(edges)


def psi_bin_counts(
    sorted_values: np.ndarray, edges: np.ndarray, cumulative: np.ndarray | None = None
) -> np.ndarray:
    """Values per bin (-inf, e1], (e1, e2], …, (e_k, inf) of already sorted values.

    Binary-searching the few edges in the sorted values costs O(bins · log n) instead of
    binning every value. With ``cumulative`` (running counts of sorted distinct values,
    as in the compressed reference) the values are weighted by their counts.
    """
    below = np.searchsorted(sorted_values, edges, side="right")  # values <= each edge
    if cumulative is None:
        total = sorted_values.size
    else:
        below = np.concatenate(([0], cumulative))[below]
        total = int(cumulative[-1]) if cumulative.size else 0
    return np.diff(below, prepend=0, append=total)


def psi(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """PSI = Σ (a − e)·ln(a / e) over bins, with empty bins floored at ``PSI_EPSILON``."""
    ref = np.asarray(reference_counts, dtype=np.float64)
    cur = np.asarray(current_counts, dtype=np.float64)
    expected = np.maximum(ref / ref.sum(), PSI_EPSILON)
    actual = np.maximum(cur / cur.sum(), PSI_EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi_band(value: float) -> str:
    """The conventional reading of a PSI value."""
    if value >= PSI_SIGNIFICANT:
        return "significant"
    if value >= PSI_MODERATE:
        return "moderate"
    return "stable"


def _rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``scipy.special.rel_entr`` where y > 0 wherever x > 0 (JS: y is the midpoint).

    Same expression and the same C ``log`` as scipy, so bit-identical, without importing
    ``scipy.special``; the vectors are short (categories or histogram bins).
    """
    pairs = zip(x.tolist(), y.tolist(), strict=True)
    return np.array([a * math.log(a / b) if a > 0 else 0.0 for a, b in pairs], dtype=np.float64)


class CategoryCounts:
    """Reference and current counts aligned over the union of keys (labels or values)."""

    def __init__(self, name: str, kind: str, keys: list[Any], ref: np.ndarray) -> None:
        self.name = name
        self.kind = kind
        self.keys = list(keys)
        self._slot = {k: i for i, k in enumerate(self.keys)}
        self.ref = np.asarray(ref, dtype=np.int64)
        self.cur = np.zeros(len(self.keys), dtype=np.int64)
        self.n = int(self.ref.sum())
        self.m = 0

    def slot(self, key: Any) -> int:
        index = self._slot.get(key)
        if index is None:
            index = self._slot[key] = len(self.keys)
            self.keys.append(key)
            self.ref = np.append(self.ref, 0)
            self.cur = np.append(self.cur, 0)
        return index

    def add(self, keys: list[Any], counts: np.ndarray) -> None:
        for key, count in zip(keys, counts.tolist(), strict=True):
            if count:
                index = self.slot(key)  # may grow self.cur, so look it up first
                self.cur[index] += count
        self.m = int(self.cur.sum())

    def category_counts(self) -> CategoryCounts:
        return self

    def n_unique(self) -> int:
        return int(np.count_nonzero((self.ref + self.cur) > 0))

    def psi_counts(self) -> tuple[np.ndarray, np.ndarray]:
        return self.ref, self.cur

    # --- tests ---
    def chisquare(self) -> tuple[float, float]:
        """Evidently's chi-square: current counts vs reference counts rescaled to m."""
        f_obs = self.cur.astype(np.float64)
        f_exp = self.ref * (self.m / self.n)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = (f_obs - f_exp) ** 2 / f_exp  # a category absent in reference: inf, p=0
        statistic = float(terms.sum())
        from scipy import special

        return statistic, float(special.chdtrc(len(self.keys) - 1, statistic))

    def _binary(self) -> tuple[float, float, int, int]:
        first = self.keys.index(sorted(k for k, r, c in self._present())[0])
        n1, n2 = self.n, self.m
        p1 = float(n1 - self.ref[first]) / n1
        p2 = float(n2 - self.cur[first]) / n2
        return p1, p2, n1, n2

    def _present(self) -> list[tuple[Any, int, int]]:
        return [
            (k, r, c)
            for k, r, c in zip(self.keys, self.ref.tolist(), self.cur.tolist(), strict=True)
            if r or c
        ]

    def z_test(self) -> tuple[float, float]:
        """Two-proportion z-test, as Evidently's ``_z_stat_test`` (p = 1 if both constant)."""
        present = self._present()
        ref_keys = [k for k, r, _ in present if r]
        cur_keys = [k for k, _, c in present if c]
        if len(ref_keys) == 1 and len(cur_keys) == 1 and ref_keys[0] == cur_keys[0]:
            return 0.0, 1.0
        p1, p2, n1, n2 = self._binary()
        pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
        from scipy import special

        return float(z), float(2 * (1 - special.ndtr(np.abs(z))))

    def jensenshannon(self, base: float | None = None) -> float:
        """``scipy.spatial.distance.jensenshannon`` of the two frequency vectors."""
        p = self.ref / self.n
        q = self.cur / self.m
        p = p / np.sum(p)
        q = q / np.sum(q)
        mid = (p + q) / 2.0
        js = np.sum(_rel_entr(p, mid)) + np.sum(_rel_entr(q, mid))
        if base is not None:
            js /= np.log(base)
        return float(np.sqrt(js / 2.0))

    def l_infinity(self) -> float:
        return float(np.max(np.abs(self.ref / self.n - self.cur / self.m)))

    def cramers_v(self) -> float:
        """Cramér's V of the 2 × k (reference vs current) table: effect size for chi-square."""
        table = np.vstack([self.ref, self.cur]).astype(np.float64)
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2:
            return 0.0
        total = table.sum()
        expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / total
        chi2 = float(((table - expected) ** 2 / expected).sum())
        return float(np.sqrt(chi2 / total))

    def cohens_h(self) -> float:
        """|2·asin√p1 − 2·asin√p2|: effect size for the two-proportion z-test."""
        if len(self._present()) < 2:
            return 0.0
        p1, p2, _, _ = self._binary()
        return float(abs(2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2))))
