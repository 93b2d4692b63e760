"""GUIDs as Exact hands them out: lowercase, 36 characters.

Booking IDs end in `0000` so that the IDs of their lines and transaction lines can be derived
from them (`child_id`) instead of stored: with 100,000 bookings that saves a string per line,
and a `$skiptoken` naming a line leads straight back to its booking.
"""

from __future__ import annotations

import uuid

_SEED_NAMESPACE = uuid.UUID("6c5f3f0e-8d4b-4e0a-9a53-2f4d0e7c1a11")
TRANSACTION_LINE_BASE = 0x8000


def seeded_id(kind: str, code: str) -> str:
    """Stable IDs for seeded master data, so a demo and its tests see the same GUIDs."""
    return str(uuid.uuid5(_SEED_NAMESPACE, f"{kind}:{code}"))


def new_booking_id() -> str:
    return str(uuid.uuid4())[:-4] + "0000"


def child_id(parent: str, number: int) -> str:
    return f"{parent[:-4]}{number:04x}"


def parent_and_number(child: str) -> tuple[str, int]:
    return f"{child[:-4]}0000", int(child[-4:], 16)
