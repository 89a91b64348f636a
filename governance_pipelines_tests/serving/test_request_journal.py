"""The request journal: acknowledged requests survive a SIGKILL; memory stays bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from governance_pipelines.serving.request_journal import RequestJournal, replay_orphaned_segments


class FakeLog:
    """An inference log keyed by request id (idempotent, like the real one)."""

    def __init__(self, fail: bool = False) -> None:
        self.rows: dict[str, Mapping[str, Any]] = {}
        self.fail = fail
        self.lock = threading.Lock()

    def insert(self, rows: Sequence[Mapping[str, Any]]) -> int:
        if self.fail:
            raise ConnectionError("database is down")
        with self.lock:
            new = {str(r["request_id"]): r for r in rows if str(r["request_id"]) not in self.rows}
            self.rows.update(new)
            return len(new)


def _row(i: int) -> dict[str, Any]:
    return {"request_id": f"r-{i}", "model_name": "m", "status": "ok", "latency_ms": 1.5}


def test_rows_reach_the_log_in_batches_and_segments_are_removed(tmp_path: Path) -> None:
    log = FakeLog()
    journal = RequestJournal(
        tmp_path, log.insert, batch_rows=50, flush_seconds=0.05, segment_lines=120
    )
    journal.start()
    for i in range(500):
        assert journal.append(_row(i))
    journal.close()
    assert len(log.rows) == 500
    assert journal.counts.logged == 500
    assert list(tmp_path.glob("segment-*")) == []  # everything is in the log


def test_each_flush_starts_a_new_segment_and_syncs_only_retired_ones(tmp_path: Path) -> None:
    """Appends never share a file with an fsync; lines after a flush still survive a kill."""
    log = FakeLog()
    journal = RequestJournal(tmp_path, log.insert, flush_seconds=3600)
    journal.start()
    for i in range(3):
        journal.append(_row(i))
    (before,) = tmp_path.glob("segment-*")
    assert journal.flush() == 3
    assert not before.exists()  # retired, synced, written to the log, removed
    journal.append(_row(3))
    (after,) = tmp_path.glob("segment-*")
    assert after != before
    assert after.read_text().count("\n") == 1
    os.close(journal._current.fd)  # as if killed: the lock goes, the segment stays
    assert replay_orphaned_segments(tmp_path, log.insert) == 1
    assert sorted(log.rows) == ["r-0", "r-1", "r-2", "r-3"]


def test_a_closed_journal_refuses_appends(tmp_path: Path) -> None:
    log = FakeLog()
    journal = RequestJournal(tmp_path, log.insert, flush_seconds=3600)
    journal.start()
    assert journal.append(_row(1))
    journal.close()
    assert not journal.append(_row(2))  # e.g. a shadow score finishing during shutdown
    assert sorted(log.rows) == ["r-1"]
    assert list(tmp_path.glob("segment-*")) == []


def test_flush_waits_for_a_flush_already_under_way(tmp_path: Path) -> None:
    """The labels endpoint flushes to find a just-answered request: if the flusher thread
    has taken that row but not committed it yet, flush() must wait for it, not return."""
    log = FakeLog()
    inserting = threading.Event()

    def slow_insert(rows: Sequence[Mapping[str, Any]]) -> int:
        inserting.set()
        time.sleep(0.3)
        return log.insert(rows)

    journal = RequestJournal(tmp_path, slow_insert, flush_seconds=3600)
    journal.start()
    journal.append(_row(1))
    background = threading.Thread(target=journal.flush)
    background.start()
    assert inserting.wait(5)
    journal.flush()  # nothing pending here, but the row is still on its way
    assert "r-1" in log.rows
    background.join()
    journal.close()


def test_a_database_outage_keeps_rows_until_it_is_back(tmp_path: Path) -> None:
    log = FakeLog(fail=True)
    journal = RequestJournal(tmp_path, log.insert, flush_seconds=0.01)
    journal.start()
    for i in range(20):
        journal.append(_row(i))
    time.sleep(0.1)
    assert journal.counts.flush_errors >= 1
    assert journal.counts.pending == 20
    log.fail = False
    deadline = time.time() + 10
    while journal.counts.logged < 20 and time.time() < deadline:
        time.sleep(0.05)
    journal.close()
    assert len(log.rows) == 20


def test_overload_is_refused_instead_of_queued_without_bound(tmp_path: Path) -> None:
    log = FakeLog(fail=True)  # nothing drains
    journal = RequestJournal(tmp_path, log.insert, flush_seconds=60, max_pending=100)
    journal.start()
    accepted = [journal.append(_row(i)) for i in range(150)]
    assert accepted.count(True) == 100
    assert journal.counts.rejected == 50
    assert journal.counts.pending == 100


_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from governance_pipelines.serving.request_journal import RequestJournal

    def down(rows):
        raise ConnectionError("never reaches the database before the kill")

    journal = RequestJournal(Path(sys.argv[1]), down, flush_seconds=3600)
    journal.start()
    for i in range(int(sys.argv[2])):
        journal.append({"request_id": f"r-{i}", "model_name": "m", "status": "ok"})
        print(f"ack r-{i}", flush=True)
    time.sleep(3600)
    """
)


def test_acknowledged_rows_survive_sigkill_and_are_replayed(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path), "2000"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged = []
    for line in child.stdout:
        acknowledged.append(line.split()[1])
        if len(acknowledged) == 2000:
            break
    # While it lives, its segment is locked: nobody else replays it.
    log = FakeLog()
    assert replay_orphaned_segments(tmp_path, log.insert) == 0
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert replay_orphaned_segments(tmp_path, log.insert) == 2000
    assert set(log.rows) == set(acknowledged)
    assert list(tmp_path.glob("segment-*")) == []
    # Replaying again adds nothing (the log is idempotent on request id).
    assert replay_orphaned_segments(tmp_path, log.insert) == 0


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "segment-1-x.jsonl").write_text('{"request_id": "a"}\n{"request_id": "b"')
    log = FakeLog()
    assert replay_orphaned_segments(tmp_path, log.insert) == 1
    assert set(log.rows) == {"a"}
