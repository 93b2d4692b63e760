"""Fault injection: latency, server errors, hangs, committing a booking then dropping it, and
holding a chosen booking until the test lets it go (`sandbox/holds.py`)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum

from woo_exact_pipeline.sandbox.holds import Hold, HoldCounter


class DropMode(StrEnum):
    RESET = "reset"  # close the connection without a response
    HANG = "hang"  # keep the connection silent until the client gives up


@dataclass
class Faults:
    """Settable at any time, also while the server runs; rates are shares between 0 and 1."""

    latency_seconds: float = 0.0
    latency_rate: float = 0.0
    server_error_rate: float = 0.0
    # Which 5xx an injected server error answers with, chosen at random; e.g. (500, 502, 503).
    server_error_statuses: tuple[int, ...] = (503,)
    hang_rate: float = 0.0
    commit_then_drop_rate: float = 0.0
    drop_mode: DropMode = DropMode.RESET
    # Hangs end when the client disconnects, the sandbox stops, or after this long.
    hang_limit_seconds: float = 300.0
    seed: int | None = None
    _armed_drops: list[DropMode] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _random: random.Random = field(default_factory=random.Random, repr=False)
    released: threading.Event = field(default_factory=threading.Event, repr=False)
    #: Booking POSTs held until the test releases them (`hold_booking`).
    booking_holds: HoldCounter = field(default_factory=HoldCounter, repr=False)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def arm_commit_then_drop(self, count: int = 1, mode: DropMode | str = DropMode.RESET) -> None:
        """Store the next `count` bookings, then lose their responses."""
        with self._lock:
            self._armed_drops.extend([DropMode(mode)] * count)

    def armed_drops(self) -> int:
        with self._lock:
            return len(self._armed_drops)

    def hold_booking(self, nth: int = 1, *, after_store: bool = False) -> Hold:
        """Hold the `nth` booking POST from now (1 = the next one) until `release()`: before
        Exact stores it, or (`after_store`) stored and not yet answered."""
        return self.booking_holds.arm(nth, after_store=after_store)

    def clear(self) -> None:
        with self._lock:
            self._armed_drops.clear()
        self.booking_holds.release_all()
        self.latency_rate = self.server_error_rate = self.hang_rate = 0.0
        self.commit_then_drop_rate = 0.0

    def roll(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._random.random() < rate

    def server_error_status(self) -> int:
        with self._lock:
            return self._random.choice(self.server_error_statuses)

    def take_drop(self) -> DropMode | None:
        with self._lock:
            if self._armed_drops:
                return self._armed_drops.pop(0)
        return self.drop_mode if self.roll(self.commit_then_drop_rate) else None
