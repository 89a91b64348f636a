"""Markdown for the Dagster UI's metadata: tables, bar charts, column profiles.

Rendering for the UI is the shell's job: the domain packages return records (lists of
dicts, dataclasses) and this module turns them into what the asset and check pages show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from governance_pipelines.development.profiling import ColumnProfile


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


def profile_as_markdown(profiles: list[ColumnProfile]) -> str:
    lines = [
        "| column | dtype | nulls | distinct | mean | std | min | median | max | top values |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in profiles:
        cells = [_fmt(v) for v in (p.mean, p.std, p.minimum, p.p50, p.maximum)]
        lines.append(
            f"| {p.column} | {p.dtype} | {p.nulls} | {p.distinct} | {' | '.join(cells)} | {p.top_values or ''} |"
        )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


_INLINE_IMAGE = re.compile(r"!\[([^\]]*)\]\(data:image/[^)]*\)")


def card_for_ui(card_markdown: str, *, html_url: str | None) -> str:
    """The model card as the asset page shows it: every section and figure the UI can render.

    Inline PNG figures are data URIs of tens of kilobytes each, which the UI does not show
    in metadata; each is named instead, with a link to the HTML card when one is published.
    """
    where = f"[the HTML card]({html_url})" if html_url else "the HTML card"
    return _INLINE_IMAGE.sub(
        lambda m: f"*Figure: {m.group(1) or 'plot'} (in {where}).*", card_markdown
    )
