"""The figures a card shows: which plots the inputs support, drawn, named and referenced.

Every figure is embedded in the HTML as a ``data:`` URI. For Markdown, ``data:`` URIs are
the default too, so the ``.md`` file is self-contained (VS Code, mkdocs, most viewers
render them). GitHub strips ``data:`` images, so ``markdown_images="files"`` links sibling
PNG files instead, whose bytes are returned alongside for the caller to write.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from governance_pipelines.documentation import plots
from governance_pipelines.documentation.card_inputs import ModelCardInputs

__all__ = ["MarkdownImages", "card_figures"]

MarkdownImages = Literal["inline", "files"]


def card_figures(
    inputs: ModelCardInputs, markdown_images: MarkdownImages
) -> tuple[dict[str, dict[str, Any]], str | None, dict[str, bytes]]:
    """Figures by key, a note for the reader when none could be drawn, and PNG bytes by file.

    Each figure has ``title``, ``caption``, ``uri`` (for HTML), ``file`` (its PNG name,
    ``<model>_<version>_<key>.png``) and ``md_src`` (what the Markdown links to).
    """
    figures, note = _draw(inputs)
    prefix = f"{_slug(inputs.model_name)}_{_slug(inputs.version)}"
    images: dict[str, bytes] = {}
    for fig in figures:
        fig["file"] = f"{prefix}_{fig['key']}.png"
        images[fig["file"]] = plots.data_uri_to_png(fig["uri"])
        fig["md_src"] = fig["uri"] if markdown_images == "inline" else fig["file"]
    return {f["key"]: f for f in figures}, note, images


def _draw(inputs: ModelCardInputs) -> tuple[list[dict[str, Any]], str | None]:
    """Draw the plots the inputs support, and a note for the reader when none could be.

    Without matplotlib the card still renders (its text is the record that matters) and
    says why the figures are missing instead of silently dropping them.
    """
    specs: list[tuple[str, str, str, Callable[[], str]]] = []
    if inputs.feature_importances:
        specs.append(
            (
                "feature_importance",
                "Feature importance",
                "Which inputs drive the predictions; bars show mean importance, whiskers one std.",
                lambda: plots.feature_importance_chart(inputs.feature_importances),
            )
        )
    if inputs.roc_curve:
        roc = inputs.roc_curve
        auc = roc.get("auc", inputs.metrics.get("roc_auc", inputs.metrics.get("auc")))
        specs.append(
            (
                "roc_curve",
                "ROC curve",
                "Trade-off between catching positives and raising false alarms at every threshold.",
                lambda: plots.roc_chart(roc["fpr"], roc["tpr"], auc=auc),
            )
        )
    if inputs.calibration:
        cal = inputs.calibration
        specs.append(
            (
                "calibration",
                "Calibration",
                "Whether a predicted 30% really happens about 30% of the time; closer to the diagonal is better.",
                lambda: plots.calibration_chart(cal["mean_predicted"], cal["fraction_positive"]),
            )
        )
    if inputs.predicted_vs_actual:
        pva = inputs.predicted_vs_actual
        specs.append(
            (
                "predicted_vs_actual",
                "Predicted vs actual",
                "Each dot is a held-out row; points on the diagonal are perfect predictions.",
                lambda: plots.predicted_vs_actual_chart(pva["predicted"], pva["actual"]),
            )
        )
    figures = []
    for key, title, caption, draw in specs:
        try:
            uri = draw()
        except plots.PlottingUnavailableError as exc:
            return [], f"Figures omitted: {exc}."
        figures.append({"key": key, "title": title, "caption": caption, "uri": uri})
    return figures, None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("_") or "model"
