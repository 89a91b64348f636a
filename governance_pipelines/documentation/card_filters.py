"""Jinja2 filters, finalizers and escaping for the HTML and Markdown model-card templates.

Escaping is on by default for both formats: autoescape in HTML; in Markdown every
expression has ``&``, ``<`` and ``>`` escaped by :func:`finalize_markdown` (so
``<script>`` in a description stays text when the Markdown is later rendered to HTML),
with explicit filters for code spans, code blocks and table cells. Filters that build
markup return :class:`~markupsafe.Markup` so they are not escaped a second time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

__all__ = [
    "FILTERS",
    "finalize_html",
    "finalize_markdown",
    "format_number",
    "param_value",
    "tidy_markdown",
]


# --------------------------------------------------------------------------------------
# Values for humans
# --------------------------------------------------------------------------------------


def param_value(value: Any) -> str:
    """Parameters as their Python-ish literal so they can be pasted back into code."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def format_number(value: Any, digits: int = 4) -> str:
    """Numbers for humans: thousands separators for counts, 4 significant digits otherwise."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value.is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:.{digits}g}"
    return str(value)


def _pct(value: Any) -> float:
    """Clamp a 0..1 rate to a CSS percentage for inline bars."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    if math.isnan(number):
        return 0.0
    return round(max(0.0, min(1.0, number)) * 100, 1)


def _short_hash(value: Any, length: int = 12) -> str:
    text = str(value)
    return text.split(":", 1)[-1][:length] if len(text) > length else text


# --------------------------------------------------------------------------------------
# Finalizers: how every ``{{ expression }}`` is printed
# --------------------------------------------------------------------------------------


def finalize_html(value: Any) -> Any:
    """Print None as an empty string instead of the word "None"."""
    return "" if value is None else value


def finalize_markdown(value: Any) -> Any:
    """Escape ``& < >`` in every Markdown expression unless a filter marked it safe.

    Markdown passes raw HTML through to the page it is rendered into, so user text must
    not be able to inject tags. Entities render as the original characters.
    """
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return _md_escape(str(value))


# --------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(value: Any) -> str:
    """Collapse all whitespace, newlines included, to single spaces."""
    return " ".join(str(value).split())


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _md_cell(value: Any) -> Markup:
    """A Markdown table cell: escaped, pipes escaped, line breaks as ``<br>``."""
    if value is None:
        return Markup("")
    text = format_number(value) if isinstance(value, int | float) else str(value)
    text = _md_escape(text).replace("|", "\\|")
    text = re.sub(r"\r?\n", "<br>", text)
    return Markup(text)


def _md_inline(value: Any) -> Markup:
    """Escaped text kept on one line, for headings, list items and the header line.

    A newline in a name could otherwise open a code fence or a heading and swallow the
    rest of the card.
    """
    return Markup(_md_escape(_one_line(value)))


def _md_code(value: Any) -> Markup:
    """An inline code span that survives backticks in the value (CommonMark rule)."""
    text = str(value).replace("\n", " ")
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def _md_code_cell(value: Any) -> Markup:
    """An inline code span inside a GFM table cell.

    GFM splits table cells on ``|`` before it parses code spans, so an unescaped pipe
    would end the span early and expose the rest of the value as raw HTML.
    """
    return Markup(str(_md_code(value)).replace("|", "\\|"))


def _md_block(value: Any, language: str = "") -> Markup:
    """A fenced code block whose fence is longer than any backtick run inside it."""
    text = str(value).rstrip("\n")
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return Markup(f"{fence}{language}\n{text}\n{fence}")


def _mermaid_label(value: Any) -> Markup:
    """Text for a quoted mermaid node label: one line, quotes/brackets/backticks as entity codes."""
    text = _one_line(value)
    for char, code in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;")):
        text = text.replace(char, code)
    return Markup(text)


def tidy_markdown(text: str) -> str:
    """Collapse runs of blank lines left by template logic, except inside code fences.

    Fenced blocks are kept byte for byte: the reproduce command must stay exact.
    """
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if fence is None:
            match = re.match(r"(`{3,}|~{3,})", stripped)
            if match:
                fence = match.group(1)
            elif not line.strip() and out and not out[-1].strip():
                continue
        elif stripped.startswith(fence) and not stripped[len(fence) :].strip():
            fence = None
        out.append(line.rstrip() if fence is None else line)
    return "\n".join(out).strip("\n") + "\n"


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------


def _paragraphs(value: Any) -> Markup:
    """Free text as HTML paragraphs: blank lines split paragraphs, newlines become <br>."""
    if value is None:
        return Markup("")
    chunks: Iterable[str] = (c.strip() for c in re.split(r"\n\s*\n", str(value)))
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in c.splitlines()))
        for c in chunks
        if c
    )


def _ticks_to_code(value: Any) -> Markup:
    """Escape text for HTML and show its `backtick` spans as ``<code>``.

    Gap messages name input fields in backticks so they read well in Markdown too.
    """
    parts = re.split(r"`([^`]+)`", str(value))
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
        for i, part in enumerate(parts)
    )


FILTERS: Mapping[str, Callable[..., Any]] = {
    "num": format_number,
    "value": param_value,
    "short_hash": _short_hash,
    "md_cell": _md_cell,
    "md_code": _md_code,
    "md_inline": _md_inline,
    "md_code_cell": _md_code_cell,
    "md_block": _md_block,
    "mermaid_label": _mermaid_label,
    "paragraphs": _paragraphs,
    "pct": _pct,
    "ticks": _ticks_to_code,
}
"""The filters both templates can use, by the name templates call them."""
