"""The recorded shops replayed and synced end to end through woo-exact sync."""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from woo_exact_pipeline.sandbox.exact import ExactSandbox, start_exact_sandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import order_problems
from woo_exact_pipeline_tests.support.cli import Cli
from woo_exact_pipeline_tests.support.exact_client import SECRET_KEY, store_sandbox_tokens

D = Decimal


ROUNDING_VAT_CODE = "0"  # sync.test.yaml: exact.rounding_vat_code


@dataclass(frozen=True)
class Entry:
    """What Exact must hold for one YourRef: the total, the VAT per code and the rounding."""

    total: str
    vat: dict[str, str]
    rounding: str = "0"


def cli_for(woo: WooSandbox, tmp_path: Path, database_url: str, first: date, last: date) -> Cli:
    """A fresh Exact sandbox administration signed in, and a sync.yaml for `woo` and it whose
    days run from `first` to `last`; the command runs its Dagster runs in an ephemeral
    instance."""
    exact = start_exact_sandbox(minute_limit=100_000)
    cli = Cli(woo=woo, exact=exact, config=tmp_path / "sync.yaml", database_url=database_url)
    engine = open_sync_database(database_url)
    store_sandbox_tokens(exact, engine)
    engine.dispose()
    cli.write_settings(woocommerce={"export_orders_from": first, "export_orders_until": last})
    cli.environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "WOO_EXACT_CONFIG": str(cli.config),
        "WOO_EXACT_DATABASE_URL": database_url,
        "WOO_CONSUMER_KEY": woo.consumer_key,
        "WOO_CONSUMER_SECRET": woo.consumer_secret,
        "EXACT_CLIENT_ID": exact.client_id,
        "EXACT_CLIENT_SECRET": exact.client_secret,
        "WOO_EXACT_SECRET_KEY": SECRET_KEY,
    }
    return cli


def run_sync(cli: Cli, first: date, last: date) -> Synced:
    done = cli.run("sync", "--config", str(cli.config), "--from", str(first), "--to", str(last))
    assert "Traceback" not in done.stderr, done.stderr
    return Synced(cli, done.returncode, done.stdout + done.stderr)


@dataclass(frozen=True)
class Synced:
    """A shop after `woo-exact sync` over a range of days: the sandboxes, exit code, output."""

    cli: Cli
    exit_code: int
    output: str

    def problems(self) -> list[dict[str, Any]]:
        """What the sync database holds as waiting or quarantined."""
        engine = open_sync_database(self.cli.database_url)
        try:
            with engine.connect() as connection:
                return [dict(row) for row in connection.execute(select(order_problems)).mappings()]
        finally:
            engine.dispose()


def summary_count(output: str, label: str) -> int:
    match = re.search(rf"^{re.escape(label)}:\s+(\d+)", output, re.MULTILINE)
    assert match, f"{label!r} not in:\n{output}"
    return int(match.group(1))


def read_back(exact: ExactSandbox) -> dict[str, Entry]:
    """Each sales entry in Exact as its YourRef, total, VAT per code and rounding line."""
    entries = exact.sales_entries()
    assert max(Counter(entry["YourRef"] for entry in entries).values()) == 1
    found = {}
    for entry in entries:
        vat: dict[str, Decimal] = defaultdict(Decimal)
        rounding = D(0)
        for line in entry["SalesEntryLines"]:
            code = line["VATCode"].strip()  # Exact pads its codes to three characters
            if code == ROUNDING_VAT_CODE:
                assert D(str(line["VATAmountFC"])) == 0
                rounding += D(str(line["AmountFC"]))
            else:
                vat[code] += D(str(line["VATAmountFC"]))
        found[entry["YourRef"]] = Entry(
            str(D(str(entry["AmountFC"]))), {code: str(v) for code, v in vat.items()}, str(rounding)
        )
    return found


def as_booked(expected: dict[str, Entry]) -> dict[str, Entry]:
    """The hand-written figures in the form `read_back` gives them (Decimal strings)."""
    return {
        reference: Entry(
            str(D(entry.total)),
            {code: str(D(vat)) for code, vat in entry.vat.items()},
            str(D(entry.rounding)),
        )
        for reference, entry in expected.items()
    }


FIRST_SHOP_ENTRIES = {
    "25": Entry("29.49", {"2": "3.56", "1": "0.74"}),
    "26": Entry("57.60", {"2": "5.66", "1": "2.06"}),
    "27": Entry("102.00", {"2": "13.80", "1": "1.86"}),
    "28": Entry("53.97", {"2": "3.39", "1": "2.84"}),
    "29": Entry("51.53", {"BEH": "4.72", "BEM": "1.38"}),
    "30": Entry("75.84", {"DEH": "8.19", "DEL": "1.60"}),
    "31": Entry("35.69", {"FRH": "4.50", "FRM": "0.45"}),
    "32": Entry("66.94", {"ATH": "6.95", "ATM": "2.29"}),
    "33": Entry("57.93", {"6": "0.00"}),  # US: export
    "34": Entry("90.29", {"6": "0.00"}),  # CH: export
    "35": Entry("17.40", {"2": "3.02"}),
    "36": Entry("13.57", {"2": "2.37"}),
    "37": Entry("87.26", {"2": "15.14"}),
    "38": Entry("45.51", {"2": "3.56", "4": "0.00"}),  # the gift voucher at 0 %
    "41": Entry("75.82", {"BEH": "4.72", "BEM": "2.75"}),
    "42": Entry("91.90", {"2": "15.17", "1": "0.37"}),
    "43": Entry("158.35", {"7": "0.00"}),  # German business, VAT reverse-charged
    "44": Entry("51.30", {"DEH": "4.27", "DEL": "1.60"}),
    "45": Entry("54.83", {"2": "5.59", "1": "1.86"}),  # fees +2.50 and -5.00 over two rates
    "54": Entry("110.05", {"2": "17.70", "1": "0.67"}),
    "31-R49": Entry("-35.69", {"FRH": "-4.50", "FRM": "-0.45"}),
    "41-R50": Entry("-24.31", {"BEM": "-1.38"}),
    "42-R51": Entry("-10.00", {"2": "-1.65", "1": "-0.04"}),  # amount only, spread over rates
    "32-R52": Entry("-26.72", {"ATH": "-4.45"}),
    "32-R53": Entry("-2.50", {"ATM": "-0.14", "ATH": "-0.16"}),
}
