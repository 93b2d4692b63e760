"""The code location loads, as `dagster dev -w workspace.yaml` would load it."""

import dagster as dg

from woo_exact_pipeline.definitions import defs


def test_the_code_location_loads() -> None:
    dg.Definitions.validate_loadable(defs())
