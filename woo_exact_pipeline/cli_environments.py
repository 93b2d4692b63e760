"""The commands that set up where the pipeline runs: the sandboxes, the demo on them, and the
production profile (`woo-exact sandbox`, `woo-exact demo`, `woo-exact deploy render`); cli.py
adds them to `woo-exact`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from woo_exact_pipeline.config import ConfigError, default_config_path, load_shops


@click.group()
def deploy() -> None:
    """The production profile (deploy/): PostgreSQL, containers, an authenticating proxy."""


@deploy.command("render")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="sync.yaml with every shop of the deployment (default: $WOO_EXACT_CONFIG or ./sync.yaml).",
)
@click.option(
    "--to",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("deploy"),
    show_default=True,
    help="Folder to write docker-compose.yaml and dagster.yaml into.",
)
def deploy_render(config_path: Path | None, directory: Path) -> None:
    """Write the profile for these shops: each process gets the variables it needs and no
    other (every shop's credentials, the alert channels' secrets)."""
    from woo_exact_pipeline.production_profile import process_variables, write_profile

    try:
        shops = load_shops(config_path or default_config_path())
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    directory.mkdir(parents=True, exist_ok=True)
    for path in write_profile(shops, directory):
        click.echo(f"wrote {path}")
    needed = ", ".join(process_variables(shops).from_env_file)
    click.echo(f"deploy/.env needs: {needed}")


@click.command()
@click.option("--woo-port", type=int, default=8780, show_default=True, help="WooCommerce port.")
@click.option("--exact-port", type=int, default=8781, show_default=True, help="Exact port.")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address both sandboxes listen on."
)
@click.option(
    "--public-host",
    default=None,
    help="Name clients reach them by, in the links they write (default: --host), e.g. a "
    "container's name when listening on 0.0.0.0.",
)
@click.option(
    "--shop-data",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Serve this shop (JSON in the REST API's shapes) instead of the generated demo shop.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Demo shop generator seed.")
@click.option("--days", type=int, default=90, show_default=True, help="Days of order history.")
@click.option("--orders-per-day", type=int, default=40, show_default=True)
@click.option(
    "--end-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Last day of the history (default: today, up to this moment). Same seed and end "
    "date, same shop, whatever day it runs.",
)
@click.option("--https", is_flag=True, help="Serve the shop over TLS (self-signed certificate).")
@click.option(
    "--plain-permalinks",
    is_flag=True,
    help="Redirect /wp-json/ to the home page and serve only ?rest_route=, as such shops do.",
)
@click.option(
    "--woocommerce-version",
    default="11.0.1",
    show_default=True,
    help="WooCommerce version to behave as: up to 11.0.x ?rest_route= refuses API keys.",
)
@click.option("--live", is_flag=True, help="Keep placing and progressing orders every few seconds.")
@click.option("--consumer-key", default=None, help="WooCommerce key (default: the sandbox's ck_).")
@click.option("--consumer-secret", default=None, help="WooCommerce secret (default: cs_).")
@click.option(
    "--administration",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Serve this Exact administration (JSON like the seeded one) instead.",
)
@click.option("--exact-client-id", default=None, help="Exact app client id (default: a GUID).")
@click.option("--exact-client-secret", default=None, help="Exact app client secret.")
@click.option("--exact-redirect-uri", default=None, help="Exact app redirect URI.")
@click.option("--exact-minute-limit", type=int, default=60, show_default=True)
@click.option("--exact-daily-limit", type=int, default=5000, show_default=True)
@click.option(
    "--exact-latency",
    type=float,
    default=0.0,
    metavar="SECONDS",
    help="Answer every Exact request this much later (a slow administration).",
)
def sandbox(
    woo_port: int,
    exact_port: int,
    host: str,
    public_host: str | None,
    shop_data: Path | None,
    seed: int,
    days: int,
    orders_per_day: int,
    end_date: datetime | None,
    https: bool,
    plain_permalinks: bool,
    woocommerce_version: str,
    live: bool,
    consumer_key: str | None,
    consumer_secret: str | None,
    administration: Path | None,
    exact_client_id: str | None,
    exact_client_secret: str | None,
    exact_redirect_uri: str | None,
    exact_minute_limit: int,
    exact_daily_limit: int,
    exact_latency: float,
) -> None:
    """Run the sandbox WooCommerce shop and Exact Online administration until Ctrl-C.

    The first line printed is one JSON object with the address and credentials of each.
    """
    import json
    import threading

    _require_the_sandboxes()
    from woo_exact_pipeline.sandbox.both import SandboxOptions, start_sandboxes
    from woo_exact_pipeline.sandbox.woocommerce import ShopDataError

    overrides = {
        name: value
        for name, value in (
            ("consumer_key", consumer_key),
            ("consumer_secret", consumer_secret),
            ("exact_client_id", exact_client_id),
            ("exact_client_secret", exact_client_secret),
            ("exact_redirect_uri", exact_redirect_uri),
        )
        if value is not None
    }
    options = SandboxOptions(
        **overrides,
        woo_port=woo_port,
        exact_port=exact_port,
        host=host,
        public_host=public_host,
        shop_data=shop_data,
        seed=seed,
        days=days,
        orders_per_day=orders_per_day,
        end_date=end_date.date() if end_date else None,
        https=https,
        plain_permalinks=plain_permalinks,
        woocommerce_version=woocommerce_version,
        live=live,
        administration_file=administration,
        exact_minute_limit=exact_minute_limit,
        exact_daily_limit=exact_daily_limit,
        exact_latency_seconds=exact_latency,
    )
    try:
        running = start_sandboxes(options)
    except (ShopDataError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(running.describe()), nl=True)
    click.echo(running.summary())
    click.echo("Press Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


@click.command()
@click.option("--days", type=int, default=90, show_default=True, help="Days of shop history.")
@click.option("--orders-per-day", type=int, default=40, show_default=True)
@click.option(
    "--end-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Last day of the shop's history and of the sync (default: today).",
)
@click.option("--serve", is_flag=True, help="Instead: live sandboxes and the Dagster UI.")
def demo(days: int, orders_per_day: int, end_date: datetime | None, serve: bool) -> None:
    """Run the whole pipeline on the embedded sandboxes (what `make demo` runs)."""
    _require_the_sandboxes()
    from woo_exact_pipeline.demo import run_demo, serve_ui

    if serve:
        raise SystemExit(serve_ui(echo=click.echo))
    report = run_demo(
        days=days,
        orders_per_day=orders_per_day,
        end_date=end_date.date() if end_date else None,
        echo=click.echo,
    )
    click.echo("")
    click.echo("\n".join(report.lines()))
    click.echo("")
    click.echo("Next: `make ui` to browse these runs, the asset graph and the sync log in Dagster.")


def _require_the_sandboxes() -> None:
    """The production image leaves the sandboxes and their web server out."""
    from importlib.util import find_spec

    if find_spec("woo_exact_pipeline.sandbox") is None or find_spec("uvicorn") is None:
        raise click.ClickException(
            "this installation has no sandboxes (the production image leaves them out): run "
            "the demo from a checkout (`make demo`), or pip install 'woo-exact-pipeline[sandbox]'"
        )
