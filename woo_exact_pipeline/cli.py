"""The `woo-exact` command.

User mistakes (a broken sync.yaml, a missing file) end with a readable message and exit code 1,
never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from woo_exact_pipeline.config import (
    ConfigError,
    config_reference_markdown,
    default_config_path,
    load_config,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Book WooCommerce orders into Exact Online, exactly once, with a sync log in Dagster."""


@main.group()
def config() -> None:
    """Work with sync.yaml, the settings of the integration."""


@config.command("check")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The settings file (default: $WOO_EXACT_CONFIG or ./sync.yaml).",
)
def check_config(config_path: Path | None) -> None:
    """Validate sync.yaml and list every problem with the setting it concerns."""
    path = config_path or default_config_path()
    try:
        settings = load_config(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"{path} is valid: shop {settings.woocommerce.shop_url} -> Exact administration "
        f"{settings.exact.division}, journal {settings.exact.sales_journal}, "
        f"booked as {settings.exact.insertion_type}."
    )


@config.command("reference")
def config_reference() -> None:
    """Print the table of every setting (the README's configuration reference)."""
    click.echo(config_reference_markdown())


@main.group()
def exact() -> None:
    """Connect to Exact Online."""


@exact.command("login")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The settings file (default: $WOO_EXACT_CONFIG or ./sync.yaml).",
)
@click.option("--no-browser", is_flag=True, help="Only print the sign-in address.")
def exact_login(config_path: Path | None, no_browser: bool) -> None:
    """Sign in to Exact Online once; the pipeline keeps the connection alive after that."""
    import webbrowser

    from woo_exact_pipeline.exact.errors import ExactError
    from woo_exact_pipeline.exact.login import login
    from woo_exact_pipeline.store.database import open_sync_database

    try:
        settings = load_config(config_path or default_config_path())
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    engine = open_sync_database()
    try:
        result = login(
            settings.exact,
            engine,
            show_consent_url=lambda url: click.echo(
                f"Sign in to Exact Online and allow access at:\n\n  {url}\n\n"
                f"Waiting for Exact to call back on {settings.exact.redirect_uri} ..."
            ),
            open_browser=None if no_browser else webbrowser.open,
        )
    except ExactError as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()
    click.echo(f"Connected as {result.user_name}. Administrations you may choose:")
    for choice in result.divisions:
        marks = [
            mark
            for mark, applies in (
                ("configured", choice.code == result.configured_division),
                ("current in Exact", choice.code == result.current_division),
            )
            if applies
        ]
        suffix = f"  ({', '.join(marks)})" if marks else ""
        click.echo(f"  {choice.code}  {choice.description}{suffix}")
    if not result.configured_division_available:
        raise click.ClickException(
            f"sync.yaml's exact.division {result.configured_division} is not one of these: "
            "set it to the administration to book in"
        )


@main.command()
@click.option("--woo-port", type=int, default=8780, show_default=True, help="WooCommerce port.")
@click.option("--exact-port", type=int, default=8781, show_default=True, help="Exact port.")
@click.option(
    "--shop-data",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Serve this shop (JSON in the REST API's shapes) instead of the generated demo shop.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Demo shop generator seed.")
@click.option("--days", type=int, default=90, show_default=True, help="Days of order history.")
@click.option("--orders-per-day", type=int, default=40, show_default=True)
@click.option("--https", is_flag=True, help="Serve the shop over TLS (self-signed certificate).")
@click.option(
    "--plain-permalinks", is_flag=True, help="Answer /wp-json/ with 404, as such shops do."
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
def sandbox(
    woo_port: int,
    exact_port: int,
    shop_data: Path | None,
    seed: int,
    days: int,
    orders_per_day: int,
    https: bool,
    plain_permalinks: bool,
    live: bool,
    consumer_key: str | None,
    consumer_secret: str | None,
    administration: Path | None,
    exact_client_id: str | None,
    exact_client_secret: str | None,
    exact_redirect_uri: str | None,
    exact_minute_limit: int,
    exact_daily_limit: int,
) -> None:
    """Run the sandbox WooCommerce shop and Exact Online administration until Ctrl-C.

    The first line printed is one JSON object with the address and credentials of each.
    """
    import json
    import threading

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
        shop_data=shop_data,
        seed=seed,
        days=days,
        orders_per_day=orders_per_day,
        https=https,
        plain_permalinks=plain_permalinks,
        live=live,
        administration_file=administration,
        exact_minute_limit=exact_minute_limit,
        exact_daily_limit=exact_daily_limit,
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


@main.command()
@click.option("--days", type=int, default=90, show_default=True, help="Days of shop history.")
@click.option("--orders-per-day", type=int, default=40, show_default=True)
@click.option("--serve", is_flag=True, help="Instead: live sandboxes and the Dagster UI.")
def demo(days: int, orders_per_day: int, serve: bool) -> None:
    """Run the whole pipeline on the embedded sandboxes (what `make demo` runs)."""
    from woo_exact_pipeline.demo import run_demo, serve_ui

    if serve:
        raise SystemExit(serve_ui(echo=click.echo))
    report = run_demo(days=days, orders_per_day=orders_per_day, echo=click.echo)
    click.echo("")
    click.echo("\n".join(report.lines()))
    click.echo("")
    click.echo("Next: `make ui` to browse these runs, the asset graph and the sync log in Dagster.")
