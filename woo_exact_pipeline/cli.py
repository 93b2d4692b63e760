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
