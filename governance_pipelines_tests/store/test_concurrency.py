"""Several processes appending at once never fork or break the audit chain."""

from __future__ import annotations

import multiprocessing

from governance_pipelines.store import GovernanceStore

WRITERS = 4
EVENTS_PER_WRITER = 25


def _writer(url: str, home: str, writer: int) -> None:
    store = GovernanceStore.open(url, home)
    try:
        for i in range(EVENTS_PER_WRITER):
            store.record_event(actor=f"writer-{writer}", action="test.concurrent", payload={"i": i})
    finally:
        store.dispose()


def test_concurrent_processes_append_one_unbroken_chain(store_url: str, tmp_path) -> None:
    # Processes start on an unmigrated database: first-use migration must be race-free too.
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_writer, args=(store_url, str(tmp_path), writer))
        for writer in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * WRITERS

    store = GovernanceStore.open(store_url, tmp_path)
    try:
        result = store.verify_audit_chain()
        assert result.ok, result.problem
        assert result.verified == WRITERS * EVENTS_PER_WRITER
        events = store.recent_events(limit=WRITERS * EVENTS_PER_WRITER)
        assert {e.actor for e in events} == {f"writer-{w}" for w in range(WRITERS)}
        assert [e.seq for e in events] == list(range(1, WRITERS * EVENTS_PER_WRITER + 1))
    finally:
        store.dispose()
