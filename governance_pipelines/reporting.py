"""Plain-text renderings for Dagster metadata: Markdown tables and bar charts.

Kept dependency-free so that what the UI shows is exactly what the store recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def markdown_table(rows: Sequence[Mapping[str, Any]], *, empty: str = "none") -> str:
    """A Markdown table whose columns are the first row's keys; floats to 4 significant digits."""
    if not rows:
        return empty
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column)) for column in columns) + " |")
    return "\n".join(lines)


def bar_chart(title: str, bars: Sequence[tuple[str, float, str]], *, width: int = 20) -> str:
    """A horizontal bar chart in a code block: renders wherever Markdown does, no images."""
    top = max((value for _, value, _ in bars), default=0.0) or 1.0
    lines = [title, "```"]
    for label, value, note in sorted(bars, key=lambda bar: -bar[1]):
        bar = "█" * max(1, round(width * value / top)) if value > 0 else ""
        lines.append(f"{label[:20]:<20} {bar:<{width}} {value:.3f}{' ' + note if note else ''}")
    lines.append("```")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def clauses(parts: Iterable[object]) -> str:
    """Sentences joined into one line of clauses: "a; b; c" — never "a.; b." when the parts
    are full sentences (library messages and findings end with a period)."""
    texts = [str(part).strip().rstrip(".").rstrip() for part in parts]
    return "; ".join(text for text in texts if text)
