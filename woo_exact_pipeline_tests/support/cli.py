"""The `woo-exact` command against both sandboxes, run as a user runs it: a process of its own
(forked from a server that imported the pipeline once, support/forked.py) with a sync.yaml
pointing at the sandboxes and the secrets in its environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from woo_exact_pipeline.sandbox.exact import ExactSandbox, start_exact_sandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox, start_woocommerce_sandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline_tests.support.exact_client import SECRET_KEY, store_sandbox_tokens
from woo_exact_pipeline_tests.support.forked import run_command
from woo_exact_pipeline_tests.support.settings import SUITE_SETTINGS

WOO_EXACT = Path(sys.executable).with_name("woo-exact")
REPOSITORY = Path(__file__).parents[2]
LAST_DAY = date(2026, 11, 10)
DAYS = 3


@dataclass
class Cli:
    """Both sandboxes, a sync.yaml for them, a signed-in Exact connection and the command."""

    woo: WooSandbox
    exact: ExactSandbox
    config: Path
    database_url: str
    environment: dict[str, str] = field(default_factory=dict)

    def run(self, *arguments: str, **changes: str) -> subprocess.CompletedProcess[str]:
        return run_command(list(arguments), environment={**self.environment, **changes})

    def write_settings(
        self, woocommerce: dict[str, Any] | None = None, **exact_changes: Any
    ) -> None:
        """sync.yaml for the sandboxes, with these changes to its woocommerce: and exact:."""
        settings = yaml.safe_load(SUITE_SETTINGS.read_text(encoding="utf-8"))
        settings["woocommerce"] |= {
            "shop_url": self.woo.url,
            "export_orders_from": date.fromordinal(LAST_DAY.toordinal() - DAYS + 1),
            **(woocommerce or {}),
        }
        settings["exact"] |= {
            "base_url": self.exact.base_url,
            "redirect_uri": self.exact.redirect_uri,
            "division": self.exact.division,
            **exact_changes,
        }
        self.config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")


@pytest.fixture(name="cli")
def cli_fixture(tmp_path: Path, database_url: str) -> Iterator[Cli]:
    """A small shop of its own (3 days up to LAST_DAY) and a fresh administration."""
    with start_woocommerce_sandbox(seed=7, days=DAYS, orders_per_day=6, end_date=LAST_DAY) as woo:
        exact = start_exact_sandbox(minute_limit=100_000)
        try:
            engine = open_sync_database(database_url)
            store_sandbox_tokens(exact, engine)
            engine.dispose()
            dagster_home = tmp_path / "dagster_home"
            dagster_home.mkdir()
            shutil.copy(REPOSITORY / "dagster.yaml", dagster_home / "dagster.yaml")
            setup = Cli(
                woo=woo, exact=exact, config=tmp_path / "sync.yaml", database_url=database_url
            )
            setup.write_settings()
            setup.environment = {
                "PATH": os.environ.get("PATH", ""),
                "HOME": str(tmp_path),
                "WOO_EXACT_CONFIG": str(setup.config),
                "WOO_EXACT_DATABASE_URL": database_url,
                "WOO_CONSUMER_KEY": woo.consumer_key,
                "WOO_CONSUMER_SECRET": woo.consumer_secret,
                "EXACT_CLIENT_ID": exact.client_id,
                "EXACT_CLIENT_SECRET": exact.client_secret,
                "WOO_EXACT_SECRET_KEY": SECRET_KEY,
                "DAGSTER_HOME": str(dagster_home),
            }
            yield setup
        finally:
            exact.stop()
