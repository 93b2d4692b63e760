"""`make test-deploy`: the production profile for real, in containers on this machine's Docker.

The profile rendered for two shops (PostgreSQL, the code server, the daemon with the Docker run
launcher, both webservers, Caddy in front), each shop's WooCommerce and Exact sandboxes in a
container of their own on the profile's network. Through the proxy and the webserver's GraphQL
API: a backfill of both shops; the daemon's load sensors start the Exact loads as containers;
both Exact sandboxes read back: every paid order booked once, into its own administration, for
the amount the shop charged. Images come from `make images` (built from Debian's packages and
host-built wheels); everything the test starts is removed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet

from woo_exact_pipeline.config import parse_shops
from woo_exact_pipeline.production_profile import process_variables, render_compose, render_instance
from woo_exact_pipeline.sandbox.exact import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from woo_exact_pipeline.sandbox.exact.division import default_administration_file
from woo_exact_pipeline.sandbox.woocommerce import DEFAULT_CONSUMER_KEY, DEFAULT_CONSUMER_SECRET
from woo_exact_pipeline.sandbox.woocommerce.generator import generate_demo_shop

pytestmark = pytest.mark.deploy

REPO = Path(__file__).resolve().parents[2]
IMAGES = (
    "woo-exact-base:bookworm",
    "woo-exact-pipeline",
    "woo-exact-sandbox",
    "woo-exact-postgres",
    "woo-exact-caddy",
)
PROJECT = "woo_exact_profile_test"
LAST_DAY = date(2026, 11, 18)
DAYS = 2
ORDERS_PER_DAY = 8
#: Each shop's sandbox: its generator seed and its Exact administration.
SHOPS = {"fietsen": (11, 3102026), "boeken": (12, 4102026)}
#: fietsen's Exact answers every call this much later, so its loads are surely still running
#: when the test kills one (it waits for the load's first booking to land, then kills).
SLOW_EXACT = ("fietsen", 1.0)
OPERATOR = ("anna", "s3cret")
UI = "http://127.0.0.1:8080"
#: How long the daemon may take to run the backfill and the loads it leads to.
BOOKED_WITHIN_SECONDS = 420


@dataclass
class Profile:
    directory: Path
    env_file: dict[str, str]

    def compose(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env_file = str(self.directory / ".env")
        files = ["-f", "docker-compose.yaml", "-f", "sandboxes.yaml"]
        return subprocess.run(
            ["docker-compose", "-p", PROJECT, "--env-file", env_file, *files, *arguments],
            cwd=self.directory,
            env={"PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def container(self, service: str) -> str:
        return self.compose("ps", "-q", service).stdout.strip()

    def exact_url(self, shop: str) -> str:
        published = self.compose("port", f"sandbox-{shop}", "8781").stdout.strip()
        return f"http://{published}"


def docker(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *arguments], capture_output=True, text=True, check=check, timeout=300
    )


def sync_yaml() -> str:
    """Two shops, each reading its own sandbox shop and booking into its own sandbox Exact."""
    example = yaml.safe_load((REPO / "sync.example.yaml").read_text(encoding="utf-8"))
    shops = []
    for name, (_, division) in SHOPS.items():
        exact = dict(example["exact"])
        exact.pop("country", None)
        exact |= {"base_url": f"http://sandbox-{name}:8781", "division": division}
        shops.append(
            {
                "name": name,
                "woocommerce": example["woocommerce"]
                | {
                    "shop_url": f"http://sandbox-{name}:8780",
                    "export_orders_from": (LAST_DAY - timedelta(days=DAYS - 1)).isoformat(),
                    "export_orders_until": LAST_DAY.isoformat(),
                },
                "exact": exact,
                "credentials": {
                    "woo_consumer_key": f"{name.upper()}_WOO_CONSUMER_KEY",
                    "woo_consumer_secret": f"{name.upper()}_WOO_CONSUMER_SECRET",
                    "exact_client_id": f"{name.upper()}_EXACT_CLIENT_ID",
                    "exact_client_secret": f"{name.upper()}_EXACT_CLIENT_SECRET",
                },
            }
        )
    return yaml.safe_dump({"shops": shops}, sort_keys=False)


def sandboxes_yaml() -> str:
    """The test's own services: each shop's sandboxes, their Exact port published on loopback
    for the read-back."""
    services = {}
    for name, (seed, _) in SHOPS.items():
        command = ["woo-exact", "sandbox", "--host", "0.0.0.0", "--public-host", f"sandbox-{name}"]
        command += [
            "--seed",
            str(seed),
            "--days",
            str(DAYS),
            "--orders-per-day",
            str(ORDERS_PER_DAY),
        ]
        command += ["--end-date", LAST_DAY.isoformat(), "--exact-minute-limit", "100000"]
        if name == "boeken":
            command += ["--administration", "/etc/sandbox/administration_boeken.json"]
        if name == SLOW_EXACT[0]:
            command += ["--exact-latency", str(SLOW_EXACT[1])]
        services[f"sandbox-{name}"] = {
            "image": "woo-exact-sandbox",
            "entrypoint": command,
            "volumes": ["./administration_boeken.json:/etc/sandbox/administration_boeken.json:ro"],
            "ports": ["127.0.0.1::8781"],
            "networks": ["woo_exact"],
        }
    return yaml.safe_dump({"services": services}, sort_keys=False)


def tools_or_fail() -> None:
    for tool in ("docker", "docker-compose"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: `make test-deploy` installs Debian's docker.io")
    if docker("info", check=False).returncode != 0:
        pytest.fail("the Docker daemon does not answer (`make test-deploy` starts dockerd)")
    missing = [
        image for image in IMAGES if docker("image", "inspect", image, check=False).returncode
    ]
    if missing:
        pytest.fail(f"images missing: {missing}; `make images` builds them")
    for taken in (["network", "inspect", "woo_exact"], ["volume", "inspect", "woo_exact_config"]):
        if docker(*taken, check=False).returncode == 0:
            pytest.fail(
                f"a deployment of the profile exists on this machine ({taken[0]} {taken[2]})"
            )


@pytest.fixture(name="profile", scope="module")
def profile_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Profile]:
    tools_or_fail()
    directory = tmp_path_factory.mktemp("profile")
    text = sync_yaml()
    shops = parse_shops(text, source="sync.yaml")
    (directory / "sync.yaml").write_text(text)
    variables = process_variables(shops)
    (directory / "docker-compose.yaml").write_text(render_compose(variables))
    (directory / "dagster.yaml").write_text(render_instance(variables))
    (directory / "sandboxes.yaml").write_text(sandboxes_yaml())
    for name in ("Caddyfile", "create-sync-database.sql"):
        shutil.copy(REPO / "deploy" / name, directory / name)
    administration = json.loads(default_administration_file().read_text(encoding="utf-8"))
    administration["division"] |= {"Code": SHOPS["boeken"][1], "Description": "Boekhandel B.V."}
    (directory / "administration_boeken.json").write_text(json.dumps(administration))
    hashed = docker(
        "run", "--rm", "woo-exact-caddy", "caddy", "hash-password", "--plaintext", OPERATOR[1]
    ).stdout.strip()
    (directory / "operators").write_text(f"{OPERATOR[0]} {hashed}\n")
    (directory / "bookkeepers").write_text(f"bert {hashed}\n")
    env_file = {
        "POSTGRES_PASSWORD": "profile-test-password",
        "WOO_EXACT_SECRET_KEY": Fernet.generate_key().decode(),
        "WOO_EXACT_POSTGRES_IMAGE": "woo-exact-postgres",
        "WOO_EXACT_PROXY_IMAGE": "woo-exact-caddy",
    }
    for name in SHOPS:
        prefix = name.upper()
        env_file |= {
            f"{prefix}_WOO_CONSUMER_KEY": DEFAULT_CONSUMER_KEY,
            f"{prefix}_WOO_CONSUMER_SECRET": DEFAULT_CONSUMER_SECRET,
            f"{prefix}_EXACT_CLIENT_ID": DEFAULT_CLIENT_ID,
            f"{prefix}_EXACT_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        }
    assert set(variables.from_env_file) <= set(env_file)
    (directory / ".env").write_text("".join(f"{k}={v}\n" for k, v in env_file.items()))
    profile = Profile(directory, env_file)
    try:
        docker("volume", "create", "woo_exact_config")
        docker(
            "run", "--rm", "-v", "woo_exact_config:/etc/woo-exact", "-v",
            f"{directory}:/src:ro", "woo-exact-base:bookworm", "cp", "/src/sync.yaml",
            "/etc/woo-exact/sync.yaml",
        )  # fmt: skip
        profile.compose("up", "-d")
        wait_for(lambda: answers(f"{UI}/server_info"), "the UI through the proxy", 180)
        for name in SHOPS:
            sign_in(profile, name)
        yield profile
    finally:
        tear_down(profile)


def tear_down(profile: Profile) -> None:
    """Everything the test started: the profile, the runs' containers, its volumes, networks."""
    logs = profile.compose("logs", "--no-color", check=False).stdout
    (profile.directory / "compose.log").write_text(logs)
    # The runs' containers first: the daemon started them on the profile's network, outside
    # the compose project, and a network still in use is not removed.
    runs = docker("ps", "-aq", "--filter", "network=woo_exact", check=False).stdout.split()
    if runs:
        docker("rm", "-f", *runs, check=False)
    down = profile.compose("down", "-v", "--remove-orphans", "-t", "5", check=False)
    assert down.returncode == 0, down.stderr
    docker("volume", "rm", "-f", "woo_exact_config", check=False)


SIGN_IN = """
import sys, httpx
from woo_exact_pipeline.config import credentials_for, load_config
from woo_exact_pipeline.exact.login import login
from woo_exact_pipeline.store.database import open_sync_database
settings = load_config(shop=sys.argv[1])
def approve(url):
    # The sandbox's consent page, approved as a person would click "allow".
    with httpx.Client(timeout=10) as browser:
        consent = browser.get(url + "&auto_approve=true")
        browser.get(consent.headers["location"])
login(settings.exact, open_sync_database(), secrets=credentials_for(settings).exact,
      show_consent_url=lambda url: None, open_browser=approve)
"""


def sign_in(profile: Profile, shop: str) -> None:
    """`woo-exact exact login` for the shop, in the code server's container (its redirect URI
    is on that container's loopback)."""
    result = docker("exec", profile.container("code"), "python", "-c", SIGN_IN, shop, check=False)
    assert result.returncode == 0, f"{shop}: {result.stderr}"


def operator() -> httpx.Client:
    return httpx.Client(base_url=UI, auth=OPERATOR, timeout=30)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, auth=OPERATOR, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition: Any, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(1)


def graphql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    with operator() as client:
        answer = client.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text[:2000]
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body
    return body["data"]


LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}
"""

RUNS = """
query($filter: RunsFilter) {
  runsOrError(filter: $filter) { ... on Runs { results { runId jobName status } } }
}
"""


class _EntryTables(HTMLParser):
    """The sales entries on the Exact sandbox's overview page: (YourRef, amount) each."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def booked_in_exact(url: str) -> list[tuple[str, Decimal]]:
    parser = _EntryTables()
    parser.feed(httpx.get(f"{url}/", timeout=30).text)
    header = ["Entry", "Journal", "Type", "Date", "Customer", "YourRef", "Amount", "VAT"]
    entries = []
    for above, row in zip(parser.rows, parser.rows[1:], strict=False):
        if above == header:
            entries.append((row[5], Decimal(row[6])))
    return entries


def test_the_production_image_runs_the_code_location_and_holds_no_sandbox() -> None:
    tools_or_fail()
    found = docker(
        "run",
        "--rm",
        "--entrypoint",
        "python",
        "woo-exact-pipeline",
        "-c",
        "from importlib.util import find_spec as f; "
        "print(f('woo_exact_pipeline.sandbox'), f('woo_exact_pipeline.definitions') is not None)",
    )
    assert found.stdout.split() == ["None", "True"]
    demo = docker(
        "run", "--rm", "--entrypoint", "woo-exact", "woo-exact-pipeline", "demo", check=False
    )
    assert demo.returncode == 1
    assert "this installation has no sandboxes (the production image leaves them out)" in (
        demo.stderr
    )


def test_anonymous_requests_are_refused_and_the_webservers_hold_no_secret(
    profile: Profile,
) -> None:
    assert httpx.get(f"{UI}/server_info", timeout=10).status_code == 401
    assert httpx.get("http://127.0.0.1:8081/server_info", timeout=10).status_code == 401
    secrets = {
        value
        for name, value in profile.env_file.items()
        if name != "POSTGRES_PASSWORD" and not name.endswith("_IMAGE")
    }
    for service in ("webserver", "webserver-read-only", "proxy"):
        inspected = json.loads(docker("inspect", profile.container(service)).stdout)
        environment = inspected[0]["Config"]["Env"]
        assert not [line for line in environment if line.split("=", 1)[1] in secrets], service
    for service in ("code", "daemon"):
        inspected = json.loads(docker("inspect", profile.container(service)).stdout)
        assert (
            f"WOO_EXACT_SECRET_KEY={profile.env_file['WOO_EXACT_SECRET_KEY']}"
            in (inspected[0]["Config"]["Env"])
        )


def test_a_backfill_of_both_shops_books_every_paid_order_once_even_when_a_load_is_killed(
    profile: Profile,
) -> None:
    days = [(LAST_DAY - timedelta(days=offset)).isoformat() for offset in range(DAYS)]
    for shop in SHOPS:
        launched = graphql(
            LAUNCH_BACKFILL,
            {
                "params": {
                    "selector": {
                        "partitionSetName": f"{shop}__extract_and_transform_job_partition_set",
                        "repositorySelector": {
                            "repositoryLocationName": "woo_exact_pipeline",
                            "repositoryName": "__repository__",
                        },
                    },
                    "partitionNames": days,
                }
            },
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched

    expected = {shop: paid_orders(seed) for shop, (seed, _) in SHOPS.items()}
    killed = kill_a_load_mid_way(profile, SLOW_EXACT[0])
    # Run monitoring sees the container gone and fails the run; run_retries starts it again.
    wait_for(lambda: run_status(killed) == "FAILURE", "the killed run marked failed", 180)

    def every_paid_order_booked() -> bool:
        for shop, paid in expected.items():
            booked = {ref for ref, _ in booked_in_exact(profile.exact_url(shop))}
            if not set(paid) <= booked:
                return False
        return True

    wait_for(every_paid_order_booked, "every paid order in Exact", BOOKED_WITHIN_SECONDS)
    # The loads ran as containers the daemon launched, a run per shop and day, and finished
    # (each reconciles its day after booking it).
    wait_for(
        lambda: all(load_runs(shop, "SUCCESS") == DAYS for shop in SHOPS),
        "the loads to finish",
        120,
    )
    for shop, paid in expected.items():
        entries = booked_in_exact(profile.exact_url(shop))
        references = [ref for ref, _ in entries]
        assert len(references) == len(set(references)), f"{shop}: booked twice"
        amounts = dict(entries)
        # Each administration holds its own shop's orders at the amounts that shop charged.
        assert {ref: amounts[ref] for ref in paid} == paid, shop
    # The one failed run is the killed one; the retry (or the next load) booked the rest.
    failed = graphql(RUNS, {"filter": {"statuses": ["FAILURE"]}})["runsOrError"]["results"]
    assert [run["runId"] for run in failed] == [killed]


def kill_a_load_mid_way(profile: Profile, shop: str) -> str:
    """SIGKILL the container of the shop's running Exact load once its first booking landed
    in Exact; the run's id."""
    label = f"label=dagster/job_name={shop}__exact_load_job"
    running: list[str] = []

    def a_load_is_booking() -> bool:
        running[:] = docker(
            "ps", "-q", "--filter", label, "--filter", "status=running"
        ).stdout.split()
        return bool(running) and bool(booked_in_exact(profile.exact_url(shop)))

    wait_for(a_load_is_booking, f"{shop}'s first load to book", BOOKED_WITHIN_SECONDS)
    inspected = json.loads(docker("inspect", running[0]).stdout)
    docker("kill", "--signal", "KILL", running[0])
    run_id: str = inspected[0]["Config"]["Labels"]["dagster/run_id"]
    return run_id


RUN_STATUS = """
query($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }
"""


def run_status(run_id: str) -> str:
    status: str = graphql(RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
    return status


def load_runs(shop: str, status: str) -> int:
    """How many of the shop's Exact loads have this status."""
    runs = graphql(
        RUNS, {"filter": {"pipelineName": f"{shop}__exact_load_job", "statuses": [status]}}
    )
    return len(runs["runsOrError"]["results"])


def paid_orders(seed: int) -> dict[str, Decimal]:
    """The shop's EUR orders in a booking status (processing, completed) at its end, with their
    totals: generated on this side from the same seed and end date as the sandbox's."""
    shop, _ = generate_demo_shop(
        seed=seed, days=DAYS, orders_per_day=ORDERS_PER_DAY, end_date=LAST_DAY
    )
    paid = {}
    for record in shop.orders.values():
        order = record.document()
        if order["status"] in ("processing", "completed") and order["currency"] == "EUR":
            paid[order["number"]] = Decimal(order["total"])
    return paid
