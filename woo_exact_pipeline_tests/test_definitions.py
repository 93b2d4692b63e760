"""The code location loads, as `dagster dev -w workspace.yaml` would load it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from woo_exact_pipeline.definitions import defs


def test_the_code_location_loads() -> None:
    dg.Definitions.validate_loadable(defs())


def test_the_nightly_sweep_at_two_processes_yesterday_in_shop_time() -> None:
    schedule = defs().resolve_schedule_def("daily_sweep_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Amsterdam"
    tick = datetime(2026, 3, 30, 2, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    context = dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs().get_repository_def()
    )
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-03-29"


def test_every_asset_has_a_group_and_a_description_for_the_analyst() -> None:
    graph = defs().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name != "default", key
        assert node.description, key
