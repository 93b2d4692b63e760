"""The code location loads, as `dagster dev -w workspace.yaml` would load it: for the suite's
one shop, and for a sync.yaml that lists several shops."""

import copy
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import yaml

from woo_exact_pipeline.alerts.book import AlertBook
from woo_exact_pipeline.config import load_shops
from woo_exact_pipeline.definitions import defs, location_definitions
from woo_exact_pipeline.defs.resources import (
    AlertChannels,
    ExactOnline,
    SyncDatabase,
    WooCommerceApi,
)
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline_tests.support.settings import SUITE_SETTINGS


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


# --- a sync.yaml with several shops -----------------------------------------------------------

SHOP_NAMES = ("fietsen", "lampen")


def _shop_entry(name: str, shop_url: str, division: int, time_zone: str, start: str) -> dict:
    """A shop of a shops: list, with the suite's WooCommerce and Exact sections."""
    suite = yaml.safe_load(SUITE_SETTINGS.read_text(encoding="utf-8"))
    suffix = name.upper()
    return {
        "name": name,
        "woocommerce": {
            **copy.deepcopy(suite["woocommerce"]),
            "shop_url": shop_url,
            "time_zone": time_zone,
            "export_orders_from": start,
        },
        "exact": {**copy.deepcopy(suite["exact"]), "division": division},
        "credentials": {
            "woo_consumer_key": f"WOO_CONSUMER_KEY_{suffix}",
            "woo_consumer_secret": f"WOO_CONSUMER_SECRET_{suffix}",
            "exact_client_id": f"EXACT_CLIENT_ID_{suffix}",
            "exact_client_secret": f"EXACT_CLIENT_SECRET_{suffix}",
        },
    }


@pytest.fixture
def two_shops_file(tmp_path: Path) -> Path:
    """A bicycle shop in Amsterdam and a lamp shop on Curaçao (UTC-4 all year), each booking
    into an administration of its own."""
    path = tmp_path / "sync.yaml"
    document = {
        "shops": [
            _shop_entry(
                "fietsen", "https://fietsen.example.nl", 3102026, "Europe/Amsterdam", "2025-01-01"
            ),
            _shop_entry(
                "lampen", "https://lampen.example.cw", 3102027, "America/Curacao", "2025-07-01"
            ),
        ]
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def sync_database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sync.db'}"


def location_of(path: Path, sync_database_url: str) -> tuple[list[Shop], dg.Definitions]:
    """What `definitions.defs()` builds, for the shops of this file instead of
    $WOO_EXACT_CONFIG's."""
    shops = [Shop(settings) for settings in load_shops(path)]
    return shops, location_definitions(
        shops, SyncDatabase(url=sync_database_url), AlertChannels.from_environment()
    )


@pytest.fixture
def two_shops(two_shops_file: Path, sync_database_url: str) -> tuple[list[Shop], dg.Definitions]:
    return location_of(two_shops_file, sync_database_url)


def _names(definitions: dg.Definitions) -> dict[str, set[str]]:
    repository = definitions.get_repository_def()
    return {
        "jobs": {job.name for job in repository.get_all_jobs() if not job.name.startswith("__")},
        "sensors": {sensor.name for sensor in repository.sensor_defs},
        "schedules": {schedule.name for schedule in repository.schedule_defs},
    }


def test_a_location_of_two_shops_loads(two_shops: tuple[list[Shop], dg.Definitions]) -> None:
    shops, location = two_shops
    assert [shop.settings.name for shop in shops] == list(SHOP_NAMES)
    dg.Definitions.validate_loadable(location)


def test_each_shops_assets_and_checks_are_under_its_name(
    two_shops: tuple[list[Shop], dg.Definitions],
) -> None:
    _, location = two_shops
    one_shop = defs().resolve_asset_graph()
    graph = location.resolve_asset_graph()
    plain_assets = {key.path[-1] for key in one_shop.get_all_asset_keys()}
    assert "woo_orders" in plain_assets and "exact_bookings" in plain_assets
    assert graph.get_all_asset_keys() == {
        dg.AssetKey([name, asset]) for name in SHOP_NAMES for asset in plain_assets
    }
    assert dg.AssetKey(["fietsen", "woo_orders"]) in graph.get_all_asset_keys()
    plain_checks = {(key.asset_key.path[-1], key.name) for key in one_shop.asset_check_keys}
    assert graph.asset_check_keys == {
        dg.AssetCheckKey(dg.AssetKey([name, asset]), check)
        for name in SHOP_NAMES
        for asset, check in plain_checks
    }
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name.startswith(f"{key.path[0]}__"), key
        # An asset depends on assets of its own shop only.
        assert {parent.path[0] for parent in node.parent_keys} <= {key.path[0]}, key


def test_each_shops_jobs_sensors_and_schedules_carry_its_name(
    two_shops: tuple[list[Shop], dg.Definitions],
) -> None:
    _, location = two_shops
    plain = _names(defs())
    assert "exact_load_job" in plain["jobs"]
    named = _names(location)
    # One each for the location: alerts on finished runs, and releasing runs of dead processes.
    shared = {"alert_on_run_outcomes", "dead_runs_sensor"}
    assert shared <= named["sensors"]
    for kind, names in plain.items():
        per_shop = {f"{shop}__{name}" for shop in SHOP_NAMES for name in names - shared}
        assert named[kind] - shared == per_shop, kind
    assert "fietsen__exact_load_job" in named["jobs"]
    assert "lampen__exact_load_sensor" in named["sensors"]
    assert "fietsen__daily_sweep_schedule" in named["schedules"]

    # Each shop's jobs work on its own assets, and its schedules and sensors start its jobs.
    load = location.resolve_job_def("fietsen__exact_load_job")
    assert load.asset_layer.executable_asset_keys == {
        dg.AssetKey(["fietsen", "exact_bookings"]),
        dg.AssetKey(["fietsen", "exact_reconciliation"]),
    }
    for name in named["jobs"]:
        shop = name.split("__")[0]
        keys = location.resolve_job_def(name).asset_layer.executable_asset_keys
        checks = location.resolve_job_def(name).asset_layer.asset_graph.asset_check_keys
        assert {key.path[0] for key in keys} | {c.asset_key.path[0] for c in checks} == {shop}
    repository = location.get_repository_def()
    started = [(schedule.name, schedule.job_name) for schedule in repository.schedule_defs] + [
        (sensor.name, target.job_name)
        for sensor in repository.sensor_defs
        for target in sensor.targets
    ]
    assert len(started) == len(named["schedules"]) + 4  # the change and load sensors
    for name, job_name in started:
        assert job_name.split("__")[0] == name.split("__")[0], name


def test_each_shops_days_are_cut_in_its_own_time_zone_from_its_own_start(
    two_shops: tuple[list[Shop], dg.Definitions],
) -> None:
    shops, location = two_shops
    expected = {
        "fietsen": ("Europe/Amsterdam", "2025-01-01"),
        "lampen": ("America/Curacao", "2025-07-01"),
    }
    for shop, (time_zone, start) in expected.items():
        for asset in ("woo_orders", "woo_customers", "exact_journal_lines", "exact_bookings"):
            days = location.resolve_assets_def(dg.AssetKey([shop, asset])).partitions_def
            assert isinstance(days, dg.DailyPartitionsDefinition), (shop, asset)
            assert days.timezone == time_zone, (shop, asset)
            assert days.get_first_partition_key() == start, (shop, asset)
        sweep = location.resolve_schedule_def(f"{shop}__daily_sweep_schedule")
        assert sweep.execution_timezone == time_zone
        assert location.resolve_job_def(f"{shop}__exact_load_job").partitions_def == days

    # 15 January 2026: midnight in Amsterdam (CET) is 23:00 GMT the day before, on Curaçao
    # (always UTC-4) 04:00 GMT the same day.
    fietsen_day = location.resolve_assets_def(dg.AssetKey(["fietsen", "woo_orders"]))
    lampen_day = location.resolve_assets_def(dg.AssetKey(["lampen", "woo_orders"]))
    fietsen_window = fietsen_day.partitions_def.time_window_for_partition_key("2026-01-15")
    lampen_window = lampen_day.partitions_def.time_window_for_partition_key("2026-01-15")
    assert fietsen_window.start.astimezone(UTC) == datetime(2026, 1, 14, 23, tzinfo=UTC)
    assert lampen_window.start.astimezone(UTC) == datetime(2026, 1, 15, 4, tzinfo=UTC)
    assert lampen_window.end.astimezone(UTC) == datetime(2026, 1, 16, 4, tzinfo=UTC)
    # An order placed at 02:00 GMT on the 15th is the 15th's in Amsterdam, the 14th's on Curaçao.
    fietsen, lampen = shops
    placed = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)
    assert fietsen.partition_key_of(placed) == "2026-01-15"
    assert lampen.partition_key_of(placed) == "2026-01-14"


def test_each_shops_exact_assets_queue_in_the_pool_of_its_administration(
    two_shops: tuple[list[Shop], dg.Definitions],
) -> None:
    _, location = two_shops
    for shop, division in (("fietsen", 3102026), ("lampen", 3102027)):
        for asset in ("exact_reference_data", "exact_bookings", "exact_reconciliation"):
            definition = location.resolve_assets_def(dg.AssetKey([shop, asset]))
            assert definition.op.pool == f"exact_division_{division}", (shop, asset)
        for asset in ("woo_orders", "woo_customers", "woo_products", "woo_tax_rates"):
            definition = location.resolve_assets_def(dg.AssetKey([shop, asset]))
            assert definition.op.pool == f"{shop}__woocommerce_api", (shop, asset)


def test_each_shops_connections_read_the_variables_it_names(
    two_shops: tuple[list[Shop], dg.Definitions],
) -> None:
    _, location = two_shops
    assert set(location.resources) == {
        "sync_database",
        "alert_channels",
        "fietsen__woocommerce",
        "fietsen__exact",
        "lampen__woocommerce",
        "lampen__exact",
    }
    for shop, address in (
        ("fietsen", "https://fietsen.example.nl"),
        ("lampen", "https://lampen.example.cw"),
    ):
        suffix = shop.upper()
        woocommerce = location.resources[f"{shop}__woocommerce"]
        assert isinstance(woocommerce, WooCommerceApi)
        assert woocommerce.shop_url == address
        # Only the names of the variables: the secrets are read when a run starts.
        assert isinstance(woocommerce.consumer_key, dg.EnvVar)
        assert woocommerce.consumer_key.env_var_name == f"WOO_CONSUMER_KEY_{suffix}"
        assert woocommerce.consumer_secret.env_var_name == f"WOO_CONSUMER_SECRET_{suffix}"
        exact = location.resources[f"{shop}__exact"]
        assert isinstance(exact, ExactOnline)
        assert exact.client_id.env_var_name == f"EXACT_CLIENT_ID_{suffix}"
        assert exact.client_secret.env_var_name == f"EXACT_CLIENT_SECRET_{suffix}"
        # The tokens of every administration are encrypted with the deployment's one key.
        assert exact.token_encryption_key.env_var_name == "WOO_EXACT_SECRET_KEY"

        # Each asset asks for its own shop's connections, and only the ones it uses.
        def required(asset: str, shop: str = shop) -> set[str]:
            keys = location.resolve_assets_def(dg.AssetKey([shop, asset])).required_resource_keys
            return keys - {"io_manager"}

        assert required("woo_orders") == {f"{shop}__woocommerce", "sync_database"}
        assert required("exact_journal_lines") == {"sync_database"}
        assert required("exact_reference_data") == {f"{shop}__exact", "sync_database"}
        assert required("exact_reconciliation") == {f"{shop}__exact", "sync_database"}
        assert required("exact_bookings") == {
            f"{shop}__woocommerce",
            f"{shop}__exact",
            "sync_database",
        }


def test_each_shops_load_sensor_loads_only_its_own_journal_lines(
    two_shops: tuple[list[Shop], dg.Definitions],
) -> None:
    _, location = two_shops
    sensors = {
        shop: location.resolve_sensor_def(f"{shop}__exact_load_sensor") for shop in SHOP_NAMES
    }
    assert {shop: sensor.job_name for shop, sensor in sensors.items()} == {
        "fietsen": "fietsen__exact_load_job",
        "lampen": "lampen__exact_load_job",
    }
    with dg.instance_for_test() as instance:

        def tick(shop: str, cursor: str | None) -> dg.SensorResult:
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, definitions=location
            )
            return sensors[shop].evaluate_tick(context)

        # The bicycle shop's lines of 20 October are transformed: only its load follows.
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=dg.AssetKey(["fietsen", "exact_journal_lines"]), partition="2026-10-20"
            )
        )
        fietsen = tick("fietsen", None)
        lampen = tick("lampen", None)
        assert [r.partition_key for r in fietsen.run_requests] == ["2026-10-20"]
        assert lampen.run_requests == [] and lampen.skip_message

        # Then the lamp shop's lines of 21 October: only its load follows.
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=dg.AssetKey(["lampen", "exact_journal_lines"]), partition="2026-10-21"
            )
        )
        assert tick("fietsen", fietsen.cursor).run_requests == []
        assert [r.partition_key for r in tick("lampen", lampen.cursor).run_requests] == [
            "2026-10-21"
        ]


def test_a_shops_run_failure_alert_is_about_its_own_runs_only(
    two_shops: tuple[list[Shop], dg.Definitions],
    sync_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shops, location = two_shops
    # A run is created with its resources' configuration: stand-ins, never real secrets.
    for shop in shops:
        for variable in shop.settings.credentials.model_dump().values():
            monkeypatch.setenv(variable, "not-a-secret")
    monkeypatch.setenv("WOO_EXACT_SECRET_KEY", "not-a-secret")
    database = {
        "sync_database": SyncDatabase(url=sync_database_url),
        "alert_channels": AlertChannels(),
    }
    sensor = location.resolve_sensor_def("alert_on_run_outcomes")

    def open_run_failures(shop: Shop) -> set[str]:
        engine = open_sync_database(sync_database_url)
        try:
            return set(AlertBook(engine, "runs", [], shop=shop.key).open_problems())
        finally:
            engine.dispose()

    with dg.instance_for_test() as instance:

        def tick(cursor: str | None) -> dg.SensorResult:
            # Runs made here have no code location, as the context has none: they match.
            context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=database)
            return sensor.evaluate_tick(context)

        # The first tick only remembers where the run history stands.
        cursor = tick(None).cursor
        for shop in shops:
            job = location.resolve_job_def(shop.qualified("exact_load_job"))
            instance.report_run_failed(instance.create_run_for_job(job_def=job))
        # And one of the lamp shop's assets materialized from the UI (the location's asset job).
        ui_run = instance.create_run_for_job(
            job_def=location.resolve_implicit_global_asset_job_def(),
            asset_selection=frozenset({dg.AssetKey(["lampen", "woo_tax_rates"])}),
        )
        instance.report_run_failed(ui_run)

        tick(cursor)
        # Each alert is the shop's own, about its own runs.
        [fietsen, lampen] = shops
        assert open_run_failures(fietsen) == {"run_failed:fietsen__exact_load_job"}
        assert open_run_failures(lampen) == {
            "run_failed:lampen__exact_load_job",
            f"run_failed:{ui_run.job_name}",
        }
