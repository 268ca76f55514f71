"""A per-client request limit, so one client (a script in a loop) can't take the model or fill
the learner table for everyone else.

A sliding window in process memory: right for one server process; behind several workers each
counts for itself, so a client gets up to N times the limit (put a proxy's limit in front for
more than a study group).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimit:
    """At most `limit` requests per `per_s` seconds for each key (a client's address);
    a limit of 0 means none."""

    def __init__(self, limit: int, per_s: float) -> None:
        self.limit = limit
        self.per_s = per_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> int:
        """Count a request; 0 when it may go ahead, else the seconds until one may."""
        if not self.limit:
            return 0
        now = time.monotonic() if now is None else now
        with self._lock:
            self._forget(now)
            hits = self._hits.setdefault(key, deque())
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.per_s - now))
            hits.append(now)
            return 0

    def _forget(self, now: float) -> None:
        """Drop hits older than the window, and clients with none left (memory stays bounded
        by the clients of the last window)."""
        for key in list(self._hits):
            hits = self._hits[key]
            while hits and hits[0] <= now - self.per_s:
                hits.popleft()
            if not hits:
                del self._hits[key]
