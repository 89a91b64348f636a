"""Alert messages for Slack: a concise fallback ``text`` plus Block Kit ``blocks``.

:func:`format_alert` turns plain fields (model, what breached, figure and threshold) into a
:class:`FormattedAlert` ready for :func:`governance_pipelines.alerting.slack.post_message`.
Pure formatting: no network, no Slack client, no dagster import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["AlertKind", "FormattedAlert", "format_alert"]


class AlertKind(StrEnum):
    """What an alert is about; selects its label and emoji."""

    DRIFT = "drift"
    PERFORMANCE = "performance"
    SLA = "sla"
    CHECK_FAILED = "check_failed"
    RUN_FAILURE = "run_failure"
    AUDIT_SUMMARY = "audit_summary"
    INTEGRITY = "integrity"


_KIND_LABELS: Mapping[AlertKind, tuple[str, str]] = {
    AlertKind.DRIFT: (":chart_with_upwards_trend:", "Drift"),
    AlertKind.PERFORMANCE: (":chart_with_downwards_trend:", "Performance"),
    AlertKind.SLA: (":hourglass:", "SLA breach"),
    AlertKind.CHECK_FAILED: (":x:", "Check failed"),
    AlertKind.RUN_FAILURE: (":rotating_light:", "Run failed"),
    AlertKind.AUDIT_SUMMARY: (":memo:", "Audit summary"),
    AlertKind.INTEGRITY: (":lock:", "Integrity violation"),
}

# Block Kit limits: header text 150 chars, section text 3000, button url 3000.
_HEADER_MAX = 150
_SECTION_MAX = 2900


@dataclass(frozen=True)
class FormattedAlert:
    """A message ready for :func:`post_message`: fallback ``text`` plus Block Kit ``blocks``.

    ``text`` is what phones show in the push notification and what screen readers read,
    so it carries the whole alert in one line on its own.
    """

    text: str
    blocks: list[dict[str, Any]]


def format_alert(
    *,
    model: str,
    kind: AlertKind | str,
    breached: str,
    version: str | None = None,
    value: float | str | None = None,
    threshold: float | str | None = None,
    unit: str | None = None,
    url: str | None = None,
    details: str | None = None,
) -> FormattedAlert:
    """Build a concise alert from plain fields.

    ``breached`` names what breached (``"PSI of feature amount"``); ``value`` and
    ``threshold`` are the figure and the limit, compared with the operator their order
    implies (so the text is true for both "higher is worse" and "lower is worse" metrics).
    ``url`` links to the Dagster asset. ``details`` adds one short context line (run id,
    counts for an audit summary). Raises ``ValueError`` for an unknown kind or a non-http
    URL, which Slack would reject as ``invalid_blocks``.
    """
    alert_kind = AlertKind(kind)
    if not model:
        raise ValueError("model must be a non-empty name")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError(f"url must be an http(s) URL, got {url!r}")
    emoji, label = _KIND_LABELS[alert_kind]
    subject = f"{model} {_version_label(version)}".strip()
    comparison = _comparison(value, threshold, unit)

    text = f"{emoji} {label}: {_escape(subject)}: {_escape(breached)}"
    if comparison:
        text += f" {_escape(comparison)}"

    header = f"{label}: {subject}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _truncate(header, _HEADER_MAX), "emoji": True},
        }
    ]
    lines = [f"{emoji} *{_escape(breached)}*"]
    if comparison:
        lines.append(f"`{_escape(comparison)}`")
    blocks.append(
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _truncate("\n".join(lines), _SECTION_MAX)},
        }
    )
    if details:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _truncate(_escape(details), _SECTION_MAX)}],
            }
        )
    if url is not None:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in Dagster"},
                        "url": url,
                        "action_id": "open_in_dagster",
                    }
                ],
            }
        )
    return FormattedAlert(text=text, blocks=blocks)


def _version_label(version: str | None) -> str:
    if version is None or version == "":
        return ""
    return version if version[:1] in {"v", "V"} else f"v{version}"


def _comparison(value: float | str | None, threshold: float | str | None, unit: str | None) -> str:
    """``"0.31 > 0.2"``: the figure against its threshold, or just the figure."""
    if value is None:
        return ""
    suffix = f" {unit}" if unit else ""
    shown = f"{_number(value)}{suffix}"
    if threshold is None:
        return shown
    op = "vs"
    if isinstance(value, int | float) and isinstance(threshold, int | float):
        op = ">" if value > threshold else "<" if value < threshold else "="
    return f"{shown} {op} threshold {_number(threshold)}{suffix}"


def _number(x: float | str) -> str:
    """Short, phone-friendly figures: ``0.3124``, ``1,250``, ``12,345.7``."""
    if isinstance(x, str):
        return x
    if isinstance(x, bool) or not math.isfinite(x):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 1000:
        return f"{x:,.1f}"
    return f"{x:.4g}"


def _escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
