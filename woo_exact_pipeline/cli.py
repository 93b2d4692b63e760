"""The `woo-exact` command.

User mistakes (a broken sync.yaml, a missing file) end with a readable message and exit code 1,
never a traceback.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import click

from woo_exact_pipeline.cli_environments import demo, deploy, sandbox
from woo_exact_pipeline.config import (
    ConfigError,
    SyncConfig,
    alert_secrets_for,
    config_reference_markdown,
    credentials_for,
    default_config_path,
    load_config,
    load_shops,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

_Command = TypeVar("_Command", bound=Callable[..., Any])


def config_option(command: _Command) -> _Command:
    """`--config` and `--shop`, the same on every command that reads sync.yaml."""
    with_shop = click.option(
        "--shop",
        "shop_name",
        default=None,
        metavar="NAME",
        help="The shop of sync.yaml to work on (needed when it lists several shops).",
    )(command)
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="The settings file (default: $WOO_EXACT_CONFIG or ./sync.yaml).",
    )(with_shop)


def day_option(name: str, help: str, *, required: bool) -> Callable[[_Command], _Command]:
    return click.option(
        name,
        # "--from" is a Python keyword: the parameter is from_ (and to_, to match).
        f"{name.lstrip('-')}_",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        metavar="YYYY-MM-DD",
        required=required,
        help=f"{help}, a day in the shop's time zone.",
    )


def sync_database() -> Engine:
    """The sync database of $WOO_EXACT_DATABASE_URL; a bad URL is a message, not a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from woo_exact_pipeline.store.database import open_sync_database

    try:
        return open_sync_database()
    except (SQLAlchemyError, RuntimeError) as error:
        raise click.ClickException(
            f"the sync database (WOO_EXACT_DATABASE_URL) cannot be opened: {error}"
        ) from None


def settings_from(config_path: Path | None, shop_name: str | None) -> SyncConfig:
    """The settings of the shop the command works on."""
    try:
        return load_config(config_path or default_config_path(), shop=shop_name)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Book WooCommerce orders into Exact Online, exactly once, with a sync log in Dagster."""


@main.group()
def config() -> None:
    """Work with sync.yaml, the settings of the integration."""


@config.command("check")
@config_option
def check_config(config_path: Path | None, shop_name: str | None) -> None:
    """Validate sync.yaml and list every problem with the setting it concerns."""
    path = config_path or default_config_path()
    try:
        shops = [load_config(path, shop=shop_name)] if shop_name else load_shops(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{path} is valid:")
    for settings in shops:
        click.echo(
            f"  {settings.label}: {settings.woocommerce.shop_url} -> Exact administration "
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
@config_option
@click.option("--no-browser", is_flag=True, help="Only print the sign-in address.")
def exact_login(config_path: Path | None, shop_name: str | None, no_browser: bool) -> None:
    """Sign in to Exact Online once; the pipeline keeps the connection alive after that."""
    import webbrowser

    from woo_exact_pipeline.exact.errors import ExactError
    from woo_exact_pipeline.exact.login import login
    from woo_exact_pipeline.store.database import open_sync_database

    settings = settings_from(config_path, shop_name)
    engine = open_sync_database()
    try:
        result = login(
            settings.exact,
            engine,
            secrets=credentials_for(settings).exact,
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
@config_option
@day_option("--from", "First day to sync", required=True)
@day_option("--to", "Last day to sync", required=True)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Post nothing: show what would be booked, what is booked already, what waits and "
    "what is quarantined or held back, with the reasons.",
)
@click.option(
    "--bulk",
    is_flag=True,
    help="Book each day's sales entries and credit notes in XML uploads, one API call per "
    "upload (a backfill in a fraction of Exact's daily quota); days of exact.bulk_upload_from "
    "events or more are booked so anyway.",
)
def sync(
    config_path: Path | None,
    shop_name: str | None,
    from_: datetime,
    to_: datetime,
    dry_run: bool,
    bulk: bool,
) -> None:
    """Extract, transform and book a range of days through the Dagster definitions.

    Runs are recorded in the Dagster instance of $DAGSTER_HOME when it is set. Exits with 1
    when Exact refused an event or its answer was lost, or a day could not be loaded; orders
    that wait or are quarantined or held back for a setting do not count as failures.
    """
    from woo_exact_pipeline.exact.errors import ExactError
    from woo_exact_pipeline.sync import SyncSetupError, dry_run_range, sync_range
    from woo_exact_pipeline.woocommerce.client import WooCommerceError

    settings = settings_from(config_path, shop_name)
    first, last = from_.date(), to_.date()
    try:
        if dry_run:
            preview = dry_run_range(settings, first, last, _progress)
            click.echo("\n".join(preview.lines()))
            return
        result = sync_range(settings, first, last, _progress, bulk=bulk)
    except (SyncSetupError, ExactError, WooCommerceError) as error:
        raise click.ClickException(str(error)) from None
    click.echo("\n".join(result.report.lines()))
    done = [f"{n} {status.replace('_', ' ')}" for status, n in result.outcomes.items() if n]
    click.echo(f"This sync:                {', '.join(done) or 'nothing to book'}")
    for title, problems in (
        (
            "Failed (Exact refused them, or its answer was lost; retried on the next sync):",
            result.failed,
        ),
        ("Not loaded, or the run failed:", result.not_loaded),
    ):
        if problems:
            click.echo(title)
            click.echo("\n".join(f"  {problem}" for problem in problems))
    if not result.succeeded:
        raise SystemExit(1)


@contextmanager
def _progress(label: str, length: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, so stdout holds only the summary."""
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


@main.command()
@config_option
@click.option(
    "--test-alerts", is_flag=True, help="Also send a test message to every alert channel."
)
def doctor(config_path: Path | None, shop_name: str | None, test_alerts: bool) -> None:
    """Check both connections and sync.yaml against both systems; every problem with its fix.

    Lists the alert channels (and with --test-alerts sends each a test message). Exits with 1
    when any check fails. Reads only, and never prints a secret.
    """
    from woo_exact_pipeline.alerts.channels import (
        AlertDeliveryError,
        configured_channels,
        describe_alert_channels,
        send_test_message,
    )
    from woo_exact_pipeline.doctor import diagnose

    settings = settings_from(config_path, shop_name)
    engine = sync_database()
    try:
        findings = diagnose(settings, engine, credentials_for(settings))
    finally:
        engine.dispose()
    system = None
    for finding in findings:
        if finding.system != system:
            system = finding.system
            click.echo(system)
        click.echo(f"  {'ok  ' if finding.passed else 'FAIL'}  {finding.check}: {finding.detail}")
        if finding.fix:
            click.echo(f"        fix: {finding.fix}")
    failures = sum(1 for finding in findings if not finding.passed)
    click.echo("Alerts")
    alert_secrets = alert_secrets_for()
    click.echo("\n".join(f"  {line}" for line in describe_alert_channels(settings, alert_secrets)))
    for channel in configured_channels(settings, alert_secrets) if test_alerts else []:
        try:
            send_test_message(settings, channel.name, alert_secrets)
        except AlertDeliveryError as error:
            failures += 1
            click.echo(f"  FAIL  test message: {error}")
        else:
            click.echo(f"  ok    test message: sent to {channel.name}")
    if failures:
        click.echo(f"{failures} problem(s) found.")
        raise SystemExit(1)
    click.echo("Everything checks out: woo-exact sync can book.")


@main.group()
def mappings() -> None:
    """Work with the VAT and ledger mappings of sync.yaml."""


@mappings.command("suggest")
@config_option
def mappings_suggest(config_path: Path | None, shop_name: str | None) -> None:
    """Propose currencies, vat_mapping and gl_mapping from the shop's orders and tax rates
    and Exact's codes.

    Prints YAML to check and paste under `exact:`; what matches nothing is listed at the end.
    """
    from woo_exact_pipeline.exact.client import ExactClient
    from woo_exact_pipeline.exact.errors import ExactError
    from woo_exact_pipeline.mappings import read_exact_codes, suggest_mappings
    from woo_exact_pipeline.woocommerce.client import WooCommerceClient, WooCommerceError

    settings = settings_from(config_path, shop_name)
    engine = sync_database()
    try:
        secrets = credentials_for(settings)
        with WooCommerceClient.from_settings(settings, secrets.woocommerce) as woocommerce:
            tax_rates = [rate for page in woocommerce.tax_rates() for rate in page]
            order_currencies = Counter(
                str(order.get("currency") or "").upper() for order in woocommerce.latest_orders()
            )
        with ExactClient.from_settings(settings.exact, engine, secrets=secrets.exact) as exact:
            vat_codes, gl_accounts = read_exact_codes(exact)
    except (WooCommerceError, ExactError) as error:
        raise click.ClickException(
            f"{error} (`woo-exact doctor` checks every connection)"
        ) from None
    finally:
        engine.dispose()
    click.echo(suggest_mappings(settings, tax_rates, vat_codes, gl_accounts, order_currencies))


@main.command()
@config_option
@day_option("--from", "First day to show", required=False)
@day_option("--to", "Last day to show", required=False)
def status(
    config_path: Path | None,
    shop_name: str | None,
    from_: datetime | None,
    to_: datetime | None,
) -> None:
    """Per day: orders extracted, events booked, to book, pending, failed, waiting and
    quarantined, and the last sync, from the sync database."""
    from woo_exact_pipeline.store.day_summary import day_summaries

    settings = settings_from(config_path, shop_name)
    shop = settings.shop_key
    days = (
        (from_.date() if from_ else date.min, to_.date() if to_ else date.max)
        if from_ or to_
        else None
    )
    engine = sync_database()
    try:
        with engine.connect() as connection:
            rows = day_summaries(connection, shop, days)
    finally:
        engine.dispose()
    if not rows:
        click.echo(f"Nothing synced yet for {shop}: run `woo-exact sync --from ... --to ...`.")
        return
    zone = ZoneInfo(settings.woocommerce.time_zone)
    header = (
        "day",
        "orders",
        "events",
        "booked",
        "to book",
        "pending",
        "failed",
        "waiting",
        "quarantined",
        "last sync",
    )
    table = [header] + [
        (
            row.day.isoformat(),
            *(
                str(n)
                for n in (
                    row.orders,
                    row.events,
                    row.booked,
                    row.to_book,
                    row.pending,
                    row.failed,
                    row.waiting,
                    row.quarantined,
                )
            ),
            row.last_sync.astimezone(zone).strftime("%Y-%m-%d %H:%M") if row.last_sync else "",
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    for line in table:
        click.echo(
            "  ".join(
                cell.rjust(width) if 0 < i < len(header) - 1 else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
    click.echo(
        f"Last sync in the shop's time zone ({zone.key}). failed: refused by Exact or held "
        "back before posting; `woo-exact sync --dry-run` shows why."
    )


@main.group()
def report() -> None:
    """Figures for the bookkeeper, from what was booked."""


@report.command("vat")
@config_option
@day_option("--from", "First day of the period", required=True)
@day_option("--to", "Last day of the period", required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "xlsx"]),
    default="table",
    show_default=True,
    help="table: for reading; csv: report,key,rate,net,vat lines; xlsx: a workbook in "
    "reports.folder (its path is printed).",
)
def report_vat(
    config_path: Path | None,
    shop_name: str | None,
    from_: datetime,
    to_: datetime,
    output_format: str,
) -> None:
    """The Dutch VAT return's sales rubrieken, the OSS declaration and the ICP listing for the
    sales and credit notes dated from --from to --to: a preparation to check, not a filing."""
    from woo_exact_pipeline.bookkeeping.vat_reports import (
        REPORTS,
        Period,
        figures_csv,
        figures_text,
    )
    from woo_exact_pipeline.defs.reports.files import file_stem, report_folder, write_workbook
    from woo_exact_pipeline.store.vat_periods import period_figures

    settings = settings_from(config_path, shop_name)
    first, last = from_.date(), to_.date()
    if last < first:
        raise click.ClickException(f"--to {last} is before --from {first}")
    period = Period(first, last, f"{first}_to_{last}")
    engine = sync_database()
    try:
        with engine.connect() as connection:
            table = period_figures(connection, settings, period).table
        folder = report_folder(settings, str(engine.url))
    finally:
        engine.dispose()
    if output_format == "csv":
        click.echo(figures_csv(table), nl=False)
    elif output_format == "xlsx":
        path = folder / f"{file_stem(settings, period.label, 'vat_reports')}.xlsx"
        click.echo(f"wrote {write_workbook(path, table, REPORTS)}")
    else:
        click.echo(figures_text(table, period))


for command in (sandbox, demo, deploy):
    main.add_command(command)
