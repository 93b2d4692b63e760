"""The one exception the transform raises inside an order, caught at the order's boundary."""

from __future__ import annotations

from types import MappingProxyType

from woo_exact_pipeline.bookkeeping.model import QuarantineCategory, Quarantined


class BookingProblem(Exception):
    """Why an order (or one refund) cannot be booked, worded for the bookkeeper."""

    def __init__(self, category: QuarantineCategory, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.category: QuarantineCategory = category
        self.reason = reason
        self.details = {key: str(value) for key, value in details.items()}

    def quarantined(
        self, order_id: int | None, order_number: str, refund_id: int | None = None
    ) -> Quarantined:
        """The order (or only its refund `refund_id`) held back for this problem."""
        return Quarantined(
            order_id,
            order_number,
            self.category,
            self.reason,
            MappingProxyType(self.details),
            refund_id,
        )
