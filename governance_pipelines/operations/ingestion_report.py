"""What one ingestion of a file did, and the first-reason-wins bookkeeping behind it.

Shared by `log_ingestion.py` (requests) and `label_ingestion.py` (labels): both report the
same way — appended, skipped as already there, rejected by reason with row numbers — so the
CLI, the audit event and a reader of `--json` see one shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["IngestionReport", "Rejections"]

_EXAMPLES = 5


@dataclass(frozen=True)
class IngestionReport:
    """What one ingestion of one file did: appended, skipped as already there, rejected.

    `rejected` has `row` (1-based position in the file), `reason` and `detail`, then the
    file's own columns; `counts_by_reason` has every reason of the kind, zero included.
    """

    kind: str  # "inference" or "labels"
    file: str
    file_format: str
    sha256: str
    rows: int
    appended: int
    skipped: int
    skip_reason: str  # "already_logged" or "already_labelled"
    counts_by_reason: Mapping[str, int]
    rejected: pd.DataFrame
    models: tuple[str, ...] = ()
    days: tuple[str, ...] = ()  # UTC days of the appended requests
    ignored_columns: tuple[str, ...] = ()
    audit_seq: int | None = None

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    def payload(self) -> dict[str, Any]:
        """The audit event's payload: which bytes were ingested and what became of them."""
        return {
            "file": self.file,
            "format": self.file_format,
            "sha256": self.sha256,
            "rows": self.rows,
            "appended": self.appended,
            "skipped": {self.skip_reason: self.skipped},
            "rejected": self.rejected_count,
            "rejected_by_reason": {r: n for r, n in self.counts_by_reason.items() if n},
            "models": list(self.models),
        }

    def examples(self, limit: int = _EXAMPLES) -> list[dict[str, Any]]:
        """The first rejected rows of each reason, up to `limit` in all, in file order."""
        if self.rejected.empty:
            return []
        firsts = self.rejected.groupby("reason", sort=False).head(max(1, limit // 2))
        return [
            {"row": int(r["row"]), "reason": r["reason"], "detail": r["detail"]}
            for _, r in firsts.sort_values("row").head(limit).iterrows()
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            **self.payload(),
            "days": list(self.days),
            "ignored_columns": list(self.ignored_columns),
            "examples": self.examples(),
            "audit_seq": self.audit_seq,
        }


class Rejections:
    """First-reason-wins bookkeeping over a file's rows (positions 0..n-1)."""

    def __init__(self, n: int, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        self.code = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)

    def open(self) -> np.ndarray:
        return pd.isna(self.code)

    def reject(self, position: int, code: str, detail: str) -> None:
        if self.code[position] is None:
            self.code[position], self.detail[position] = code, detail

    def reject_where(self, mask: np.ndarray, code: str, describe: Callable[[int], str]) -> None:
        """Reject the open rows of `mask`; `describe(position)` runs only for those."""
        for position in np.flatnonzero(np.asarray(mask, dtype=bool) & self.open()):
            self.reject(int(position), code, describe(int(position)))

    def copy(self) -> Rejections:
        other = Rejections(0, self.reasons)
        other.code, other.detail = self.code.copy(), self.detail.copy()
        return other

    def counts(self) -> dict[str, int]:
        return {reason: int(np.sum(self.code == reason)) for reason in self.reasons}

    def frame(self, source: pd.DataFrame) -> pd.DataFrame:
        """The rejected rows of `source`: row number, reason and detail, then its columns."""
        mask = ~self.open()
        rows = source.loc[mask].copy()
        rows.insert(0, "detail", self.detail[mask])
        rows.insert(0, "reason", self.code[mask])
        rows.insert(0, "row", np.flatnonzero(mask) + 1)
        return rows.reset_index(drop=True)
