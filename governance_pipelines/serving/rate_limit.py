"""Requests per minute per consumer team and endpoint: a token bucket per pair.

A bucket holds up to a minute's allowance and refills continuously, so a team may burst up
to its limit and then sustain it; an empty bucket answers how long until the next request
is allowed (the `Retry-After` of a 429). Buckets live in the gateway process: with several
worker processes each enforces the limit on the requests it receives (document the
per-worker figure, or run one worker per limit-sensitive endpoint).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter"]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, endpoint: str, team: str, per_minute: int) -> float:
        """0 when the request may go ahead; else the seconds to wait (for `Retry-After`)."""
        rate = per_minute / 60.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get((endpoint, team))
            if bucket is None:
                bucket = self._buckets[(endpoint, team)] = _Bucket(float(per_minute), now)
            bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / rate

    @staticmethod
    def retry_after_header(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
