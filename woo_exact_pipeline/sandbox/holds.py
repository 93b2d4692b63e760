"""Holding one chosen request in a sandbox until the test lets it go.

A chaos test that must do harm *during* the pipeline's work (kill it, cut its database) arms a
hold, waits for `reached` and then acts while that request is in flight: the moment is made to
happen, instead of a sleep racing the machine's speed.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field


@dataclass
class Hold:
    """The `nth` matching request counted by the sandbox waits until `release()`."""

    nth: int
    #: Exact's bookings only: hold after the booking is stored, before it is answered.
    after_store: bool = False
    reached: threading.Event = field(default_factory=threading.Event)
    go_on: bool = True
    _released: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait_until_reached(self, timeout: float = 60.0) -> bool:
        return self.reached.wait(timeout)

    def release(self, *, go_on: bool = True) -> None:
        """Let the request continue; `go_on=False` drops it unanswered (a booking held before
        storing is then lost unstored, as a request that never reached the server)."""
        self.go_on = go_on
        self._released.set()

    async def wait_here(self, stopping: threading.Event | None = None) -> None:
        """In the server: signal the test, then wait for the release (or the sandbox's stop).
        The event loop goes on answering other requests meanwhile."""
        self.reached.set()
        while not self._released.is_set() and not (stopping and stopping.is_set()):
            await asyncio.sleep(0.005)


@dataclass
class HoldCounter:
    """Counts the requests a sandbox may hold and hands out the hold armed for one."""

    _holds: list[Hold] = field(default_factory=list)
    _seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, nth: int = 1, *, after_store: bool = False) -> Hold:
        """Hold the `nth` counted request from now (1 = the next one)."""
        with self._lock:
            hold = Hold(nth=self._seen + nth, after_store=after_store)
            self._holds.append(hold)
        return hold

    def arrived(self) -> Hold | None:
        with self._lock:
            self._seen += 1
            for hold in self._holds:
                if hold.nth == self._seen:
                    self._holds.remove(hold)
                    return hold
        return None

    def release_all(self) -> None:
        with self._lock:
            holds, self._holds = self._holds, []
        for hold in holds:
            hold.release()
