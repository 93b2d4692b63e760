"""Several shops in one deployment: each shop's orders land in its own Exact administration,
through its own jobs, sensors and credentials, and one shop's failure never stops another's.

Two WooCommerce sandboxes and two Exact sandboxes (two apps, two administrations) over real
HTTP; one sync database; the definitions built as the code location builds them for a
`shops:` file, with every secret read from the variables each shop names.
"""

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date

import dagster as dg
import pytest
from sqlalchemy import Engine, func, select

from woo_exact_pipeline.config import ShopCredentials, SyncConfig, load_config
from woo_exact_pipeline.definitions import location_definitions
from woo_exact_pipeline.defs.resources import AlertChannels, SyncDatabase
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.sandbox.exact import ExactSandbox, start_exact_sandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox, start_woocommerce_sandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import bookings, woo_orders
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.exact_client import SECRET_KEY, store_sandbox_tokens

pytestmark = SQLITE_ONLY

DAY = "2026-11-05"
NEXT_DAY = "2026-11-06"


@dataclass
class ShopUnderTest:
    shop: Shop
    woocommerce: WooSandbox
    exact: ExactSandbox

    def job(self, definitions: dg.Definitions, name: str) -> dg.JobDefinition:
        return definitions.resolve_job_def(self.shop.qualified(name))


def settings_of(name: str, woocommerce: WooSandbox, exact: ExactSandbox) -> SyncConfig:
    base = load_config()  # the suite's sync.test.yaml: the sandbox administration's codes
    prefix = name.upper()
    return base.model_copy(
        update={
            "name": name,
            "woocommerce": base.woocommerce.model_copy(update={"shop_url": woocommerce.url}),
            "exact": base.exact.model_copy(
                update={"base_url": exact.base_url, "division": exact.division}
            ),
            "credentials": ShopCredentials(
                woo_consumer_key=f"{prefix}_WOO_KEY",
                woo_consumer_secret=f"{prefix}_WOO_SECRET",
                exact_client_id=f"{prefix}_EXACT_ID",
                exact_client_secret=f"{prefix}_EXACT_SECRET",
            ),
        }
    )


@pytest.fixture
def shops(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ShopUnderTest, ShopUnderTest]]:
    engine = open_sync_database(database_url)
    with ExitStack() as running:
        running.callback(engine.dispose)
        started = []
        for name, seed in (("fietsen", 11), ("boeken", 12)):
            woocommerce = running.enter_context(
                start_woocommerce_sandbox(
                    seed=seed, days=5, orders_per_day=8, end_date=date(2026, 11, 7)
                )
            )
            exact = running.enter_context(
                start_exact_sandbox(client_id=f"{name}-app", minute_limit=100_000)
            )
            started.append(
                ShopUnderTest(Shop(settings_of(name, woocommerce, exact)), woocommerce, exact)
            )
            store_sandbox_tokens(exact, engine)
            prefix = name.upper()
            monkeypatch.setenv(f"{prefix}_WOO_KEY", woocommerce.consumer_key)
            monkeypatch.setenv(f"{prefix}_WOO_SECRET", woocommerce.consumer_secret)
            monkeypatch.setenv(f"{prefix}_EXACT_ID", exact.client_id)
            monkeypatch.setenv(f"{prefix}_EXACT_SECRET", exact.client_secret)
        monkeypatch.setenv("WOO_EXACT_SECRET_KEY", SECRET_KEY)
        fietsen, boeken = started
        yield fietsen, boeken


def definitions_of(database_url: str, *shops: ShopUnderTest) -> dg.Definitions:
    """As the code location builds them for these shops."""
    return location_definitions(
        [shop.shop for shop in shops], SyncDatabase(url=database_url), AlertChannels()
    )


def book_day(
    definitions: dg.Definitions, instance: dg.DagsterInstance, shop: ShopUnderTest, day: str
) -> dg.ExecuteInProcessResult:
    """A day through the shop's jobs as the daemon runs them: catalogue and master data,
    extract and transform, then the load its load sensor asks for."""
    for name in ("shop_catalogue_job", "exact_reference_job"):
        assert shop.job(definitions, name).execute_in_process(instance=instance).success
    transformed = shop.job(definitions, "extract_and_transform_job").execute_in_process(
        instance=instance, partition_key=day, raise_on_error=False
    )
    if not transformed.success:
        return transformed
    sensor = definitions.resolve_sensor_def(shop.shop.qualified("exact_load_sensor"))
    tick = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=definitions))
    [request] = tick.run_requests
    assert request.partition_key == day
    return shop.job(definitions, "exact_load_job").execute_in_process(
        instance=instance, partition_key=day, tags=dict(request.tags)
    )


def booked_in_ledger(engine: Engine, shop: Shop) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(bookings)
            .where(bookings.c.shop == shop.key, bookings.c.status == "booked")
        ).scalar_one()


def test_each_shops_orders_are_booked_in_its_own_administration(
    shops: tuple[ShopUnderTest, ShopUnderTest], database_url: str
) -> None:
    fietsen, boeken = shops
    definitions = definitions_of(database_url, fietsen, boeken)
    with dg.DagsterInstance.ephemeral() as instance:
        for shop in (fietsen, boeken):
            result = book_day(definitions, instance, shop, DAY)
            assert result.success
            [log] = result.asset_materializations_for_node(
                shop.shop.asset_key("exact_bookings").to_python_identifier()
            )
            assert log.asset_key == dg.AssetKey([shop.shop.settings.name, "exact_bookings"])
            assert int(log.metadata["booked"].value) > 0

    engine = open_sync_database(database_url)
    try:
        for shop, other in ((fietsen, boeken), (boeken, fietsen)):
            entries = shop.exact.sales_entries()
            # Every booking of the shop is in its own administration, none in the other's.
            assert len(entries) == booked_in_ledger(engine, shop.shop) > 0
            with engine.connect() as connection:
                orders = connection.execute(
                    select(woo_orders.c.number).where(woo_orders.c.shop == shop.shop.key)
                ).scalars()
                own_numbers = set(orders)
            assert {entry["YourRef"] for entry in entries} <= own_numbers
            assert shop.shop.key != other.shop.key
    finally:
        engine.dispose()


def test_one_shops_failure_never_stops_another_shop(
    shops: tuple[ShopUnderTest, ShopUnderTest],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fietsen, boeken = shops
    # boeken's key was revoked in WooCommerce: its variable now holds a key the shop refuses.
    monkeypatch.setenv("BOEKEN_WOO_KEY", "ck_" + "0" * 40)
    definitions = definitions_of(database_url, fietsen, boeken)
    with dg.DagsterInstance.ephemeral() as instance:
        catalogue = boeken.job(definitions, "shop_catalogue_job").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert not catalogue.success
        reasons = [
            failure.step_failure_data.user_failure_data.description
            for failure in catalogue.get_step_failure_events()
            if failure.step_failure_data.user_failure_data is not None
        ]
        # Both of its catalogue steps say why, naming the variable that holds its key.
        assert len(reasons) == 2
        assert all(
            "does not know this consumer key (check BOEKEN_WOO_KEY;" in (reason or "")
            for reason in reasons
        )

        # fietsen books its day in the same instance and database all the same.
        assert book_day(definitions, instance, fietsen, DAY).success
        # Its load sensor sees only its own journal lines; boeken's has nothing to load.
        boeken_sensor = definitions.resolve_sensor_def(boeken.shop.qualified("exact_load_sensor"))
        tick = boeken_sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=definitions)
        )
        assert tick.run_requests == []
    assert len(fietsen.exact.sales_entries()) > 0
    assert boeken.exact.sales_entries() == []
