"""Exact's API limits: calls per calendar minute and per UTC day, and the error budget."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from woo_exact_pipeline.sandbox.exact.clock import SandboxClock

# Per (client id, division).
LimitKey = tuple[str, int]


def _epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


@dataclass
class _Window:
    period: object = None
    used: int = 0


class RateLimiter:
    """60 calls per calendar minute and 5,000 per day (reset 00:00 UTC), per app and division."""

    def __init__(self, clock: SandboxClock, *, minute_limit: int, daily_limit: int) -> None:
        self.clock = clock
        self.minute_limit = minute_limit
        self.daily_limit = daily_limit
        self._minutes: dict[LimitKey, _Window] = {}
        self._days: dict[LimitKey, _Window] = {}
        self._lock = threading.Lock()

    def consume(self, key: LimitKey) -> tuple[bool, dict[str, str]]:
        """Count one call. Refused calls answer with only the exhausted window's headers."""
        now = self.clock.now()
        minute_start = now.replace(second=0, microsecond=0)
        day_start = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
        with self._lock:
            minute = self._current(self._minutes, key, minute_start)
            day = self._current(self._days, key, day_start)
            daily_headers = {
                "X-RateLimit-Limit": str(self.daily_limit),
                "X-RateLimit-Reset": _epoch_ms(day_start + timedelta(days=1)),
            }
            minutely_headers = {
                "X-RateLimit-Minutely-Limit": str(self.minute_limit),
                "X-RateLimit-Minutely-Reset": _epoch_ms(minute_start + timedelta(minutes=1)),
            }
            if day.used >= self.daily_limit:
                return False, {**daily_headers, "X-RateLimit-Remaining": "0"}
            if minute.used >= self.minute_limit:
                return False, {**minutely_headers, "X-RateLimit-Minutely-Remaining": "0"}
            day.used += 1
            minute.used += 1
            return True, {
                **daily_headers,
                "X-RateLimit-Remaining": str(self.daily_limit - day.used),
                **minutely_headers,
                "X-RateLimit-Minutely-Remaining": str(self.minute_limit - minute.used),
            }

    @staticmethod
    def _current(windows: dict[LimitKey, _Window], key: LimitKey, period: object) -> _Window:
        window = windows.get(key)
        if window is None or window.period != period:
            window = _Window(period)
            windows[key] = window
        return window


class ErrorBudget:
    """More than 10 answers of 400/401/403/404 per endpoint in an hour block it for an hour.

    Exact says the block "will gradually increase"; the sandbox doubles it for every repeat.
    """

    COUNTED = frozenset({400, 401, 403, 404})

    def __init__(self, clock: SandboxClock, *, max_errors: int = 10) -> None:
        self.clock = clock
        self.max_errors = max_errors
        self._errors: dict[tuple[LimitKey, str], list[datetime]] = {}
        self._blocked_until: dict[tuple[LimitKey, str], datetime] = {}
        self._blocks: dict[tuple[LimitKey, str], int] = {}
        self._lock = threading.Lock()

    def blocked_until(self, key: LimitKey, endpoint: str) -> datetime | None:
        with self._lock:
            until = self._blocked_until.get((key, endpoint))
            return until if until is not None and until > self.clock.now() else None

    def record(self, key: LimitKey, endpoint: str, status: int) -> None:
        if status not in self.COUNTED:
            return
        now = self.clock.now()
        with self._lock:
            recent = [
                t for t in self._errors.get((key, endpoint), []) if now - t < timedelta(hours=1)
            ]
            recent.append(now)
            self._errors[(key, endpoint)] = recent
            if len(recent) > self.max_errors:
                blocks = self._blocks.get((key, endpoint), 0) + 1
                self._blocks[(key, endpoint)] = blocks
                self._blocked_until[(key, endpoint)] = now + timedelta(hours=2 ** (blocks - 1))
                self._errors[(key, endpoint)] = []
