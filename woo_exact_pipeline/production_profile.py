"""The production profile (deploy/) rendered from a sync.yaml: which process gets which secret.

A `shops:` file names its own environment variables per shop (`credentials:`), so the lists of
variables that the containers receive cannot be written once by hand: they are rendered here.
Each process gets what it needs and nothing else:

- the code server evaluates every sensor (loads, alerts) and serves the definitions: the shops'
  keys, the token key, the sync database and the alert channels' secrets;
- the daemon launches every run, and the Docker run launcher copies the run's variables from the
  daemon's own environment: it holds what the runs need (shop keys, token key, sync database),
  not the alert secrets (alerts are sent by sensors, in the code server);
- the webservers need Dagster's storage only: no shop key, token key or alert secret. They are
  published nowhere; an authenticating proxy (Caddy, basic auth) is the only way in, on
  loopback by default: the full UI for operators, a read-only one (`--read-only`) for the
  bookkeeper.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from woo_exact_pipeline.config import ShopCredentials, SyncConfig
from woo_exact_pipeline.config.credentials import (
    SLACK_TOKEN_VARIABLE,
    SMTP_HOST_VARIABLE,
    SMTP_PASSWORD_VARIABLE,
    SMTP_PORT_VARIABLE,
    SMTP_USER_VARIABLE,
    WEBHOOK_SECRET_VARIABLE,
)

#: Dagster's own storage (PostgreSQL), which every Dagster process reads.
DAGSTER_STORAGE = ("DAGSTER_PG_HOST", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")
#: What every process of the pipeline itself (code server, runs) reads besides the shops' keys.
PIPELINE = ("WOO_EXACT_CONFIG", "WOO_EXACT_DATABASE_URL", "WOO_EXACT_SECRET_KEY")
#: Values the profile sets itself (the compose file's own services and volumes).
FIXED_VALUES = {
    "DAGSTER_PG_HOST": "postgres",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in deploy/.env}",
    "DAGSTER_PG_DB": "dagster",
    "WOO_EXACT_CONFIG": "/etc/woo-exact/sync.yaml",
    "WOO_EXACT_DATABASE_URL": "postgresql://dagster:${POSTGRES_PASSWORD}@postgres:5432/woo_exact",
}
#: Secrets that may be empty (a mail relay without a login, the default SMTP port).
OPTIONAL = {SMTP_PORT_VARIABLE, SMTP_USER_VARIABLE, SMTP_PASSWORD_VARIABLE}


@dataclass(frozen=True)
class ProcessVariables:
    """The environment variables each process of the profile receives, in a stable order."""

    code_server: tuple[str, ...]
    daemon: tuple[str, ...]
    runs: tuple[str, ...]
    webserver: tuple[str, ...]

    @property
    def from_env_file(self) -> tuple[str, ...]:
        """What the operator puts in deploy/.env: every variable the profile does not set."""
        every = _unique([*self.code_server, *self.daemon, "POSTGRES_PASSWORD"])
        return tuple(name for name in every if name not in FIXED_VALUES)


def shop_secret_variables(shops: Iterable[SyncConfig]) -> list[str]:
    """The variables every shop's `credentials:` names (the default names where it names none)."""
    return _unique(
        getattr(shop.credentials, setting)
        for shop in shops
        for setting in ShopCredentials.model_fields
    )


def alert_secret_variables(shops: Iterable[SyncConfig]) -> list[str]:
    """The secrets of the alert channels some shop uses."""
    names: list[str] = []
    for shop in shops:
        alerts = shop.alerts
        if alerts.email.to:
            names += [
                SMTP_HOST_VARIABLE,
                SMTP_PORT_VARIABLE,
                SMTP_USER_VARIABLE,
                SMTP_PASSWORD_VARIABLE,
            ]
        if alerts.slack.channel:
            names.append(SLACK_TOKEN_VARIABLE)
        if alerts.webhook.url:
            names.append(WEBHOOK_SECRET_VARIABLE)
    return _unique(names)


def process_variables(shops: list[SyncConfig]) -> ProcessVariables:
    shop_secrets = shop_secret_variables(shops)
    runs = _unique([*DAGSTER_STORAGE, *PIPELINE, *shop_secrets])
    return ProcessVariables(
        code_server=tuple(_unique([*runs, *alert_secret_variables(shops)])),
        daemon=tuple(runs),  # the run launcher forwards these from the daemon's environment
        runs=tuple(runs),
        webserver=DAGSTER_STORAGE,
    )


def render_compose(variables: ProcessVariables) -> str:
    return COMPOSE_TEMPLATE.format(
        code_environment=_environment_block(variables.code_server),
        daemon_environment=_environment_block(variables.daemon),
        webserver_environment=_environment_block(variables.webserver),
        env_file_names=_wrapped(variables.from_env_file, prefix="#   "),
    )


def render_instance(variables: ProcessVariables) -> str:
    return INSTANCE_TEMPLATE.format(
        run_env_vars="\n".join(f"      - {name}" for name in variables.runs)
    )


def write_profile(shops: list[SyncConfig], directory: Path) -> list[Path]:
    """docker-compose.yaml and dagster.yaml for these shops, written into `directory`."""
    variables = process_variables(shops)
    written = []
    for name, text in (
        ("docker-compose.yaml", render_compose(variables)),
        ("dagster.yaml", render_instance(variables)),
    ):
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _environment_block(names: Iterable[str]) -> str:
    lines = []
    for name in names:
        if name in FIXED_VALUES:
            value = FIXED_VALUES[name]
        elif name in OPTIONAL:
            value = f"${{{name}:-}}"
        else:
            value = f"${{{name}:?set {name} in deploy/.env}}"
        lines.append(f'      {name}: "{value}"')
    return "\n".join(lines)


def _wrapped(names: Iterable[str], *, prefix: str, width: int = 96) -> str:
    lines, line = [], ""
    for name in names:
        if line and len(prefix) + len(line) + len(name) + 2 > width:
            lines.append(prefix + line.rstrip(","))
            line = ""
        line += f"{name}, "
    lines.append(prefix + line.rstrip(", "))
    return "\n".join(lines)


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


COMPOSE_TEMPLATE = """\
# Rendered by `woo-exact deploy render` from sync.yaml: re-render after changing its shops or
# alert channels (the rendered dagster.yaml is mounted: no image to rebuild). The production
# profile on one Docker host: PostgreSQL for Dagster and the sync database, the code location
# as a gRPC server, the daemon (schedules, sensors, run queue) with runs launched as
# containers, two webservers (full and read-only) reachable only through an authenticating
# proxy (Caddy) on loopback.
#
# deploy/.env (never committed) holds:
{env_file_names}
# deploy/operators and deploy/bookkeepers hold the proxy's users, one `name hash` per line
# (hash: `caddy hash-password`). sync.yaml goes into the `woo_exact_config` volume.

services:
  postgres:
    image: ${{WOO_EXACT_POSTGRES_IMAGE:-postgres:16}}
    environment:
      POSTGRES_USER: dagster
      POSTGRES_PASSWORD: "${{POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in deploy/.env}}"
      POSTGRES_DB: dagster
    volumes:
      - postgres_data:/var/lib/postgresql/data
      - ./create-sync-database.sql:/docker-entrypoint-initdb.d/create-sync-database.sql:ro
    networks: [woo_exact]

  # Serves the definitions and evaluates every sensor: the alerts are sent from here.
  code:
    build:
      context: ..
      args:
        BASE_IMAGE: ${{WOO_EXACT_BASE_IMAGE:-python:3.11-slim}}
    image: woo-exact-pipeline
    environment:
{code_environment}
      DAGSTER_CURRENT_IMAGE: woo-exact-pipeline
    volumes:
      - woo_exact_config:/etc/woo-exact:ro
      - ./dagster.yaml:/opt/dagster/home/dagster.yaml:ro
    networks: [woo_exact]

  # Launches the runs; the Docker run launcher copies their variables from this environment.
  daemon:
    image: woo-exact-pipeline
    entrypoint: ["dagster-daemon", "run", "-w", "workspace.yaml"]
    environment:
{daemon_environment}
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - ./dagster.yaml:/opt/dagster/home/dagster.yaml:ro
    depends_on: [postgres, code]
    networks: [woo_exact]

  # The UI for operators; it queues runs and needs no secret of the shops.
  webserver:
    image: woo-exact-pipeline
    entrypoint: ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "workspace.yaml"]
    environment:
{webserver_environment}
    volumes:
      - ./dagster.yaml:/opt/dagster/home/dagster.yaml:ro
    depends_on: [postgres, code]
    networks: [woo_exact]

  # The same UI for the bookkeeper: it shows everything and can launch nothing.
  webserver-read-only:
    image: woo-exact-pipeline
    entrypoint:
      ["dagster-webserver", "--read-only", "-h", "0.0.0.0", "-p", "3000", "-w", "workspace.yaml"]
    environment:
{webserver_environment}
    volumes:
      - ./dagster.yaml:/opt/dagster/home/dagster.yaml:ro
    depends_on: [postgres, code]
    networks: [woo_exact]

  # The only way in: basic auth, operators on :8080 and bookkeepers on :8081, bound to
  # WOO_EXACT_UI_ADDRESS (loopback unless you set another; put TLS in front before you do).
  proxy:
    image: ${{WOO_EXACT_PROXY_IMAGE:-caddy:2}}
    command: ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
    ports:
      - "${{WOO_EXACT_UI_ADDRESS:-127.0.0.1}}:8080:8080"
      - "${{WOO_EXACT_UI_ADDRESS:-127.0.0.1}}:8081:8081"
    volumes:
      - ./Caddyfile:/etc/caddy/Caddyfile:ro
      - ./operators:/etc/caddy/operators:ro
      - ./bookkeepers:/etc/caddy/bookkeepers:ro
    depends_on: [webserver, webserver-read-only]
    networks: [woo_exact]

volumes:
  postgres_data:
  woo_exact_config:
    name: woo_exact_config

networks:
  woo_exact:
    name: woo_exact
"""

INSTANCE_TEMPLATE = """\
# Rendered by `woo-exact deploy render` from sync.yaml (the run launcher's variables are the
# shops' own). Dagster instance for production: storage in PostgreSQL, a queued run
# coordinator, and a Docker run launcher so runs start in containers of the code location's
# image. Every value comes from the environment (see deploy/docker-compose.yaml).
storage:
  postgres:
    postgres_db:
      hostname: {{env: DAGSTER_PG_HOST}}
      port: 5432
      username: {{env: DAGSTER_PG_USER}}
      password: {{env: DAGSTER_PG_PASSWORD}}
      db_name: {{env: DAGSTER_PG_DB}}

# Every shop has its own sensors and schedules (7 and 4): with many shops the daemon evaluates
# them in threads, so one slow shop's sensor never delays the others'.
sensors:
  use_threads: true
  num_workers: 8
schedules:
  use_threads: true
  num_workers: 4

run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator

concurrency:
  runs:
    max_concurrent_runs: 8
  pools:
    # One Exact load at a time per administration (Exact's limits and single-use refresh
    # tokens are per app and administration): Exact assets use the pool
    # exact_division_<division>; extraction uses <shop>__woocommerce_api, one per shop.
    default_limit: 1

run_launcher:
  module: dagster_docker
  class: DockerRunLauncher
  config:
    # Copied into each run's container from the daemon's environment: what a run reads.
    env_vars:
{run_env_vars}
    network: woo_exact
    container_kwargs:
      volumes:
        - woo_exact_config:/etc/woo-exact:ro

run_monitoring:
  enabled: true
  # A run whose worker died (a killed container) is marked failed within half a minute, which
  # also frees the booking ledger's claims; run_retries then starts it again.
  poll_interval_seconds: 30
  start_timeout_seconds: 300

run_retries:
  enabled: true
  max_retries: 1
  retry_on_asset_or_op_failure: false

telemetry:
  enabled: false
"""
