"""The analyst's view: the Dagster UI, on an instance the demo filled, shows the asset graph and
an `exact_bookings` materialization (the sync log) in a real browser, headless Chromium. With
WOO_EXACT_SCREENSHOTS=docs (`make screenshots`) the screenshots the README shows are written to
docs/; otherwise to a temporary folder, so a test run leaves the working tree as it was.

The demo runs in a process of its own (the code location reads sync.yaml when it is imported,
and this process has imported it with the test settings); the sandboxes run here.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from woo_exact_pipeline.config import InsertionType
from woo_exact_pipeline.definitions import defs
from woo_exact_pipeline.demo import GENEROUS_LIMITS, prepare_environment
from woo_exact_pipeline.exact.web_links import document_url
from woo_exact_pipeline.sandbox.both import Sandboxes, SandboxOptions, start_sandboxes
from woo_exact_pipeline.sandbox.exact import ExactSandbox

REPOSITORY = Path(__file__).parents[2]
DOCS = (
    REPOSITORY / "docs"
    if os.environ.get("WOO_EXACT_SCREENSHOTS") == "docs"
    else Path(tempfile.mkdtemp(prefix="woo-exact-screenshots-"))
)
DAYS = 3
ORDERS_PER_DAY = 8
#: The shop's last day and its partitions' (export_orders_until): the pages show the same
#: shop, every day of it booked, whatever day the test runs.
LAST_DAY = date(2026, 11, 18)
ASSETS = (
    "woo_orders",
    "woo_customers",
    "woo_products",
    "woo_tax_rates",
    "exact_journal_lines",
    "exact_reference_data",
    "exact_bookings",
    "exact_reconciliation",
    "vat_return",
    "oss_declaration",
    "icp_listing",
)


def chromium_or_skip() -> str:
    """Debian's chromium; CI installs it (.ci/run), so there a missing browser is a failure."""
    path = shutil.which("chromium")
    if path:
        return path
    message = "no chromium on PATH: install Debian's browser with `apt-get install -y chromium`"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (.ci/run does this in CI)")
    pytest.skip(message)


@dataclass
class DemoUi:
    url: str
    sandboxes: Sandboxes
    busiest_day: str  # the day whose sync log has the most to show
    held_back_that_day: int


@pytest.fixture(name="demo_ui", scope="module")
def demo_ui_fixture() -> Iterator[DemoUi]:
    """A few demo days booked into the sandboxes, recorded in a Dagster instance of its own,
    and dagster-webserver serving it."""
    chromium_or_skip()
    workdir = Path(tempfile.mkdtemp(prefix="woo-exact-analyst-view-"))
    sandboxes = start_sandboxes(
        SandboxOptions(
            days=DAYS, orders_per_day=ORDERS_PER_DAY, end_date=LAST_DAY, **GENEROUS_LIMITS
        )
    )
    webserver: subprocess.Popen[bytes] | None = None
    try:
        environment = _demo_environment(sandboxes, workdir)
        demo = subprocess.run(
            [
                sys.executable,
                "-c",
                "from woo_exact_pipeline.demo import run_pipeline, sign_in_to_exact\n"
                "sign_in_to_exact(print)\n"
                "run_pipeline(print)\n",
            ],
            cwd=REPOSITORY,
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        port = _free_port()
        webserver = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("dagster-webserver")),
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=REPOSITORY,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _answers(f"{url}/server_info"), "dagster-webserver to answer")
        yield DemoUi(url, sandboxes, *_busiest_day(Path(environment["DAGSTER_HOME"])))
    finally:
        if webserver is not None:
            webserver.terminate()
            webserver.wait(timeout=30)
        sandboxes.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _demo_environment(sandboxes: Sandboxes, workdir: Path) -> dict[str, str]:
    first_day = LAST_DAY - timedelta(days=DAYS + 1)
    cwd = Path.cwd()
    os.chdir(REPOSITORY)  # prepare_environment starts from the repository's sync.example.yaml
    try:
        settings = prepare_environment(sandboxes.describe(), workdir / "demo", first_day, LAST_DAY)
    finally:
        os.chdir(cwd)
    dagster_home = workdir / "dagster_home"
    dagster_home.mkdir()
    instance = (REPOSITORY / "dagster.yaml").read_text(encoding="utf-8")
    # No "join the community" dialog over the screenshots.
    (dagster_home / "dagster.yaml").write_text(instance + "\nnux:\n  enabled: false\n")
    return {**os.environ, **settings, "DAGSTER_HOME": str(dagster_home)}


def _busiest_day(dagster_home: Path) -> tuple[str, int]:
    """The loaded day with the most events held back, then booked, and how many were held
    back (in the demo: orders in a currency the administration does not book in)."""
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        loads = instance.fetch_materializations(dg.AssetKey("exact_bookings"), limit=100).records

    def figures(record: dg.EventLogRecord) -> tuple[int, int]:
        metadata = record.asset_materialization.metadata
        return metadata["held_back"].value, metadata["booked"].value

    busiest = max(loads, key=figures)
    return busiest.partition_key, figures(busiest)[0]


def test_every_asset_says_who_owns_it_and_tables_declare_their_columns() -> None:
    specs = {spec.key.to_user_string(): spec for spec in defs().resolve_all_asset_specs()}
    assert set(specs) == set(ASSETS)
    for name, spec in specs.items():
        assert spec.owners and spec.kinds and spec.description, name
        assert spec.tags.get("system") in ("woocommerce", "sync_database", "exact_online"), name
    for name, table in (("woo_orders", "woo_orders"), ("exact_bookings", "bookings")):
        metadata = specs[name].metadata
        assert metadata["dagster/table_name"] == table
        columns = {column.name for column in metadata["dagster/column_schema"].columns}
        assert {"status", "partition_date"} <= columns, name


def test_the_asset_graph_shows_every_asset_with_its_state(demo_ui: DemoUi) -> None:
    with Browser() as browser:
        browser.open(f"{demo_ui.url}/asset-groups")
        browser.wait_for_text("woocommerce", "bookkeeping", "exact")
        # The global lineage starts with its groups collapsed: open them, as a user would
        # (in the graph's settings menu, which ignores a click while the graph lays out).
        for _ in range(5):
            browser.click_icon("settings")
            if browser.shows("Expand all groups"):
                break
        browser.click_text("Expand all groups")
        browser.wait_for_text(*ASSETS)
        browser.reload()  # the graph fits itself to the window when it loads
        browser.click_text("Hide navigation")
        browser.click_icon("panel_show_right")
        browser.wait_for_text(*ASSETS, "Asset checks", "Materialized", "100% filled")
        browser.screenshot(DOCS / "asset-graph.png")


def test_an_asset_says_who_owns_it_and_what_its_table_holds(demo_ui: DemoUi) -> None:
    with Browser() as browser:
        browser.open(f"{demo_ui.url}/assets/exact_bookings")
        browser.wait_for_text(
            "Every materialization is a sync-log entry",
            "Owners",
            "bookkeeping",
            "exact_number",
            "entry, invoice or order number in Exact",
            "system: exact_online",
        )
        browser.screenshot(DOCS / "asset-overview.png")


def test_the_sync_log_links_each_booking_to_its_document_in_exact(demo_ui: DemoUi) -> None:
    day = demo_ui.busiest_day
    with Browser() as browser:
        browser.open(f"{demo_ui.url}/assets/exact_bookings?view=events&partition={day}")
        # Below the counts, every order that is not booked, with what to do about it.
        held_back = ["held back"] if demo_ui.held_back_that_day else []
        text = browser.wait_for_text(f"Partition {day} materialized", "[Show Markdown]", *held_back)
        assert text.count("held back") == demo_ui.held_back_that_day, text
        browser.click_text("[Show Markdown]")
        table = browser.wait_for_text("YourRef", "Exact number")
        links = browser.evaluate(
            "Array.from(document.querySelectorAll('a'))"
            ".map(a => [a.innerText, a.href]).filter(([text, href]) => href.includes('/docs/'))"
        )
        assert links, table
        browser.screenshot(DOCS / "sync-log.png")

    number, url = links[0]
    assert url.startswith(f"{demo_ui.sandboxes.exact.base_url}/docs/FinEntrySales.aspx?")
    entry = httpx.get(url, timeout=10)
    assert entry.status_code == 200
    assert "Sales entry in division" in entry.text and f"<td>{number}</td>" in entry.text


DOCUMENTS = {
    "sales_entry": (
        "salesentry/SalesEntries",
        "EntryID",
        "Sales entry",
        {
            "Journal": "70",
            "YourRef": "WEB-1001",
            "SalesEntryLines": [{"GLAccount": ("gl", "8000"), "AmountFC": "41.98"}],
        },
    ),
    "sales_invoice": (
        "salesinvoice/SalesInvoices",
        "InvoiceID",
        "Sales invoice",
        {
            "Journal": "70",
            "YourRef": "WEB-2001",
            "SalesInvoiceLines": [{"Item": ("item", "FIETSBEL-01"), "UnitPrice": "7.95"}],
        },
    ),
    "sales_order": (
        "salesorder/SalesOrders",
        "OrderID",
        "Sales order",
        {
            "YourRef": "WEB-3001",
            "SalesOrderLines": [{"Item": ("item", "BAND-28-GRS"), "UnitPrice": 30}],
        },
    ),
}


@pytest.mark.parametrize("insertion_type", sorted(DOCUMENTS))
def test_a_booking_link_opens_its_document_in_the_exact_sandbox(
    insertion_type: InsertionType, exact_sandbox: ExactSandbox, exact_api: httpx.Client
) -> None:
    path, key, title, body = DOCUMENTS[insertion_type]
    customer = exact_sandbox.seeded_id("account", "2")
    lines_name = next(name for name in body if name.endswith("Lines"))
    lines = [
        {
            name: exact_sandbox.seeded_id(*value) if isinstance(value, tuple) else value
            for name, value in line.items()
        }
        for line in body[lines_name]
    ]
    party = "Customer" if insertion_type == "sales_entry" else "OrderedBy"
    created = exact_api.post(
        path,
        json={**body, party: customer, lines_name: lines},
        headers={"Prefer": "return=representation"},
    )
    assert created.status_code == 201, created.text
    exact_id = created.json()["d"][key]

    url = document_url(exact_sandbox.base_url, exact_sandbox.division, insertion_type, exact_id)
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200
    assert f"{title} in division {exact_sandbox.division}" in page.text
    assert f"<td>{body['YourRef']}</td>" in page.text
    assert "<td>Webshop particulieren</td>" in page.text  # the customer, by name

    elsewhere = url.replace(f"_Division_={exact_sandbox.division}", "_Division_=1")
    assert httpx.get(elsewhere, timeout=10).status_code == 404
    unknown = url.replace(exact_id[:8], "00000000")
    assert httpx.get(unknown, timeout=10).status_code == 404


# --- a headless Chromium driven over the DevTools protocol -----------------------------------


class Browser:
    """Headless Chromium with one tab, driven over the Chrome DevTools Protocol."""

    # Tall enough for the whole lineage: exact_reference_data feeds the journal lines too.
    WIDTH, HEIGHT, SCALE = 2400, 2100, 0.75

    def __init__(self) -> None:
        self._profile = Path(tempfile.mkdtemp(prefix="woo-exact-chromium-"))
        self._process = subprocess.Popen(
            [
                chromium_or_skip(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                # Without these Chromium's own connections are refused on a closed network.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={self._profile}",
                f"--window-size={self.WIDTH},{self.HEIGHT}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._connection = ExitStack()
        self._socket: ClientConnection | None = None
        self._next_id = 0

    def __enter__(self) -> Browser:
        port_file = self._profile / "DevToolsActivePort"
        _wait_for(port_file.exists, "Chromium's DevTools port")
        port = int(port_file.read_text().split()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(t for t in targets if t["type"] == "page")
        self._socket = self._connection.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=None)
        )
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.WIDTH,
            height=self.HEIGHT,
            deviceScaleFactor=self.SCALE,
            mobile=False,
        )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._connection.close()
        self._process.terminate()
        self._process.wait(timeout=30)
        shutil.rmtree(self._profile, ignore_errors=True)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        assert self._socket is not None
        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=30))
            if message.get("id") == self._next_id:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def reload(self) -> None:
        self.call("Page.reload")

    def wait_for_text(self, *needles: str, absent: str = "Loading", timeout: float = 30) -> str:
        """The page's text once it shows every needle and is done loading (the UI renders
        after the page has loaded, and fills in its data as its queries answer)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.evaluate("document.body ? document.body.innerText : ''") or ""
            missing = [needle for needle in needles if needle not in text]
            if not missing and absent not in text:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"the page never showed {missing}; it shows:\n{text}")
            time.sleep(0.25)

    def shows(self, text: str, timeout: float = 5) -> bool:
        """Whether the page shows this text within the timeout."""
        deadline = time.monotonic() + timeout
        while text not in (self.evaluate("document.body ? document.body.innerText : ''") or ""):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.25)
        return True

    def click_text(self, label: str) -> None:
        """A real mouse click on the innermost element whose text starts with this line."""
        self._click(
            "Array.from(document.querySelectorAll('body *')).filter(e => e.innerText"
            f" && e.innerText.trim().split('\\n')[0] === {json.dumps(label)})",
            label,
        )

    def click_icon(self, name: str) -> None:
        """A real mouse click on the last button that shows this icon of the Dagster UI."""
        self._click(
            "Array.from(document.querySelectorAll('button'))"
            f".filter(b => b.querySelector('[aria-label={json.dumps(name)}]'))",
            f"the {name} button",
        )

    def _click(self, candidates: str, what: str, timeout: float = 30) -> None:
        find = (
            f"(() => {{ const e = {candidates}"
            ".filter(e => e.getBoundingClientRect().width > 0).pop();"
            " if (!e) return null; const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        box: list[float] = []

        def found() -> bool:
            box[:] = self.evaluate(find) or []
            return bool(box)

        _wait_for(found, f"{what} on the page", timeout)
        for event in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=event,
                x=box[0],
                y=box[1],
                button="none" if event == "mouseMoved" else "left",
                clickCount=1,
            )

    def screenshot(self, path: Path) -> None:
        time.sleep(1)  # let the last layout and fonts settle
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(base64.b64decode(data))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_for(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
