"""The production profile as rendered for the agency's two-shop sync.yaml: every shop's keys and
every alert secret reach the processes that need them and no other, the webservers hold no
secret, and nothing is reachable but through the authenticating proxy, on loopback.

Docker Compose (Debian's docker-compose) resolves the files as it would start them, from a
deploy/.env; Caddy (Debian's caddy) runs the profile's Caddyfile in front of two small
stand-in UIs. CI installs both (.ci/run); locally a missing one skips its tests.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from woo_exact_pipeline.config import load_shops
from woo_exact_pipeline.production_profile import (
    process_variables,
    render_compose,
    render_instance,
)

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
AGENCY = REPO / "sync.shops.example.yaml"

#: What sync.shops.example.yaml's shops need, written out by hand: fietsen names its own
#: WooCommerce keys and uses the default Exact app; boeken names all four; fietsen's alerts go
#: by e-mail.
SHOP_SECRETS = [
    "FIETSEN_WOO_CONSUMER_KEY",
    "FIETSEN_WOO_CONSUMER_SECRET",
    "EXACT_CLIENT_ID",
    "EXACT_CLIENT_SECRET",
    "BOEKEN_WOO_CONSUMER_KEY",
    "BOEKEN_WOO_CONSUMER_SECRET",
    "BOEKEN_EXACT_CLIENT_ID",
    "BOEKEN_EXACT_CLIENT_SECRET",
]
ALERT_SECRETS = [
    "WOO_EXACT_SMTP_HOST",
    "WOO_EXACT_SMTP_PORT",
    "WOO_EXACT_SMTP_USER",
    "WOO_EXACT_SMTP_PASSWORD",
]
ENV_FILE = {
    name: f"value-of-{name}"
    for name in [*SHOP_SECRETS, *ALERT_SECRETS, "WOO_EXACT_SECRET_KEY", "POSTGRES_PASSWORD"]
}
DAGSTER_STORAGE = {"DAGSTER_PG_HOST", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}


def tool_or_skip(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    message = f"no {name} on PATH: `apt-get install -y --no-install-recommends {name}`"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (.ci/run does this in CI)")
    pytest.skip(message)


def compose_config(tmp_path: Path, env_file: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` of deploy/docker-compose.yaml with this deploy/.env."""
    path = tmp_path / ".env"
    path.write_text("".join(f"{name}={value}\n" for name, value in env_file.items()))
    compose = tool_or_skip("docker-compose")
    return subprocess.run(
        [compose, "--env-file", str(path), "-f", "docker-compose.yaml", "config"],
        cwd=DEPLOY,
        env={"PATH": os.environ["PATH"]},  # nothing of this machine's environment leaks in
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(name="services")
def services_fixture(tmp_path: Path) -> dict[str, Any]:
    resolved = compose_config(tmp_path, ENV_FILE)
    assert resolved.returncode == 0, resolved.stderr
    services: dict[str, Any] = yaml.safe_load(resolved.stdout)["services"]
    return services


def test_the_committed_profile_is_the_render_of_the_agency_example() -> None:
    variables = process_variables(load_shops(AGENCY))
    assert (DEPLOY / "docker-compose.yaml").read_text() == render_compose(variables)
    assert (DEPLOY / "dagster.yaml").read_text() == render_instance(variables)


def test_every_shop_key_reaches_the_code_server_the_daemon_and_each_run(
    services: dict[str, Any],
) -> None:
    for name in [*SHOP_SECRETS, "WOO_EXACT_SECRET_KEY"]:
        assert services["code"]["environment"][name] == f"value-of-{name}"
        assert services["daemon"]["environment"][name] == f"value-of-{name}"
    # The Docker run launcher copies a run's variables from the daemon's environment.
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    run_variables = instance["run_launcher"]["config"]["env_vars"]
    assert set(run_variables) == {
        *SHOP_SECRETS,
        *DAGSTER_STORAGE,
        "WOO_EXACT_SECRET_KEY",
        "WOO_EXACT_CONFIG",
        "WOO_EXACT_DATABASE_URL",
    }
    assert set(run_variables) <= set(services["daemon"]["environment"])
    database_url = "postgresql://dagster:value-of-POSTGRES_PASSWORD@postgres:5432/woo_exact"
    assert services["daemon"]["environment"]["WOO_EXACT_DATABASE_URL"] == database_url


def test_the_alert_secrets_reach_the_code_server_only_where_the_sensors_send_alerts(
    services: dict[str, Any],
) -> None:
    for name in ALERT_SECRETS:
        assert services["code"]["environment"][name] == f"value-of-{name}"
        for other in ("daemon", "webserver", "webserver-read-only"):
            assert name not in services[other]["environment"], other


def test_the_webservers_hold_no_secret_of_the_shops(services: dict[str, Any]) -> None:
    shop_values = {value for name, value in ENV_FILE.items() if name != "POSTGRES_PASSWORD"}
    for webserver in ("webserver", "webserver-read-only"):
        environment = services[webserver]["environment"]
        assert set(environment) == DAGSTER_STORAGE  # Dagster's storage, nothing else
        assert not shop_values & set(environment.values())
    assert "--read-only" in services["webserver-read-only"]["entrypoint"]
    assert "--read-only" not in services["webserver"]["entrypoint"]


def test_nothing_is_published_but_the_proxy_and_that_on_loopback(
    services: dict[str, Any],
) -> None:
    published = {name: service["ports"] for name, service in services.items() if "ports" in service}
    assert published == {"proxy": ["127.0.0.1:8080:8080/tcp", "127.0.0.1:8081:8081/tcp"]}


def test_a_secret_missing_from_the_env_file_stops_compose_with_its_name(tmp_path: Path) -> None:
    without = {name: value for name, value in ENV_FILE.items() if name != "BOEKEN_EXACT_CLIENT_ID"}
    resolved = compose_config(tmp_path, without)
    assert resolved.returncode != 0
    assert "set BOEKEN_EXACT_CLIENT_ID in deploy/.env" in resolved.stderr


# --- the proxy -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(name="stand_in_ui")
def stand_in_ui_fixture() -> Iterator[dict[str, int]]:
    """Two tiny HTTP servers in place of the webservers: each answers with its name."""
    servers = {}
    for name in ("webserver", "webserver-read-only"):

        class Answer(BaseHTTPRequestHandler):
            text = name.encode()

            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()
                self.wfile.write(self.text)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    yield {name: server.server_address[1] for name, server in servers.items()}
    for server in servers.values():
        server.shutdown()


@pytest.fixture(name="proxy")
def proxy_fixture(tmp_path: Path, stand_in_ui: dict[str, int]) -> Iterator[dict[str, int]]:
    """The profile's Caddyfile, run by Caddy, pointed at the stand-ins on local ports; users
    anna (operator) and bert (bookkeeper), both with password 's3cret'."""
    caddy = tool_or_skip("caddy")
    hashed = subprocess.run(
        [caddy, "hash-password", "--plaintext", "s3cret"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (tmp_path / "operators").write_text(f"anna {hashed}\n")
    (tmp_path / "bookkeepers").write_text(f"bert {hashed}\n")
    ports = {"operators": free_port(), "bookkeepers": free_port()}
    caddyfile = (
        (DEPLOY / "Caddyfile")
        .read_text()
        .replace("/etc/caddy/", f"{tmp_path}/")
        .replace("http://:8080", f"http://127.0.0.1:{ports['operators']}")
        .replace("http://:8081", f"http://127.0.0.1:{ports['bookkeepers']}")
        .replace("webserver-read-only:3000", f"127.0.0.1:{stand_in_ui['webserver-read-only']}")
        .replace("webserver:3000", f"127.0.0.1:{stand_in_ui['webserver']}")
    )
    (tmp_path / "Caddyfile").write_text(caddyfile)
    process = subprocess.Popen(
        [caddy, "run", "--adapter", "caddyfile", "--config", str(tmp_path / "Caddyfile")],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for port in ports.values():
            _wait_until_listening(port, process)
        yield ports
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_listening(port: int, process: subprocess.Popen[str]) -> None:
    """Until Caddy accepts connections on `port` (or has exited: then its error)."""
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read() if process.stderr else "") from None
            threading.Event().wait(0.05)
    raise AssertionError(f"Caddy never listened on {port}")


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_the_proxy_refuses_anonymous_requests_and_wrong_passwords(proxy: dict[str, int]) -> None:
    for port in proxy.values():
        anonymous = httpx.get(f"http://127.0.0.1:{port}/")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Basic")
        assert (
            httpx.get(f"http://127.0.0.1:{port}/", headers=basic("anna", "wrong")).status_code
            == 401
        )


def test_operators_reach_the_full_ui_and_bookkeepers_only_the_read_only_one(
    proxy: dict[str, int],
) -> None:
    operators = f"http://127.0.0.1:{proxy['operators']}/"
    bookkeepers = f"http://127.0.0.1:{proxy['bookkeepers']}/"
    assert httpx.get(operators, headers=basic("anna", "s3cret")).text == "webserver"
    assert httpx.get(operators, headers=basic("bert", "s3cret")).status_code == 401
    assert httpx.get(bookkeepers, headers=basic("bert", "s3cret")).text == "webserver-read-only"
    assert httpx.get(bookkeepers, headers=basic("anna", "s3cret")).status_code == 401
