"""The whole pipeline against the sandboxes: throughput per stage, requests per order, memory.

The sandboxes run in a child process (`woo-exact sandbox`), so this process's peak RSS is the
pipeline's own. The pipeline runs exactly as `make demo` runs it: the real Dagster definitions,
the extract-and-transform job in ranges of DAYS_PER_RUN (31) days, then one load per day
through the load sensor. Stage times come from Dagster's own step statistics. Prints one JSON line.

    .venv/bin/python benchmarks/pipeline.py --days 90 --orders-per-day 40
    .venv/bin/python benchmarks/pipeline.py --days 365 --orders-per-day 137 --bulk \
        --exact-daily-limit 5000     # a year of 50,000 orders in one day's quota

With `--bulk` every day is booked in XML uploads (`woo-exact sync --bulk`). The sandbox keeps
Exact's daily limit when given (the run fails if the backfill needs more), but no minute limit:
the time the calls would take at Exact's 60 a minute is reported instead of waited for.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--orders-per-day", type=int, default=40)
    parser.add_argument(
        "--extract-only",
        action="store_true",
        help="stop after extract and transform (for histories too large to load in minutes)",
    )
    parser.add_argument("--bulk", action="store_true", help="book every day in XML uploads")
    parser.add_argument(
        "--exact-daily-limit", type=int, default=100_000_000, help="Exact calls a day"
    )
    parser.add_argument(
        "--default-debtor",
        help="book every order on this Exact debtor (no debtor is created per customer)",
    )
    arguments = parser.parse_args()

    os.chdir(REPO)
    workdir = Path(tempfile.mkdtemp(prefix="woo-exact-bench-"))
    sandbox = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("woo-exact")),
            "sandbox",
            "--woo-port=0",
            "--exact-port=0",
            f"--days={arguments.days}",
            f"--orders-per-day={arguments.orders_per_day}",
            "--exact-minute-limit=100000000",
            f"--exact-daily-limit={arguments.exact_daily_limit}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sandbox.stdout is not None
        described = json.loads(sandbox.stdout.readline())
        figures = run(
            described,
            workdir,
            arguments.days,
            extract_only=arguments.extract_only,
            default_debtor=arguments.default_debtor,
            bulk=arguments.bulk,
        )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    figures |= {
        "days": arguments.days,
        "default_debtor": arguments.default_debtor,
        "bulk": arguments.bulk,
        "exact_daily_limit": arguments.exact_daily_limit,
        "orders_per_day": arguments.orders_per_day,
        "peak_rss_mb_pipeline_process": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    print(json.dumps(figures))


def run(
    described: dict,
    workdir: Path,
    days: int,
    *,
    extract_only: bool,
    default_debtor: str | None,
    bulk: bool,
) -> dict:
    from woo_exact_pipeline.demo import prepare_environment, sign_in_to_exact

    first_day = date.today() - timedelta(days=days + 1)
    environment = prepare_environment(described, workdir, first_day)
    if default_debtor:
        config = Path(environment["WOO_EXACT_CONFIG"])
        settings = yaml.safe_load(config.read_text())
        settings["exact"]["default_debtor"] = default_debtor
        config.write_text(yaml.safe_dump(settings, sort_keys=False))
    environment["DAGSTER_HOME"] = str(workdir / "dagster_home")
    Path(environment["DAGSTER_HOME"]).mkdir()
    (Path(environment["DAGSTER_HOME"]) / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
    )
    os.environ.update(environment)
    sign_in_to_exact(lambda line: None)

    import dagster as dg

    from woo_exact_pipeline.demo import run_pipeline

    started = time.perf_counter()
    if extract_only:
        backfill()
        booked = api_calls = 0
    else:
        report = run_pipeline(lambda line: None, bulk=bulk)
        booked, api_calls = report.booked, report.api_calls
    wall = time.perf_counter() - started
    latency = None if extract_only or bulk else change_to_booking_seconds(described)

    instance = dg.DagsterInstance.get()
    step_seconds: dict[str, float] = defaultdict(float)
    for record in instance.get_run_records():
        for step in instance.get_run_step_stats(record.dagster_run.run_id):
            if step.end_time and step.start_time:
                step_seconds[step.step_key] += step.end_time - step.start_time
    woo_requests = _metadata_total(instance, dg.AssetKey("woo_orders"), "api_requests")
    woo_requests += _metadata_total(instance, dg.AssetKey("woo_customers"), "api_requests")
    catalogue = _metadata_total(instance, dg.AssetKey("woo_products"), "api_requests")
    catalogue += _metadata_total(instance, dg.AssetKey("woo_tax_rates"), "api_requests")
    orders = _metadata_total(instance, dg.AssetKey("woo_orders"), "dagster/row_count")
    events = _metadata_total(instance, dg.AssetKey("exact_journal_lines"), "sales")
    events += _metadata_total(instance, dg.AssetKey("exact_journal_lines"), "credits")
    reference_calls = _metadata_total(instance, dg.AssetKey("exact_reference_data"), "api_calls")
    uploads = _metadata_total(instance, dg.AssetKey("exact_bookings"), "xml_uploads")
    calls_per_event = api_calls / booked if booked else 0.0
    return {
        "orders": orders,
        "accounting_events": events,
        "booked_events": booked,
        "pipeline_wall_seconds": round(wall, 1),
        "extract_orders_per_second": _rate(orders, step_seconds["woo_orders"]),
        "transform_orders_per_second": _rate(orders, step_seconds["exact_journal_lines"]),
        "load_bookings_per_second": _rate(booked, step_seconds["exact_bookings"]),
        "woocommerce_requests_per_order": round(woo_requests / orders, 4) if orders else None,
        "woocommerce_catalogue_requests": catalogue,
        "exact_calls": api_calls,
        "exact_calls_in_all": api_calls + reference_calls,
        "exact_calls_per_booked_event": round(calls_per_event, 3),
        "exact_xml_uploads": uploads,
        "exact_hours_at_60_calls_a_minute": round((api_calls + reference_calls) / 3600, 2),
        "exact_reference_data_calls": reference_calls,
        "change_to_booking_seconds": latency,
        "bookings_per_minute_at_60_calls": round(60 / calls_per_event, 1)
        if calls_per_event
        else None,
    }


def change_to_booking_seconds(described: dict) -> float:
    """A new paid order in the shop, then the chain a deployment runs for it: the change
    sensor's tick, the day's extract-and-transform run, the load sensor's tick and the load
    run. The sensors' polling intervals (2 minutes and 30 s by default) come on top."""
    from datetime import UTC, datetime

    import dagster as dg
    import httpx
    from sqlalchemy import select

    from woo_exact_pipeline.config import load_config
    from woo_exact_pipeline.in_process import InProcessPipeline
    from woo_exact_pipeline.store.database import open_sync_database
    from woo_exact_pipeline.store.schema import bookings
    from woo_exact_pipeline.woocommerce.oauth import signed_params

    pipeline = InProcessPipeline.of(load_config(), dg.DagsterInstance.get())
    definitions, instance = pipeline.definitions, pipeline.instance
    shop = described["woocommerce"]
    load_cursor = pipeline.journal_lines_cursor()
    change_cursor = datetime.now(UTC).replace(tzinfo=None, microsecond=0).isoformat()

    url = f"{shop['url']}/wp-json/wc/v3/orders"
    products = httpx.get(
        f"{shop['url']}/wp-json/wc/v3/products",
        params=signed_params(
            "GET",
            f"{shop['url']}/wp-json/wc/v3/products",
            {"type": "simple"},
            consumer_key=shop["consumer_key"],
            consumer_secret=shop["consumer_secret"],
        ),
    ).json()
    started = time.perf_counter()
    created = httpx.post(
        url,
        params=signed_params(
            "POST",
            url,
            {},
            consumer_key=shop["consumer_key"],
            consumer_secret=shop["consumer_secret"],
        ),
        json={
            "status": "processing",
            "line_items": [{"product_id": products[0]["id"], "quantity": 1}],
            "billing": {"email": "latency@example.nl", "country": "NL"},
        },
    )
    created.raise_for_status()
    change = definitions.resolve_sensor_def("woo_order_changes_sensor").evaluate_tick(
        dg.build_sensor_context(
            instance=instance,
            cursor=change_cursor,
            definitions=definitions,
            resources=definitions.resources,
        )
    )
    for request in change.run_requests:
        pipeline.execute(
            "extract_and_transform_job", partition_key=request.partition_key, tags=request.tags
        )
    for request in pipeline.load_requests(load_cursor):
        pipeline.load(request)
    elapsed = round(time.perf_counter() - started, 2)
    with open_sync_database().connect() as connection:
        status = connection.execute(
            select(bookings.c.status).where(bookings.c.event_key == f"sale:{created.json()['id']}")
        ).scalar()
    if status != "booked":
        raise RuntimeError(f"the new order was not booked (ledger: {status})")
    return elapsed


def backfill() -> None:
    """Only the extract-and-transform part of the demo: one run per DAYS_PER_RUN days."""
    import dagster as dg

    from woo_exact_pipeline.config import load_config
    from woo_exact_pipeline.in_process import InProcessPipeline

    pipeline = InProcessPipeline.of(load_config(), dg.DagsterInstance.get())
    for chunk in pipeline.ranges(pipeline.shop.order_days.get_partition_keys()):
        pipeline.extract_and_transform(chunk)


def _metadata_total(instance, key, name: str) -> int:  # type: ignore[no-untyped-def]
    import dagster as dg

    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=10_000)
    seen_runs: set[str] = set()
    total = 0
    for record in records.records:
        # A range run writes one event per day with the same (range-wide) metadata.
        if record.run_id in seen_runs:
            continue
        seen_runs.add(record.run_id)
        value = record.asset_materialization.metadata.get(name)
        total += int(value.value) if value is not None else 0
    return total


def _rate(count: int, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds else None


if __name__ == "__main__":
    main()
