"""`make demo`: the whole pipeline on the embedded sandboxes, through the real Dagster
definitions, recorded in the local Dagster instance (.dagster_home) so `make ui` shows the runs.

It starts both sandboxes, writes a sync.yaml pointing at them, signs in to the Exact sandbox
through the real consent flow, backfills the demo shop's history, loads every day through the
load sensor's job and prints what happened. Like cli.py it sits on top of everything: it is the
one place where the pipeline and the sandboxes meet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import yaml
from cryptography.fernet import Fernet

from woo_exact_pipeline.bookkeeping.calendar import shop_day
from woo_exact_pipeline.report import SyncReport
from woo_exact_pipeline.sandbox.both import Sandboxes, SandboxOptions, start_sandboxes
from woo_exact_pipeline.sync import Stage

DEMO_DIRECTORY = Path(".woo_exact") / "demo"
DAGSTER_HOME = Path(".dagster_home")


#: The sandbox administration is not Exact's servers: the demo does not wait out the real
#: 60-calls-a-minute limit (the summary says what the calls per booking mean under it).
GENEROUS_LIMITS = {"exact_minute_limit": 1_000_000, "exact_daily_limit": 10_000_000}


def run_demo(
    *, days: int, orders_per_day: int, end_date: date | None, echo: Callable[[str], None]
) -> SyncReport:
    """`end_date`: the shop's last day and the sync's (None: today, up to this moment)."""
    sandboxes = start_sandboxes(
        SandboxOptions(
            days=days, orders_per_day=orders_per_day, end_date=end_date, **GENEROUS_LIMITS
        )
    )
    try:
        echo(sandboxes.summary())
        os.environ.update(
            prepare_environment(
                sandboxes.describe(), DEMO_DIRECTORY, _first_day(sandboxes), end_date
            )
        )
        sign_in_to_exact(echo)
        return run_pipeline(echo)
    finally:
        sandboxes.stop()


def serve_ui(*, echo: Callable[[str], None]) -> int:
    """The sandboxes in live mode and `dagster dev` with schedules and sensors on."""
    sandboxes = start_sandboxes(
        SandboxOptions(woo_port=8780, exact_port=8781, live=True, **GENEROUS_LIMITS)
    )
    try:
        echo(sandboxes.summary())
        environment = prepare_environment(
            sandboxes.describe(), Path(".woo_exact") / "ui", _first_day(sandboxes)
        )
        os.environ.update(environment)
        sign_in_to_exact(echo)
        dagster = Path(sys.executable).with_name("dagster")
        return subprocess.call([str(dagster), "dev", "-w", "workspace.yaml"], env=os.environ)
    except KeyboardInterrupt:
        return 0
    finally:
        sandboxes.stop()


def _first_day(sandboxes: Sandboxes) -> date:
    shop = sandboxes.woocommerce.shop
    with shop.lock:
        return min(date.fromisoformat(o.created_local[:10]) for o in shop.orders.values())


def prepare_environment(
    described: dict[str, Any], directory: Path, first_day: date, last_day: date | None = None
) -> dict[str, str]:
    """`directory` emptied, with a sync.yaml for the sandboxes (`Sandboxes.describe()`) whose
    days run from `first_day` to `last_day` (None: today), and the environment the pipeline
    reads its secrets from."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    settings = yaml.safe_load(Path("sync.example.yaml").read_text(encoding="utf-8"))
    woo, exact = described["woocommerce"], described["exact"]
    settings["woocommerce"] |= {
        "shop_url": woo["url"],
        "export_orders_from": first_day,
        "export_orders_until": last_day,
    }
    settings["exact"] |= {
        "base_url": exact["base_url"],
        "redirect_uri": exact["redirect_uri"],
        "division": exact["division"],
    }
    config = directory / "sync.yaml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    key_file = directory / "token.key"
    if not key_file.exists():
        key_file.write_bytes(Fernet.generate_key())
    DAGSTER_HOME.mkdir(exist_ok=True)
    shutil.copy("dagster.yaml", DAGSTER_HOME / "dagster.yaml")
    return {
        "WOO_EXACT_CONFIG": str(config.resolve()),
        "WOO_EXACT_DATABASE_URL": f"sqlite:///{(directory / 'sync.db').resolve()}",
        "WOO_CONSUMER_KEY": woo["consumer_key"],
        "WOO_CONSUMER_SECRET": woo["consumer_secret"],
        "EXACT_CLIENT_ID": exact["client_id"],
        "EXACT_CLIENT_SECRET": exact["client_secret"],
        "WOO_EXACT_SECRET_KEY": key_file.read_text(),
        "DAGSTER_HOME": str(DAGSTER_HOME.resolve()),
    }


def sign_in_to_exact(echo: Callable[[str], None]) -> None:
    """The real authorization-code flow; the sandbox's consent page approves at once."""
    from woo_exact_pipeline.config import credentials_for, load_config
    from woo_exact_pipeline.exact.login import login
    from woo_exact_pipeline.store.database import open_sync_database

    def approve(url: str) -> None:
        # The user would click "allow" in a browser; the sandbox's auto_approve does it here.
        with httpx.Client(timeout=10) as browser:
            consent = browser.get(f"{url}&auto_approve=true")
            browser.get(consent.headers["location"])

    engine = open_sync_database()
    try:
        settings = load_config()
        result = login(
            settings.exact,
            engine,
            secrets=credentials_for(settings).exact,
            show_consent_url=lambda url: echo("Signing in to the Exact sandbox (consent page)"),
            open_browser=approve,
        )
    finally:
        engine.dispose()
    echo(f"Connected to Exact as {result.user_name}, administration {result.configured_division}")


def run_pipeline(echo: Callable[[str], None], *, bulk: bool = False) -> SyncReport:
    """Every day of the shop (to export_orders_until, or today) through `woo-exact sync`'s
    path: backfill, then the loads the load sensor requests, then the reconciliation; `bulk`
    as `woo-exact sync --bulk`."""
    from woo_exact_pipeline.config import load_config
    from woo_exact_pipeline.sync import sync_range

    settings = load_config()
    woocommerce = settings.woocommerce
    today = shop_day(datetime.now(UTC), ZoneInfo(woocommerce.time_zone))
    last = woocommerce.export_orders_until or today
    return sync_range(
        settings, woocommerce.export_orders_from, last, _echo_stage(echo), bulk=bulk
    ).report


def _echo_stage(echo: Callable[[str], None]) -> Stage:
    """Progress as one line per finished stage (the demo prints, it draws no bars)."""

    @contextmanager
    def stage(label: str, steps: int) -> Iterator[Callable[[int], None]]:
        started = time.perf_counter()
        yield lambda advanced: None
        echo(f"  {label}: {steps} done in {time.perf_counter() - started:.1f} s")

    return stage
