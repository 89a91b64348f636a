"""Every answered request reaches the inference log, even if the gateway is killed.

Writing each request to the database before answering would put a transaction on every
request's path; batching in memory would lose the batch when the process dies. So the
gateway appends each answered request as one JSON line to a journal file (a single
`write()`: once it returns, the line is in the operating system's page cache and survives
a SIGKILL of the process) and only then answers. A background thread moves journal lines
to the inference log in batches, idempotently on request id, and deletes a journal segment
once all its lines are in the database. A gateway that starts replays the segments no live
process holds (each process holds its own segment under an exclusive `flock`), so a killed
worker's acknowledged requests land too.

Durability against power loss needs the page cache on disk: at every batch the flusher
starts a new segment and `fsync`s the ones it is about to write to the database, so at most
one flush interval is exposed to a machine crash (not to a process crash), and no append
ever waits for a sync.

Back-pressure: `append` refuses (returns False) when more than `max_pending` lines wait for
the database, and the gateway answers 503 with `Retry-After` — memory stays bounded when the
database is slower than the traffic.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["JournalCounts", "RequestJournal", "replay_orphaned_segments"]

LOGGER = logging.getLogger(__name__)
Insert = Callable[[Sequence[Mapping[str, Any]]], int]  # returns rows newly written
_SEGMENT_GLOB = "segment-*.jsonl"


@dataclass
class JournalCounts:
    appended: int = 0
    logged: int = 0  # newly written to the inference log by this process
    replayed: int = 0  # lines of orphaned segments written at start
    rejected: int = 0  # refused for back-pressure
    flush_errors: int = 0
    pending: int = 0


@dataclass
class _Segment:
    path: Path
    fd: int
    lines: int = 0
    flushed: int = 0
    closed: bool = False


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The complete lines of a segment (a torn last line was never acknowledged)."""
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return
            try:
                yield json.loads(raw)
            except json.JSONDecodeError:
                LOGGER.warning("skipping an unreadable journal line in %s", path)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def replay_orphaned_segments(folder: Path, insert: Insert, *, batch: int = 2_000) -> int:
    """Write the lines of segments no live process holds; delete each once written."""
    written = 0
    for path in sorted(folder.glob(_SEGMENT_GLOB)):
        fd = os.open(path, os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live gateway process owns it
            rows: list[dict[str, Any]] = []
            for row in _read_lines(path):
                rows.append(row)
                if len(rows) >= batch:
                    written += insert(rows)
                    rows = []
            if rows:
                written += insert(rows)
            path.unlink()
        finally:
            os.close(fd)
    return written


@dataclass
class RequestJournal:
    folder: Path
    insert: Insert
    batch_rows: int = 1_000
    flush_seconds: float = 0.2
    max_pending: int = 20_000
    segment_lines: int = 50_000
    counts: JournalCounts = field(default_factory=JournalCounts)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending: list[tuple[_Segment, dict[str, Any]]] = []
        self._segments: list[_Segment] = []
        self._current: _Segment | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._flushing = threading.Lock()  # one flush at a time, waited for by the next

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.counts.replayed += replay_orphaned_segments(self.folder, self.insert)
        self._current = self._open_segment()
        self._thread = threading.Thread(target=self._run, name="request-journal", daemon=True)
        self._thread.start()

    def _open_segment(self) -> _Segment:
        path = self.folder / f"segment-{os.getpid()}-{uuid.uuid4().hex[:12]}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        segment = _Segment(path, fd)
        self._segments.append(segment)
        return segment

    def append(self, row: Mapping[str, Any]) -> bool:
        """Journal one answered request; False (nothing written) when over `max_pending`."""
        return self.append_many([row])

    def admits(self, rows: int) -> bool:
        """Is there room for `rows` more lines now? When not, the refusal is counted and the
        caller answers 503 before doing any work (`append_many` still decides at the end)."""
        with self._lock:
            if len(self._pending) + rows <= self.max_pending:
                return True
            self.counts.rejected += 1
            return False

    def append_many(self, rows: Sequence[Mapping[str, Any]]) -> bool:
        """Journal the rows of one answer in a single write, or none of them (over
        `max_pending`: the caller answers 503 and nothing was acknowledged)."""
        data = b"".join(
            (json.dumps(row, separators=(",", ":"), default=str) + "\n").encode("utf-8")
            for row in rows
        )
        with self._lock:
            if self._closed or len(self._pending) + len(rows) > self.max_pending:
                self.counts.rejected += 1
                return False
            segment = self._current
            assert segment is not None, "start() the journal before appending"
            _write_all(segment.fd, data)
            segment.lines += len(rows)
            self._pending.extend((segment, dict(row)) for row in rows)
            self.counts.appended += len(rows)
            self.counts.pending = len(self._pending)
            if segment.lines >= self.segment_lines:
                segment.closed = True
                self._current = self._open_segment()
            if len(self._pending) >= self.batch_rows:
                self._wake.set()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()
        self.flush()

    def flush(self) -> int:
        """Move what is pending to the inference log (called by the thread, at close, and by
        whoever needs the rows in the log now). When it returns, every line appended before
        the call is in the log, or kept for a retry — also the lines of a flush another
        thread had under way, which it waits for."""
        with self._flushing:
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            batch, self._pending = self._pending, []
            if batch:
                self._rotate()
        if not batch:
            return 0
        for segment in {id(s): s for s, _ in batch}.values():
            os.fsync(segment.fd)  # nobody appends to it any more: no write waits for this
        try:
            written = self.insert([row for _, row in batch])
        except Exception:  # the database is down: keep the lines, retry next flush
            LOGGER.exception(
                "inference log unavailable; %d request(s) kept in the journal", len(batch)
            )
            with self._lock:
                self._pending = batch + self._pending
                self.counts.flush_errors += 1
                self.counts.pending = len(self._pending)
            time.sleep(min(self.flush_seconds * 5, 2.0))
            return 0
        with self._lock:
            self.counts.logged += written
            self.counts.pending = len(self._pending)
            for segment, _ in batch:
                segment.flushed += 1
            done = [s for s in self._segments if s.closed and s.flushed >= s.lines]
            for segment in done:
                os.close(segment.fd)
                segment.path.unlink(missing_ok=True)
                self._segments.remove(segment)
        return written

    def _rotate(self) -> None:
        """New lines go to a fresh segment, so the flusher can `fsync` the previous one
        without blocking an append (a write to a file being synced waits for the sync,
        tens of milliseconds on a busy disk). Called under the lock."""
        current = self._current
        if current is None or current.lines == 0:
            return
        try:
            self._current = self._open_segment()
        except OSError:  # e.g. the disk is full: keep appending where we are
            LOGGER.exception("could not open a new journal segment; keeping %s", current.path)
            return
        current.closed = True

    def close(self) -> None:
        """Flush everything and remove this process's segments (all lines are logged).
        Appends from now on are refused (a shadow score finishing during shutdown)."""
        with self._lock:
            self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()
        with self._lock:
            if self._pending:  # the database refused: keep the segments for a replay
                return
            for segment in self._segments:
                os.close(segment.fd)
                segment.path.unlink(missing_ok=True)
            self._segments.clear()
