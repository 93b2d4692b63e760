"""`woo-exact doctor` against both sandboxes: a correct setup passes; each broken part is
named with its fix, and no secret is ever printed."""

import re

import yaml

from woo_exact_pipeline.sandbox.woocommerce import start_woocommerce_sandbox
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.cli import (  # noqa: F401  (cli_fixture: the fixture)
    LAST_DAY,
    Cli,
    cli_fixture,
)
from woo_exact_pipeline_tests.support.settings import SUITE_SETTINGS

pytestmark = SQLITE_ONLY

WRONG_SECRET = "cs_" + "9" * 40


def failures(output: str) -> list[str]:
    return re.findall(r"^  FAIL  (.+)$", output, re.MULTILINE)


def test_a_correct_setup_passes_every_check(cli: Cli) -> None:
    done = cli.run("doctor", "--config", str(cli.config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert failures(done.stdout) == []
    for check in ("API key", "permalinks", "time zone", "login", "administration"):
        assert f"  ok    {check}: " in done.stdout
    assert "  ok    currencies: the administration books in EUR" in done.stdout
    assert re.search(r"refresh token lapses if unused in (29|30) days", done.stdout)
    assert "Everything checks out" in done.stdout


def test_a_wrong_secret_is_named_with_its_fix_and_never_shown(cli: Cli) -> None:
    done = cli.run("doctor", "--config", str(cli.config), WOO_CONSUMER_SECRET=WRONG_SECRET)
    assert done.returncode == 1
    [failure] = failures(done.stdout)
    assert failure.startswith("API key: The consumer secret does not belong to this consumer key")
    assert "fix: create a key under WooCommerce > Settings > Advanced > REST API" in done.stdout
    everything = done.stdout + done.stderr
    for secret in (WRONG_SECRET, cli.woo.consumer_secret, cli.exact.client_secret):
        assert secret not in everything
    # Exact is still checked: one broken system does not hide the other's state.
    assert "  ok    administration: " in done.stdout


def test_an_unmapped_rate_a_missing_ledger_and_the_wrong_time_zone_each_get_their_fix(
    cli: Cli,
) -> None:
    settings = yaml.safe_load(SUITE_SETTINGS.read_text(encoding="utf-8"))["exact"]
    oss = {country: rates for country, rates in settings["vat_mapping"]["oss"].items()}
    del oss["DE"]
    cli.write_settings(
        {"time_zone": "Europe/London"},
        vat_mapping={**settings["vat_mapping"], "oss": oss},
        gl_mapping={**settings["gl_mapping"], "export": "8999"},
        receivables_gl="1399",
    )
    done = cli.run("doctor", "--config", str(cli.config))
    assert done.returncode == 1
    found = failures(done.stdout)
    assert (
        "time zone: the shop runs on Europe/Amsterdam, sync.yaml says Europe/London: days "
        "would be cut at the wrong midnight" in found
    )
    assert "fix: set woocommerce.time_zone to Europe/Amsterdam in sync.yaml" in done.stdout
    assert "tax rates mapped: tax rate 19% to DE has no VAT code in the mapping" in found
    assert "tax rates mapped: tax rate 7% to DE has no VAT code in the mapping" in found
    assert "fix: add one under exact.vat_mapping.oss.DE" in done.stdout
    assert (
        "codes exist in Exact: exact.gl_mapping.export: GL account 8999 does not exist in Exact"
        in found
    )
    assert "fix: create it in Exact, or set exact.gl_mapping.export in sync.yaml" in done.stdout
    assert (
        "codes exist in Exact: exact.receivables_gl: GL account 1399 does not exist in Exact "
        "(the debtor line of entries booked in XML uploads)" in found
    )
    assert f"{len(found)} problem(s) found." in done.stdout


def test_foreign_currencies_pass_with_rates_and_fail_without_or_when_exact_lacks_them(
    cli: Cli,
) -> None:
    cli.write_settings(currencies=["EUR", "USD", "GBP"])
    done = cli.run("doctor", "--config", str(cli.config))
    assert done.returncode == 0, done.stdout
    assert (
        "  ok    currencies: the administration books in EUR and has USD, GBP with exchange rates"
        in done.stdout
    )

    # The administration has yen, but no rate for it.
    cli.write_settings(currencies=["EUR", "GBP", "JPY"])
    done = cli.run("doctor", "--config", str(cli.config))
    assert failures(done.stdout) == [
        "currencies: Exact has no exchange rate for JPY: an order in it whose multi-currency "
        "plugin recorded no rate is held back"
    ]
    assert "fix: add rates under Financial > Exchange rates in Exact" in done.stdout

    cli.write_settings(currencies=["EUR", "CHF"])
    done = cli.run("doctor", "--config", str(cli.config))
    assert failures(done.stdout) == [
        f"currencies: exact.currencies names CHF, which administration {cli.exact.division} "
        "does not have"
    ]

    cli.write_settings(currencies=["USD", "EUR"])
    done = cli.run("doctor", "--config", str(cli.config))
    assert failures(done.stdout) == [
        f"currencies: administration {cli.exact.division} keeps its books in EUR, but "
        "exact.currencies starts with USD"
    ]
    assert "fix: put EUR first under exact.currencies in sync.yaml" in done.stdout


def test_no_login_yet_says_to_sign_in(cli: Cli, tmp_path) -> None:
    empty = f"sqlite:///{tmp_path / 'nobody-signed-in.db'}"
    done = cli.run("doctor", "--config", str(cli.config), WOO_EXACT_DATABASE_URL=empty)
    assert done.returncode == 1
    assert (
        f"  FAIL  login: nobody signed in to Exact for administration {cli.exact.division} yet"
        in done.stdout
    )
    assert "fix: run `woo-exact exact login`" in done.stdout


def test_plain_permalinks_work_from_woocommerce_11_1_and_the_time_zone_is_still_read(
    cli: Cli,
) -> None:
    with start_woocommerce_sandbox(
        seed=7,
        days=1,
        orders_per_day=2,
        end_date=LAST_DAY,
        plain_permalinks=True,
        woocommerce_version="11.1.0",
    ) as plain:
        cli.woo = plain
        cli.write_settings()
        done = cli.run("doctor", "--config", str(cli.config))
    assert done.returncode == 0, done.stdout
    assert "  ok    permalinks: The shop does not answer at /wp-json/ (plain permalinks)" in (
        done.stdout
    )
    assert "  ok    time zone: the shop and sync.yaml use Europe/Amsterdam" in done.stdout


def test_plain_permalinks_on_woocommerce_11_0_are_named_with_what_to_change(cli: Cli) -> None:
    """The real shop's first answer is a 301 to the trailing slash: not "the shop lives at
    another address", but plain permalinks, where 11.0.x refuses every API key."""
    with start_woocommerce_sandbox(
        seed=7, days=1, orders_per_day=2, end_date=LAST_DAY, plain_permalinks=True
    ) as plain:
        cli.woo = plain
        cli.write_settings()
        done = cli.run("doctor", "--config", str(cli.config))
    assert done.returncode == 1
    assert "  FAIL  permalinks: The shop uses plain permalinks: /wp-json/ only shows" in (
        done.stdout
    )
    assert "WooCommerce up to 11.0.x does not accept API keys at ?rest_route=" in done.stdout
    assert (
        'fix: choose "Post name" under Settings > Permalinks in WordPress, or update '
        "WooCommerce to 11.1 or later" in done.stdout
    )
    assert "redirects API requests" not in done.stdout
    assert "set shop_url" not in done.stdout
