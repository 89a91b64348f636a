"""The cost ledger: append-only batches bound to their audit events, restated by correction."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance_pipelines.cli import main
from governance_pipelines.compliance.integrity import verify_store
from governance_pipelines.operations.cost_allocation import Allocation, allocate_day
from governance_pipelines.operations.cost_booking import (
    ComputeHours,
    book_day,
    month_ledger,
    storage_bytes,
    usage_counts,
)
from governance_pipelines.operations.cost_restatement import CORRECTION, booked_totals
from governance_pipelines.operations.focus import allocation_from_row, allocation_to_row
from governance_pipelines.store import GovernanceStore
from governance_pipelines.store.cost_records import (
    COST_BOOKED_ACTION,
    CostBookingConflictError,
    verify_cost_batches,
)
from governance_pipelines.store.immutability import drop_append_only_triggers
from governance_pipelines_tests.operations.cost_fixtures import (
    DAY,
    GB,
    cost_config,
    measured_day,
)

D = Decimal
SUMMARY = {"currency": "USD", "incurred_total": "27.81", "incurred": {}}
# A row written straight into the ledger, claiming the audit event `seq`.
STRAY_ROW = (
    "INSERT INTO cost_allocations (day, model_name, model_version, team, consumer_team, "
    "cost_center, cost_type, charge_category, charge_class, quantity, unit, amount, "
    "currency, restatement, recorded_at, audit_seq) VALUES ('2026-01-15', 'credit', 1, "
    "'risk', 'web', NULL, 'fixed', 'Purchase', NULL, '1', 'Days', '-5.00', 'USD', 0, "
    "'2026-01-16 00:00:00', {seq})"
)
HOURS = {
    "credit": ComputeHours(training=D(2), governance=D("0.5")),
    "churn": ComputeHours(training=D(1)),
}


def _rows() -> list[dict[str, Any]]:
    computed = allocate_day(cost_config(), DAY, measured_day())
    return [allocation_to_row(a) for a in computed.allocations]


def _usage(rows: Sequence[tuple[int, str, int, float | None]]) -> list[dict[str, Any]]:
    return [
        {"version": v, "consumer_team": team, "requests": n, "errors": 0, "latency_ms_sum": ms}
        for v, team, n, ms in rows
    ]


def _table(store: GovernanceStore) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        return [
            dict(r._mapping)
            for r in connection.execute(sa.text("SELECT * FROM cost_allocations ORDER BY id"))
        ]


def _as_insider(store: GovernanceStore, *statements: str) -> None:
    """Someone with the tables' owner role: drops the ledger's guard, then writes."""
    with store.engine.begin() as connection:
        drop_append_only_triggers(connection, ("cost_allocations",))
        for statement in statements:
            connection.exec_driver_sql(statement)


def test_a_booking_writes_its_rows_and_one_audit_event(store: GovernanceStore) -> None:
    rows = _rows()
    booking = store.book_costs(DAY, rows, restatement=0, summary=SUMMARY, actor="nightly")
    (event,) = store.recent_events(action=COST_BOOKED_ACTION)
    assert event.seq == booking.seq
    assert event.actor == "nightly"
    assert event.payload["day"] == DAY.isoformat()
    assert (event.payload["rows"], event.payload["restatement"]) == (len(rows), 0)
    assert event.payload["incurred_total"] == "27.81"
    assert len(event.payload["sha256"]) == 64
    stored = store.cost_rows(DAY, DAY + timedelta(days=1))
    assert [allocation_to_row(allocation_from_row(r)) for r in stored] == rows
    assert {r["audit_seq"] for r in stored} == {booking.seq}
    assert sum(D(r["amount"]) for r in stored) == D("27.81")
    assert store.cost_rows(DAY + timedelta(days=1), DAY + timedelta(days=2)) == []
    assert store.latest_cost_day() == DAY
    assert store.cost_bookings(DAY, DAY + timedelta(days=1)) == [booking]
    assert store.cost_bookings(DAY + timedelta(days=1), DAY + timedelta(days=9)) == []
    assert verify_store(store, files=False).passed


def test_an_empty_store_has_no_cost_day(store: GovernanceStore) -> None:
    assert store.latest_cost_day() is None
    assert store.cost_rows(date(2000, 1, 1), date(2100, 1, 1)) == []


def test_totals_for_dashboards_are_summed_in_the_database(store: GovernanceStore) -> None:
    rows = _rows()
    store.book_costs(DAY, rows, restatement=0, summary=SUMMARY, actor="a")
    store.book_costs(DAY, rows[:1], restatement=1, summary=SUMMARY, actor="a")
    by_team = store.cost_totals(DAY, DAY + timedelta(days=1), "team")
    assert [(t["key"], t["currency"], D(t["amount"])) for t in by_team] == [
        ("clinic", "USD", D("4.99")),
        ("risk", "USD", D("22.82") + D(rows[0]["amount"])),
    ]
    by_consumer = store.cost_totals(DAY, DAY + timedelta(days=1), "consumer_team")
    expected: dict[tuple[str, str | None], Decimal] = {}
    for row in [*rows, rows[0]]:
        key = (row["consumer_team"], row["cost_center"])
        expected[key] = expected.get(key, D(0)) + D(row["amount"])
    assert {(t["key"], t["cost_center"]): D(t["amount"]) for t in by_consumer} == expected
    assert store.cost_totals(DAY + timedelta(days=1), DAY + timedelta(days=2), "team") == []


def test_restatements_are_numbered_and_a_stale_one_writes_nothing(store: GovernanceStore) -> None:
    rows = _rows()
    store.book_costs(DAY, rows, restatement=0, summary=SUMMARY, actor="a")
    events = store.audit_event_count()
    for stale in (0, 2):  # a concurrent first booking, and a skipped number
        with pytest.raises(CostBookingConflictError, match="booked meanwhile"):
            store.book_costs(DAY, rows[:1], restatement=stale, summary=SUMMARY, actor="b")
    assert store.audit_event_count() == events
    assert len(_table(store)) == len(rows)
    second = store.book_costs(DAY, rows[:2], restatement=1, summary=SUMMARY, actor="a")
    assert second.restatement == 1
    # Another day has its own numbering.
    other = store.book_costs(
        DAY + timedelta(days=1), rows[:1], restatement=0, summary=SUMMARY, actor="a"
    )
    assert other.day == (DAY + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cost_allocations SET amount = '0.01'",
        "DELETE FROM cost_allocations",
    ],
)
def test_ledger_rows_cannot_be_updated_or_deleted(store: GovernanceStore, statement: str) -> None:
    store.book_costs(DAY, _rows(), restatement=0, summary=SUMMARY, actor="a")
    before = _table(store)
    with pytest.raises(sa.exc.DBAPIError, match="immutable"), store.engine.begin() as connection:
        connection.exec_driver_sql(statement)
    assert _table(store) == before


@pytest.mark.parametrize(
    ("attack", "found"),
    [
        (
            "UPDATE cost_allocations SET amount = '0.61' WHERE amount = '0.60'",
            "18 rows were booked, 18 are there now and their content changed",
        ),
        (
            "DELETE FROM cost_allocations WHERE amount = '0.60'",
            "18 rows were booked, 17 are there now",
        ),
    ],
)
def test_verification_names_a_tampered_booking(
    store: GovernanceStore, attack: str, found: str
) -> None:
    rows = [r for r in _rows() if r["model_name"] == "credit"]
    assert len(rows) == 18
    booking = store.book_costs(DAY, rows, restatement=0, summary=SUMMARY, actor="a")
    _as_insider(store, attack)
    with store.engine.connect() as connection:
        checked, problems = verify_cost_batches(connection)
    assert checked == 1
    assert problems == [f"costs of {DAY} (booking 0, event #{booking.seq}): {found}"]
    report = verify_store(store, files=False)
    assert not report.passed
    assert any(f"costs of {DAY}" in p for p in report.problems), report.problems


def test_verification_names_rows_added_outside_a_booking(store: GovernanceStore) -> None:
    booking = store.book_costs(DAY, _rows()[:3], restatement=0, summary=SUMMARY, actor="a")
    _as_insider(store, STRAY_ROW.format(seq=booking.seq + 40), STRAY_ROW.format(seq=booking.seq))
    with store.engine.connect() as connection:
        _, problems = verify_cost_batches(connection)
    assert problems == [
        f"costs of {DAY} (booking 0, event #{booking.seq}): 3 rows were booked, 4 are there now",
        f"1 cost row(s) claim event #{booking.seq + 40}, which booked no costs: "
        "rows were added to the ledger outside a booking",
    ]


def test_audit_verify_reports_a_tampered_ledger(sqlite_store: GovernanceStore) -> None:
    sqlite_store.book_costs(DAY, _rows(), restatement=0, summary=SUMMARY, actor="a")
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    assert runner.invoke(main, ["audit", "verify", "--database-url", url]).exit_code == 0
    _as_insider(sqlite_store, "UPDATE cost_allocations SET amount = '0.00' WHERE id = 1")
    broken = runner.invoke(main, ["audit", "verify", "--database-url", url])
    assert broken.exit_code == 1
    assert f"costs of {DAY} (booking 0" in broken.output


# --- booking days end to end: usage in the store, corrections on a rerun ----------------


def assert_ledger_is(store: GovernanceStore, computed: Sequence[Allocation]) -> None:
    """Key by key, the ledger's amount and quantity are the computation's (a key reversed
    to zero stays in the ledger, at zero)."""
    held, wanted = booked_totals(month_ledger(store, DAY)), booked_totals(computed)
    zero = (D(0), D(0))
    assert {k: held.get(k, zero) for k in held.keys() | wanted.keys()} == {
        k: wanted.get(k, zero) for k in held.keys() | wanted.keys()
    }


def test_a_rerun_with_late_usage_books_corrections_and_the_ledger_follows(
    store: GovernanceStore,
) -> None:
    config = cost_config()
    # 3 GB of artifacts on disk (a sparse file: its size without the bytes) and a card.
    artifact = store.home / "artifacts" / "credit" / "v1" / "model.bin"
    artifact.parent.mkdir(parents=True)
    with artifact.open("wb") as sparse:
        sparse.truncate(3 * GB - 100)
    (store.home / "model_cards" / "credit").mkdir(parents=True)
    (store.home / "model_cards" / "credit" / "card.html").write_bytes(b"x" * 100)
    assert storage_bytes(store.home, "credit") == 3 * GB
    assert storage_bytes(store.home, "scan") == 0
    store.replace_usage_day("credit", DAY, _usage([(1, "web", 1500, 3_600_000.0)]))
    first = book_day(config, store, DAY, compute_hours=HOURS, actor="nightly")
    assert first.reconciliation.passed, first.reconciliation.summary()
    assert first.booking is not None
    assert first.booking.restatement == 0
    assert {r.charge_class for r in first.booked} == {None}

    unchanged = book_day(config, store, DAY, compute_hours=HOURS, actor="nightly")
    assert (unchanged.booking, unchanged.booked) == (None, [])
    assert unchanged.reconciliation.passed

    store.replace_usage_day(
        "credit", DAY, _usage([(1, "web", 1500, 3_600_000.0), (2, "ops", 500, 1_800_000.0)])
    )
    store.replace_usage_day("scan", DAY, _usage([(3, "web", 250, None)]))
    rerun = book_day(config, store, DAY, compute_hours=HOURS, actor="nightly")
    assert rerun.booking is not None
    assert rerun.booking.restatement == 1
    assert rerun.booked
    assert {(r.charge_class, r.restatement) for r in rerun.booked} == {(CORRECTION, 1)}
    assert rerun.reconciliation.passed, rerun.reconciliation.summary()
    # The drivers are now those of measured_day(), so the day is the hand-computed 27.81.
    assert rerun.computed.incurred == D("27.81")
    assert_ledger_is(store, allocate_day(config, DAY, measured_day()).allocations)
    assert verify_store(store, files=False).passed


def test_a_day_whose_rows_were_edited_is_not_booked_over(store: GovernanceStore) -> None:
    """A correction would otherwise make the edited ledger add up again, hiding the edit."""
    config = cost_config()
    store.replace_usage_day("credit", DAY, _usage([(1, "web", 1500, 3_600_000.0)]))
    first = book_day(config, store, DAY, compute_hours=HOURS, actor="nightly")
    assert first.booking is not None
    assert store.cost_day_problems(DAY) == []
    rows = len(first.booked)
    first_id = _table(store)[0]["id"]
    _as_insider(
        store,
        f"UPDATE cost_allocations SET amount = '0.00' WHERE id = {first_id}",
        STRAY_ROW.format(seq=first.booking.seq + 40),
    )
    found = [
        f"costs of {DAY} (booking 0, event #{first.booking.seq}): {rows} rows were booked, "
        f"{rows} are there now and their content changed",
        f"1 cost row(s) of {DAY} were added to the ledger outside a booking",
    ]
    assert store.cost_day_problems(DAY) == found
    assert store.cost_day_problems(DAY + timedelta(days=1)) == []
    before = _table(store)
    store.replace_usage_day("credit", DAY, _usage([(1, "web", 3000, 3_600_000.0)]))
    rerun = book_day(config, store, DAY, compute_hours=HOURS, actor="nightly")
    assert (rerun.booking, rerun.booked) == (None, [])
    assert not rerun.reconciliation.passed
    assert rerun.reconciliation.problems[:2] == found
    assert _table(store) == before  # nothing booked over the edit


def test_usage_counts_read_the_day_and_its_request_time(store: GovernanceStore) -> None:
    store.replace_usage_day("credit", DAY, _usage([(1, "web", 10, 2500.5), (2, "ops", 3, None)]))
    store.replace_usage_day("credit", DAY + timedelta(days=1), _usage([(1, "web", 99, 1.0)]))
    counts = usage_counts(store, DAY)
    assert set(counts) == {"credit"}
    assert sorted(
        (u.version, u.consumer_team, u.requests, u.latency_ms_sum) for u in counts["credit"]
    ) == [
        (1, "web", 10, D("2500.5")),
        (2, "ops", 3, D(0)),  # no request time measured: nothing to charge
    ]


USAGE_DAYS = st.lists(
    st.lists(
        st.tuples(
            st.sampled_from(["credit", "scan", "churn"]),
            st.integers(1, 2),
            st.sampled_from(["web", "ops", "risk"]),
            st.integers(0, 20_000),
            st.one_of(st.none(), st.floats(0, 10**8, allow_nan=False)),
        ),
        max_size=6,
        unique_by=lambda t: (t[0], t[1], t[2]),
    ),
    min_size=2,
    max_size=4,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(USAGE_DAYS, st.lists(st.decimals(0, 8, places=2, allow_nan=False), min_size=4, max_size=4))
def test_restating_a_day_again_and_again_keeps_every_row_and_ends_at_the_last_computation(
    runs: list[list[tuple]], hours: list[Decimal]
) -> None:
    config = cost_config()
    with tempfile.TemporaryDirectory() as folder:
        store = GovernanceStore.open(None, Path(folder))
        try:
            seen: list[dict[str, Any]] = []
            for run, training in zip(runs, hours, strict=False):
                for model in ("credit", "scan", "churn"):
                    rows = [(v, t, n, ms) for m, v, t, n, ms in run if m == model]
                    store.replace_usage_day(model, DAY, _usage(rows))
                compute = {"credit": ComputeHours(training=training)}
                booked = book_day(config, store, DAY, compute_hours=compute, actor="nightly")
                assert booked.reconciliation.passed, booked.reconciliation.summary()
                table = _table(store)
                assert table[: len(seen)] == seen  # nothing booked earlier moved or changed
                seen = table
                assert_ledger_is(store, booked.computed.allocations)
                ledger_sum = sum(r.amount for r in month_ledger(store, DAY))
                assert ledger_sum == booked.computed.incurred
            with store.engine.connect() as connection:
                assert verify_cost_batches(connection)[1] == []
        finally:
            store.dispose()
