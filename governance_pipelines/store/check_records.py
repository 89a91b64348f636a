"""Check results: each evaluation of a governance check, appended and never changed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from governance_pipelines.canonical import canonical_json
from governance_pipelines.store._time import _now, _utc
from governance_pipelines.store.bindings import insert_bound, verified_rows
from governance_pipelines.store.schema import check_results


@dataclass(frozen=True)
class CheckResultRecord:
    model_name: str
    check_name: str
    passed: bool
    severity: str
    summary: str
    evidence: Mapping[str, Any]
    version: int | None
    snapshot_id: str | None
    created_at: datetime
    id: int | None = None


class CheckRecordsMixin:
    """Recording check results and reading them back (latest per check, or by cursor)."""

    # Provided by GovernanceStore (repository.py), which this class is mixed into.
    engine: Engine
    unit_of_work: Callable[[Callable[[sa.Connection], Any]], Any]

    def record_check_result(
        self,
        *,
        model_name: str,
        check_name: str,
        passed: bool,
        severity: str,
        summary: str,
        evidence: Mapping[str, Any],
        actor: str,
        version: int | None = None,
        snapshot_id: str | None = None,
        run_id: str | None = None,
    ) -> CheckResultRecord:
        def work(connection: sa.Connection) -> CheckResultRecord:
            now = _now()
            row, _event = insert_bound(
                connection,
                check_results,
                {
                    "model_name": model_name,
                    "version": version,
                    "snapshot_id": snapshot_id,
                    "check_name": check_name,
                    "passed": passed,
                    "severity": severity,
                    "summary": summary,
                    "evidence_json": canonical_json(evidence),
                    "run_id": run_id,
                    "created_at": now,
                },
                actor=actor,
                action="check.evaluated",
                model_name=model_name,
                version=version,
                payload={
                    "check": check_name,
                    "passed": passed,
                    "severity": severity,
                    "summary": summary,
                    "snapshot_id": snapshot_id,
                    "run_id": run_id,
                },
            )
            return _check_result(row)

        return self.unit_of_work(work)

    def latest_check_results(
        self, model_name: str, *, version: int | None = None
    ) -> list[CheckResultRecord]:
        """The most recent result of each check for a model (and version, when given)."""
        query = sa.select(check_results).where(check_results.c.model_name == model_name)
        if version is not None:
            query = query.where(check_results.c.version == version)
        with self.engine.connect() as connection:
            rows, _forged = verified_rows(
                connection,
                check_results,
                connection.execute(query.order_by(check_results.c.id)).all(),
            )
        latest: dict[str, CheckResultRecord] = {}
        for row in rows:
            latest[row.check_name] = _check_result(row)
        return list(latest.values())

    def check_results_after(self, after_id: int, *, limit: int = 500) -> list[CheckResultRecord]:
        """Check results recorded after `after_id`, oldest first: a cursor for sensors.

        Rows whose audit binding does not verify are skipped (an alert about a forged
        result would be the forger's message); `governance audit verify` names them.
        """
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(check_results)
                .where(check_results.c.id > after_id)
                .order_by(check_results.c.id)
                .limit(limit)
            ).all()
            bound, _forged = verified_rows(connection, check_results, rows)
        return [_check_result(row) for row in bound]

    def last_check_result_id(self) -> int:
        """Where a cursor over check results starts when only new ones matter."""
        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.max(check_results.c.id))).scalar() or 0)


def _check_result(row: sa.Row[Any]) -> CheckResultRecord:
    return CheckResultRecord(
        row.model_name,
        row.check_name,
        row.passed,
        row.severity,
        row.summary,
        json.loads(row.evidence_json),
        row.version,
        row.snapshot_id,
        _utc(row.created_at),
        row.id,
    )
