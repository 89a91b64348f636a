"""Plots for model cards, rendered to PNG and returned as ``data:`` URIs.

Why data URIs: a model card is read years after the run that produced it, often as a
single file attached to an audit or copied out of an artifact store. Embedding the
images inside the card means it never loses its figures when it is moved.

Why these choices:

- matplotlib is imported lazily inside each function, so importing this module (and
  the CLI that imports it) stays instant, and a deployment without matplotlib can still
  render a card without plots (see :class:`PlottingUnavailableError`).
- We draw on a bare :class:`matplotlib.figure.Figure` with the Agg canvas instead of
  ``pyplot``: no global figure registry, no GUI backend selection, safe to call from the
  worker threads / processes Dagster runs assets in, and nothing to ``close()``.
- Figures are small (6 x 3.5 in at 100 dpi) so a card with four plots stays well under a
  megabyte, and the PNG metadata omits the matplotlib version so the same inputs give the
  same bytes (cards can be content-addressed and diffed).
"""

from __future__ import annotations

import base64
import io
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DATA_URI_PREFIX",
    "PlottingUnavailableError",
    "calibration_chart",
    "data_uri_to_png",
    "feature_importance_chart",
    "png_to_data_uri",
    "predicted_vs_actual_chart",
    "roc_chart",
    "trapezoid_auc",
]

DATA_URI_PREFIX = "data:image/png;base64,"

FIGSIZE: tuple[float, float] = (6.0, 3.5)
DPI = 100
MAX_FEATURES = 15

# One palette shared with the card's CSS so figures and page read as one document.
PRIMARY = "#1f4e79"
ACCENT = "#2a9d8f"
MUTED = "#8a94a6"
GRID = "#e3e7ee"
TEXT = "#1d2433"


class PlottingUnavailableError(RuntimeError):
    """Raised when matplotlib is not installed; the card then renders without figures."""


def png_to_data_uri(png: bytes) -> str:
    """Encode PNG bytes as a ``data:image/png;base64,...`` URI for inline embedding."""
    return DATA_URI_PREFIX + base64.b64encode(png).decode("ascii")


def data_uri_to_png(uri: str) -> bytes:
    """Decode a URI made by :func:`png_to_data_uri` back to PNG bytes.

    Used to write sibling PNG files for Markdown viewers that strip ``data:`` images.
    """
    if not uri.startswith(DATA_URI_PREFIX):
        raise ValueError(f"not a PNG data URI (expected prefix {DATA_URI_PREFIX!r})")
    return base64.b64decode(uri[len(DATA_URI_PREFIX) :], validate=True)


def trapezoid_auc(x: Sequence[float], y: Sequence[float]) -> float:
    """Area under a piecewise-linear curve; used to label ROC plots when no AUC is given."""
    points = sorted(zip(x, y, strict=True))
    return float(
        sum((x1 - x0) * (y0 + y1) / 2.0 for (x0, y0), (x1, y1) in itertools.pairwise(points))
    )


def feature_importance_chart(
    importances: Sequence[Mapping[str, Any]], *, max_features: int = MAX_FEATURES
) -> str:
    """Horizontal bar chart of feature importances (with std as error bars when present).

    Shows the ``max_features`` most important features, largest on top, because the
    reader's question is "what drives this model", not the long tail.
    """
    rows = sorted(importances, key=lambda r: float(r["importance"]), reverse=True)
    rows = rows[:max_features]
    if not rows:
        raise ValueError("feature_importance_chart needs at least one feature")
    names = [str(r["feature"]) for r in reversed(rows)]
    values = [float(r["importance"]) for r in reversed(rows)]
    stds = [_float_or_zero(r.get("std")) for r in reversed(rows)]
    has_std = any(s > 0 for s in stds)

    height = min(max(2.0, 0.9 + 0.3 * len(rows)), 6.0)
    fig, ax = _new_figure((FIGSIZE[0], height))
    ax.barh(
        names,
        values,
        xerr=stds if has_std else None,
        color=PRIMARY,
        ecolor=MUTED,
        capsize=3 if has_std else 0,
        height=0.65,
    )
    ax.axvline(0, color=MUTED, linewidth=0.8)
    ax.set_xlabel("importance" + (" (mean ± std)" if has_std else ""))
    ax.set_title("Feature importance", loc="left")
    ax.grid(axis="x", color=GRID)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    return _to_data_uri(fig)


def roc_chart(fpr: Sequence[float], tpr: Sequence[float], *, auc: float | None = None) -> str:
    """ROC curve with the chance diagonal, labelled with its AUC.

    The diagonal gives the reader a baseline without having to know what AUC means.
    """
    _check_xy(fpr, tpr, "fpr", "tpr")
    area = trapezoid_auc(fpr, tpr) if auc is None else float(auc)
    fig, ax = _new_figure(FIGSIZE)
    ax.plot([0, 1], [0, 1], linestyle="--", color=MUTED, linewidth=1, label="chance (0.50)")
    ax.plot(fpr, tpr, color=PRIMARY, linewidth=2, label=f"model (AUC {area:.3f})")
    ax.fill_between(fpr, tpr, alpha=0.08, color=PRIMARY, step=None)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve", loc="left")
    ax.legend(loc="lower right", frameon=False)
    return _to_data_uri(fig)


def calibration_chart(mean_predicted: Sequence[float], fraction_positive: Sequence[float]) -> str:
    """Reliability diagram: do predicted probabilities match observed frequencies?"""
    _check_xy(mean_predicted, fraction_positive, "mean_predicted", "fraction_positive")
    fig, ax = _new_figure(FIGSIZE)
    ax.plot([0, 1], [0, 1], linestyle="--", color=MUTED, linewidth=1, label="perfectly calibrated")
    ax.plot(
        mean_predicted,
        fraction_positive,
        color=ACCENT,
        marker="o",
        markersize=5,
        linewidth=2,
        label="model",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("fraction of positives")
    ax.set_title("Calibration", loc="left")
    ax.legend(loc="upper left", frameon=False)
    return _to_data_uri(fig)


def predicted_vs_actual_chart(predicted: Sequence[float], actual: Sequence[float]) -> str:
    """Scatter of predictions against actuals with the identity line (for regressors)."""
    _check_xy(predicted, actual, "predicted", "actual")
    lo = min(min(predicted), min(actual))
    hi = max(max(predicted), max(actual))
    pad = (hi - lo) * 0.05 or 1.0
    fig, ax = _new_figure(FIGSIZE)
    ax.plot(
        [lo - pad, hi + pad],
        [lo - pad, hi + pad],
        linestyle="--",
        color=MUTED,
        linewidth=1,
        label="perfect prediction",
    )
    ax.scatter(actual, predicted, s=14, color=PRIMARY, alpha=0.6, edgecolors="none", label="sample")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title("Predicted vs actual", loc="left")
    ax.legend(loc="upper left", frameon=False)
    return _to_data_uri(fig)


def _float_or_zero(value: Any) -> float:
    if value is None:
        return 0.0
    number = float(value)
    return 0.0 if math.isnan(number) else number


def _check_xy(x: Sequence[float], y: Sequence[float], x_name: str, y_name: str) -> None:
    if len(x) != len(y):
        raise ValueError(f"{x_name} and {y_name} differ in length ({len(x)} != {len(y)})")
    if len(x) < 2:
        raise ValueError(f"{x_name}/{y_name} need at least two points to draw a curve")


def _new_figure(size: tuple[float, float]) -> tuple[Figure, Axes]:
    """A styled figure on the Agg canvas, without touching pyplot's global state."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise PlottingUnavailableError(
            "matplotlib is not installed, so model-card plots cannot be drawn; "
            "install it with `pip install matplotlib`"
        ) from exc

    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    ax.tick_params(colors=TEXT, labelsize=9)
    ax.xaxis.label.set_color(TEXT)
    ax.yaxis.label.set_color(TEXT)
    ax.xaxis.label.set_fontsize(9)
    ax.yaxis.label.set_fontsize(9)
    ax.title.set_fontsize(11)
    ax.title.set_color(TEXT)
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _to_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    # Dropping "Software" keeps the bytes independent of the matplotlib version.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return png_to_data_uri(buffer.getvalue())
