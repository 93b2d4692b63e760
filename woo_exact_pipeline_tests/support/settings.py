"""The suite's own sync.yaml (sync.test.yaml): the settings `defs()` loads in the tests
(conftest.py points $WOO_EXACT_CONFIG at it) and the shop it describes."""

from pathlib import Path

from woo_exact_pipeline.config import load_config
from woo_exact_pipeline.defs.shops import Shop

SUITE_SETTINGS = Path(__file__).parents[1] / "sync.test.yaml"


def suite_shop() -> Shop:
    """The one shop of sync.test.yaml: Europe/Amsterdam, orders exported from 2025-01-01."""
    return Shop(load_config(SUITE_SETTINGS))
