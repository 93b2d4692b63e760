"""Shared fixtures live in woo_exact_pipeline_tests/fixtures/, one module per system."""

import os
from pathlib import Path

# `defs()`, as Dagster loads the code location, reads the suite's own settings.
os.environ["WOO_EXACT_CONFIG"] = str(Path(__file__).with_name("sync.test.yaml"))

pytest_plugins = [
    "woo_exact_pipeline_tests.fixtures.databases",
    "woo_exact_pipeline_tests.fixtures.exact_sandbox",
    "woo_exact_pipeline_tests.fixtures.woocommerce_sandbox",
    "woo_exact_pipeline_tests.support.alert_receivers",
]
