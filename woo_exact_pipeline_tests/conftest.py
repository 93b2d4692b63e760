"""Shared fixtures live in woo_exact_pipeline_tests/fixtures/, one module per system."""

import os
from pathlib import Path

# The code location reads its settings when it is imported: point it at the test settings
# before any test module imports woo_exact_pipeline.defs.
os.environ["WOO_EXACT_CONFIG"] = str(Path(__file__).with_name("sync.test.yaml"))

pytest_plugins = [
    "woo_exact_pipeline_tests.fixtures.databases",
    "woo_exact_pipeline_tests.fixtures.exact_sandbox",
    "woo_exact_pipeline_tests.fixtures.woocommerce_sandbox",
]
