"""Shared fixtures live in woo_exact_pipeline_tests/fixtures/, one module per system."""

pytest_plugins = [
    "woo_exact_pipeline_tests.fixtures.databases",
]
