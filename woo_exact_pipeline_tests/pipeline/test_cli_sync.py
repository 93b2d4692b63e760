"""`woo-exact sync`: a range of days through the Dagster definitions into the Exact sandbox,
run as a process of its own (see cli_support)."""

import re
from collections import Counter

import pytest
import yaml

from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.cli import Cli, cli_fixture  # noqa: F401

pytestmark = SQLITE_ONLY

FIRST, LAST = "2026-11-08", "2026-11-09"


def summary_count(output: str, label: str) -> int:
    match = re.search(rf"^{re.escape(label)}:\s+(\d+)", output, re.MULTILINE)
    assert match, f"{label!r} not in:\n{output}"
    return int(match.group(1))


def sync(cli: Cli, *extra: str) -> tuple[int, str]:
    done = cli.run("sync", "--config", str(cli.config), "--from", FIRST, "--to", LAST, *extra)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


@pytest.mark.parametrize("how", [(), ("--bulk",)], ids=["by REST", "in XML uploads"])
def test_a_sync_books_the_range_once_and_a_second_sync_books_nothing(
    cli: Cli, how: tuple[str, ...]
) -> None:
    code, output = sync(cli, *how)
    assert code == 0, output
    assert summary_count(output, "Partitions (days)") == 2
    booked = summary_count(output, "Orders booked (sales)") + summary_count(
        output, "Credit notes booked"
    )
    entries = cli.exact.sales_entries()
    assert booked > 0
    assert len(entries) == booked
    assert f"This sync:                {booked} booked" in output
    calls = summary_count(output, "Exact API calls")
    if how:
        # A day: its new customers in an upload and a read-back, the journal's highest entry
        # number, one upload of its entries, the reconciliation's read-back.
        assert calls == 2 * 5 < booked
    else:
        assert calls > booked

    code, output = sync(cli, *how)
    assert code == 0, output
    assert f"This sync:                {booked} already booked" in output
    assert len(cli.exact.sales_entries()) == len(entries)
    assert max(Counter(entry["YourRef"] for entry in cli.exact.sales_entries()).values()) == 1


def test_a_dry_run_posts_nothing_and_lists_what_it_would_book(cli: Cli) -> None:
    accounts = len(cli.exact.booked("crm/Accounts"))
    code, output = sync(cli, "--dry-run")
    assert code == 0, output
    assert cli.exact.sales_entries() == []
    # The shop's customers are new to Exact: booking creates them, a dry run does not.
    assert len(cli.exact.booked("crm/Accounts")) == accounts
    would_book = summary_count(output, "Would book")
    assert would_book > 0
    assert summary_count(output, "Already booked") == 0
    listed = re.findall(r"^  2026-11-0[89]  (sale|credit) +order (\S+), YourRef", output, re.M)
    assert len(listed) == would_book

    code, _ = sync(cli)
    assert code == 0
    assert len(cli.exact.booked("crm/Accounts")) > accounts
    booked = len(cli.exact.sales_entries())
    code, output = sync(cli, "--dry-run")
    assert code == 0, output
    assert summary_count(output, "Would book") == 0
    assert summary_count(output, "Already booked") == booked
    assert len(cli.exact.sales_entries()) == booked


def test_orders_held_back_by_a_setting_are_reported_without_failing(cli: Cli) -> None:
    # The administration books in dollars only: every euro order is held back with the reason.
    cli.write_settings(currencies=["USD"])
    code, output = sync(cli, "--dry-run")
    assert code == 0, output
    held_back = summary_count(output, "Held back")
    assert held_back > 0
    assert "which the administration does not book in" in output

    code, output = sync(cli)
    assert code == 0, output
    assert cli.exact.sales_entries() == []
    assert summary_count(output, "Not booked, with reason") >= held_back
    assert "add it under exact.currencies" in output


def test_a_lost_answer_fails_the_sync_and_the_next_sync_recovers_it(cli: Cli) -> None:
    cli.exact.faults.arm_commit_then_drop(count=1)
    code, output = sync(cli)
    assert code == 1, output
    assert "Failed (Exact refused them, or its answer was lost" in output
    assert "outcome unknown" in output
    landed = len(cli.exact.sales_entries())

    code, output = sync(cli)
    assert code == 0, output
    assert "1 recovered" in output
    assert len(cli.exact.sales_entries()) == landed
    assert max(Counter(entry["YourRef"] for entry in cli.exact.sales_entries()).values()) == 1


def test_user_mistakes_end_with_a_message_not_a_traceback(cli: Cli) -> None:
    backwards = cli.run("sync", "--config", str(cli.config), "--from", LAST, "--to", FIRST)
    assert backwards.returncode == 1
    assert f"--from {LAST} is after --to {FIRST}" in backwards.stderr
    before = cli.run(
        "sync", "--config", str(cli.config), "--from", "2020-01-01", "--to", "2020-01-02"
    )
    assert before.returncode == 1
    assert "woocommerce.export_orders_from" in before.stderr
    missing = cli.run("sync", "--config", "nowhere.yaml", "--from", FIRST, "--to", LAST)
    assert missing.returncode == 1
    assert "file not found" in missing.stderr
    nowhere = cli.run("sync", "--from", FIRST, "--to", LAST, DAGSTER_HOME="/nonexistent/home")
    assert nowhere.returncode == 1
    assert "create it, or unset DAGSTER_HOME" in nowhere.stderr
    for done in (backwards, before, missing, nowhere):
        assert "Traceback" not in done.stderr


def test_with_several_shops_a_sync_books_the_shop_it_is_told(cli: Cli) -> None:
    cli.write_settings()
    shop = yaml.safe_load(cli.config.read_text(encoding="utf-8"))
    # Another shop of the agency, whose site is down and whose keys are not even set here.
    other = yaml.safe_load(yaml.safe_dump(shop))
    other["woocommerce"]["shop_url"] = "http://127.0.0.1:9"
    other["exact"]["sales_journal"] = "71"
    credentials = {"woo_consumer_key": "BOEKEN_KEY", "woo_consumer_secret": "BOEKEN_SECRET"}
    agency = {
        "shops": [
            {"name": "fietsen", "woocommerce": shop["woocommerce"], "exact": shop["exact"]},
            {"name": "boeken", **other, "credentials": credentials},
        ]
    }
    cli.config.write_text(yaml.safe_dump(agency, sort_keys=False), encoding="utf-8")

    unchosen = cli.run("sync", "--config", str(cli.config), "--from", FIRST, "--to", LAST)
    assert unchosen.returncode == 1
    assert "it has several shops (fietsen, boeken); choose one with --shop" in unchosen.stderr

    code, output = sync(cli, "--shop", "fietsen")
    assert code == 0, output
    booked = summary_count(output, "Orders booked (sales)") + summary_count(
        output, "Credit notes booked"
    )
    assert booked == len(cli.exact.sales_entries()) > 0
    status = cli.run("status", "--config", str(cli.config), "--shop", "fietsen")
    assert status.returncode == 0, status.stderr
    assert re.search(rf"^{LAST}\s+\d+", status.stdout, re.M), status.stdout
