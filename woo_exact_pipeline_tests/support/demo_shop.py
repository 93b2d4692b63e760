"""The demo shop's settings, as make demo uses them."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline_tests.fixtures.bookkeeping import settings


def demo_settings(taxes: list[dict[str, Any]], **exact: Any) -> SyncConfig:
    """OSS codes for every foreign rate the demo shop has, named like "DE19"."""
    oss: dict[str, dict[Decimal, str]] = defaultdict(dict)
    for rate in taxes:
        if rate["country"] != "NL":
            percent = Decimal(rate["rate"]).normalize()
            oss[rate["country"]][percent] = f"{rate['country']}{percent}"
    mapping = {"domestic": {21: "2", 9: "1", 0: "0"}, "oss": oss, "reverse_charge": "6",
               "export": "5"}  # fmt: skip
    return settings(exact={"vat_mapping": mapping, **exact})
