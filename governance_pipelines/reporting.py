"""Text helpers shared by every layer (the Markdown the UI shows is the Dagster shell's:
`orchestration/markdown.py`)."""

from __future__ import annotations

from collections.abc import Iterable


def clauses(parts: Iterable[object]) -> str:
    """Sentences joined into one line of clauses: "a; b; c" — never "a.; b." when the parts
    are full sentences (library messages and findings end with a period)."""
    texts = [str(part).strip().rstrip(".").rstrip() for part in parts]
    return "; ".join(text for text in texts if text)
