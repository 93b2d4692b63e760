"""The sandbox's notion of "now", which tests move forward instead of sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """UTC time for token lifetimes, auth codes and rate-limit windows.

    A frozen clock (the test default) only moves when `advance()` is called. A ticking clock
    (the demo default) follows real time and can still be pushed ahead, e.g. to show a
    refresh token expiring after 30 idle days.
    """

    def __init__(self, start: datetime | None = None, *, ticking: bool = False) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the sandbox clock needs a timezone-aware start")
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._ticking = ticking
        self._started_monotonic = time.monotonic()
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            elapsed = (
                timedelta(seconds=time.monotonic() - self._started_monotonic)
                if self._ticking
                else timedelta()
            )
            return self._start + elapsed + self._offset

    def advance(
        self, *, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> datetime:
        step = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        if step < timedelta():
            raise ValueError("the sandbox clock does not go backwards")
        with self._lock:
            self._offset += step
        return self.now()

    def epoch_ms(self) -> int:
        return int(self.now().timestamp() * 1000)
