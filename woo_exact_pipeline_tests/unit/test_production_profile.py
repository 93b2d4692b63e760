"""The production profile on this machine's PostgreSQL: Dagster's run, event and schedule
storage in PostgreSQL (dagster-postgres) and the sync database in PostgreSQL, running a
backfill and the sensor-triggered load as a deployment would."""

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy import select

from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.sandbox.exact import ExactSandbox, start_exact_sandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import bookings
from woo_exact_pipeline_tests.fixtures.databases import POSTGRES_DSN, postgres_admin
from woo_exact_pipeline_tests.support.exact_client import store_sandbox_tokens
from woo_exact_pipeline_tests.support.pipeline import definitions_of
from woo_exact_pipeline_tests.support.sandbox_pipeline import resources, settings_for

DAYS = ("2026-10-19", "2026-10-20", "2026-10-21")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def dagster_postgres_url() -> Iterator[str]:
    """A database of its own for Dagster's storage, dropped afterwards."""
    admin = postgres_admin()
    name = f"dagster_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield POSTGRES_DSN.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def exact() -> Iterator[ExactSandbox]:
    sandbox = start_exact_sandbox(minute_limit=100_000)
    yield sandbox
    sandbox.stop()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_backfill_and_the_load_run_on_postgresql_storage(
    woocommerce_sandbox: WooSandbox,
    exact: ExactSandbox,
    dagster_postgres_url: str,
    database_url: str,
) -> None:
    engine = open_sync_database(database_url)
    store_sandbox_tokens(exact, engine)
    settings = settings_for(exact)
    shop = Shop(settings)
    definitions = definitions_of(settings, resources(woocommerce_sandbox, exact, database_url))
    overrides = {"storage": {"postgres": {"postgres_url": dagster_postgres_url}}}
    with dg.instance_for_test(overrides=overrides) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        extract = definitions.resolve_job_def(shop.qualified("extract_and_transform_job"))
        backfill = extract.execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": DAYS[0],
                "dagster/asset_partition_range_end": DAYS[-1],
            },
        )
        assert backfill.success
        exact_load_sensor = definitions.resolve_sensor_def(shop.qualified("exact_load_sensor"))
        tick = exact_load_sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=definitions)
        )
        assert sorted(r.partition_key for r in tick.run_requests) == list(DAYS)
        load = definitions.resolve_job_def(shop.qualified("exact_load_job"))
        for request in tick.run_requests:
            result = load.execute_in_process(
                instance=instance, partition_key=request.partition_key, tags=dict(request.tags)
            )
            assert result.success
        assert instance.get_materialized_partitions(shop.asset_key("exact_bookings")) == set(DAYS)
    with engine.connect() as connection:
        statuses = Counter(connection.execute(select(bookings.c.status)).scalars())
    references = Counter(entry["YourRef"] for entry in exact.sales_entries())
    assert statuses["booked"] == len(references) > 0
    assert set(references.values()) == {1}
    engine.dispose()


def test_the_production_instance_configuration_starts_on_postgresql(
    dagster_postgres_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """deploy/dagster.yaml as the daemon reads it (its Docker run launcher aside: no Docker
    engine here), against this machine's PostgreSQL."""
    configuration = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    assert configuration["run_launcher"]["class"] == "DockerRunLauncher"
    del configuration["run_launcher"]
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(configuration))
    database = dagster_postgres_url.rsplit("/", 1)[1]
    for name, value in {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": database,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
