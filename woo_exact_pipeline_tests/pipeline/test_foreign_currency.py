"""Orders in another currency than the administration's, end to end: booked in their own
currency at the rate the shop recorded (else Exact's), with the euro amounts Exact derives line
by line, refunds at the sale's rate, and the reconciliation agreeing in both currencies."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import dagster as dg
from sqlalchemy import Engine

from woo_exact_pipeline.config import ReportSettings, SyncConfig
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.exact.booking import ExactLoader
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.master_data import load_master_data
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox, start_woocommerce_sandbox
from woo_exact_pipeline.store.ledger import BookingLedger
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.fixtures.woocommerce_sandbox import (
    SANDBOX_DAYS,
    SANDBOX_END_DATE,
    SANDBOX_ORDERS_PER_DAY,
    SANDBOX_SEED,
    oauth_client,
)
from woo_exact_pipeline_tests.support.exact_client import app_secrets
from woo_exact_pipeline_tests.support.pipeline import assets_of
from woo_exact_pipeline_tests.support.sandbox_pipeline import (
    STAGE,
    check_of,
    day_events,
    metadata_of,
    resources,
    settings_for,
    stage_and_load,
)

pytestmark = SQLITE_ONLY

MIXED_DAY = "2026-10-20"  # euro orders and one in dollars
IN_THREE_CURRENCIES = ["EUR", "USD", "GBP"]


def in_euro(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount / rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def book_agreeing(
    day: str, shop: WooSandbox, exact: ExactSandbox, url: str, settings: SyncConfig
) -> dg.ExecuteInProcessResult:
    """Stage, transform and book the day, and check that the reconciliation agrees."""
    loaded = stage_and_load(day, shop, exact, url, dg.DagsterInstance.ephemeral(), settings)
    assert check_of(loaded).passed, metadata_of(loaded)["differences"]
    return loaded


def the_suites_shop_writing_at(moment: datetime) -> WooSandbox:
    """The suite's shop of its own, whose API writes are dated at `moment`."""
    return start_woocommerce_sandbox(
        seed=SANDBOX_SEED,
        days=SANDBOX_DAYS,
        orders_per_day=SANDBOX_ORDERS_PER_DAY,
        end_date=SANDBOX_END_DATE,
        clock=lambda: moment,
    )


def test_a_dollar_order_is_booked_at_the_shops_rate_with_its_euro_amounts_and_agrees(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact, currencies=IN_THREE_CURRENCIES)
    # The check compares the euro amounts Exact derived with the shop's rate line by line too.
    loaded = book_agreeing(MIXED_DAY, woocommerce_sandbox, exact, database_url, settings)
    assert "| EUR excl. VAT (W / E) | EUR VAT (W / E) |" in metadata_of(loaded)["per_vat_code"]
    dollars = [e for e in day_events(engine, MIXED_DAY) if e.currency == "USD"]
    assert dollars
    for event in dollars:
        # The demo shop's WOOCS rate (1 EUR = 1.08 USD), not Exact's 1.0720 of October.
        assert event.exchange_rate == Decimal("1.08")
        [entry] = exact.sales_entries(event.reference)
        assert (entry["Currency"], Decimal(str(entry["Rate"]))) == ("USD", Decimal("1.08"))
        assert Decimal(str(entry["AmountFC"])) == event.total_incl_vat
        # Exact converts line by line, to the cent, and the header is the sum of the lines.
        assert Decimal(str(entry["AmountDC"])) == sum(
            in_euro(line.amount_excl_vat, Decimal("1.08"))
            + in_euro(line.vat_amount, Decimal("1.08"))
            for line in event.lines
        )


def test_without_a_recorded_rate_exacts_rate_applies_and_without_either_the_order_waits(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact, currencies=IN_THREE_CURRENCIES)
    staged = dg.materialize(
        [assets_of(settings)[name] for name in (*STAGE, "exact_reference_data")],
        partition_key=MIXED_DAY,
        resources=resources(woocommerce_sandbox, exact, database_url),
        selection=[*STAGE, "exact_reference_data"],
    )
    assert staged.success
    [sale] = [
        replace(e, exchange_rate=None)
        for e in day_events(engine, MIXED_DAY)
        if e.currency == "USD" and e.kind == "sale"
    ][:1]
    with ExactClient.from_settings(settings.exact, engine, secrets=app_secrets(exact)) as client:
        loader = ExactLoader(
            client,
            engine,
            settings,
            BookingLedger(engine, run_id="currency"),
            load_master_data(engine, exact.division),
            shop=Shop(settings).key,
        )
        day = date.fromisoformat(MIXED_DAY)
        # Exact's USD rates start on 2026-01-01: for a December 2025 sale it has none.
        [early] = loader.book_partition(day, [replace(sale, event_date=date(2025, 12, 20))])
        assert early.status == "held_back"
        assert early.message == (
            "no USD rate for 2025-12-20 in Exact: add one under Financial > Exchange rates"
        )
        assert not exact.sales_entries(sale.reference)
        [booked] = loader.book_partition(day, [sale])
    assert booked.status == "booked"
    [entry] = exact.sales_entries(sale.reference)
    assert Decimal(str(entry["Rate"])) == Decimal("1.0720")  # from 2026-10-01 in Exact
    assert Decimal(str(entry["AmountDC"])) == sum(
        in_euro(line.amount_excl_vat, Decimal("1.0720"))
        + in_euro(line.vat_amount, Decimal("1.0720"))
        for line in sale.lines
    )


POUND_DAY = "2026-10-17"
POUND_ORDER = 1133  # the demo shop's GBP export order of that day, WOOCS rate 0.86
#: A week later the shop owner refunds one of the two scales; Exact's GBP rate is 0.8450 then.
REFUNDED_AT = datetime(2026, 10, 24, 9, 30, tzinfo=UTC)


def test_a_pound_order_and_its_partial_refund_are_booked_at_the_sales_rate_and_agree(
    exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    with the_suites_shop_writing_at(REFUNDED_AT) as shop:
        with oauth_client(shop) as http:
            order = http.get(f"/wp-json/wc/v3/orders/{POUND_ORDER}").json()
            assert (order["currency"], order["total"]) == ("GBP", "107.30")
            [scales] = [item for item in order["line_items"] if item["quantity"] == 2]
            assert scales["total"] == "56.84"
            refund = http.post(
                f"/wp-json/wc/v3/orders/{POUND_ORDER}/refunds",
                json={
                    "amount": "28.42",
                    "reason": "One scale arrived broken",
                    "api_refund": False,
                    "line_items": [{"id": scales["id"], "quantity": 1, "refund_total": "28.42"}],
                },
            )
            assert refund.status_code == 201, refund.text
        loaded = book_agreeing(
            POUND_DAY,
            shop,
            exact,
            database_url,
            settings_for(exact, currencies=IN_THREE_CURRENCIES),
        )

    [sale, credit] = [e for e in day_events(engine, POUND_DAY) if e.order_id == POUND_ORDER]
    assert (sale.kind, credit.kind) == ("sale", "credit")
    assert credit.event_date == date(2026, 10, 24)
    # The refund records no rate of its own: it takes the sale's, not Exact's 0.8450 that week.
    assert sale.exchange_rate == credit.exchange_rate == Decimal("0.86")
    [sale_entry] = exact.sales_entries(sale.reference)
    [credit_entry] = exact.sales_entries(credit.reference)
    for entry in (sale_entry, credit_entry):
        assert (entry["Currency"], Decimal(str(entry["Rate"]))) == ("GBP", Decimal("0.86"))
    # By hand, line by line at 0.86 (an export: no VAT): 5.33 -> 6.20, 13.02 -> 15.14,
    # 14.95 -> 17.38, 56.84 -> 66.09, shipping 17.16 -> 19.95; the scale back: -28.42 -> -33.05.
    assert Decimal(str(sale_entry["AmountFC"])) == Decimal("107.30")
    assert Decimal(str(sale_entry["AmountDC"])) == Decimal("124.76")
    assert Decimal(str(credit_entry["AmountFC"])) == Decimal("-28.42")
    assert Decimal(str(credit_entry["AmountDC"])) == Decimal("-33.05")
    assert "| GBP |" in metadata_of(loaded)["per_vat_code"]
    # The sync log and the booking ledger show both amounts and the rate.
    [bookings] = loaded.asset_materializations_for_node("exact_bookings")
    log = bookings.metadata["bookings"].value
    assert "| order | event | YourRef | amount | in EUR | rate | Exact number | status |" in log
    assert f"| {sale.reference} | GBP 107.30 | 124.76 | 0.86 |" in log
    assert f"| {credit.reference} | GBP -28.42 | -33.05 | 0.86 |" in log
    ledger = BookingLedger(engine, run_id="analyst").rows(
        Shop(settings_for(exact)).key, sale.event_date
    )
    assert (ledger["sale:1133"].amount_dc, ledger["sale:1133"].exchange_rate) == (
        Decimal("124.76"),
        Decimal("0.86"),
    )


def test_a_dollar_invoice_is_converted_at_exacts_rate_for_its_date_and_agrees(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    """Invoices take no rate: Exact converts them at its own for the order date, whatever the
    shop recorded, and the reconciliation expects exactly that."""
    settings = settings_for(
        exact,
        currencies=IN_THREE_CURRENCIES,
        insertion_type="sales_invoice",
        create_missing_items=True,
    )
    book_agreeing(MIXED_DAY, woocommerce_sandbox, exact, database_url, settings)
    dollars = [e for e in day_events(engine, MIXED_DAY) if e.currency == "USD"]
    assert dollars
    for event in dollars:
        assert event.exchange_rate == Decimal("1.08")  # recorded by the shop, not sent
        [invoice] = exact.sales_invoices(event.reference)
        assert invoice["Currency"] == "USD"
        assert Decimal(str(invoice["AmountFC"])) == event.total_incl_vat
        assert Decimal(str(invoice["AmountDC"])) == sum(
            in_euro(line.amount_excl_vat, Decimal("1.0720"))
            + in_euro(line.vat_amount, Decimal("1.0720"))
            for line in event.lines
        )


WOOPAYMENTS_DAY = "2026-10-21"
#: A Dutch consumer pays in dollars through WooPayments multi-currency at 12:00 in Amsterdam.
PAID_AT = datetime(2026, 10, 21, 10, 0, tzinfo=UTC)
FRENCH_PRESS = 1012  # 34.50 including 21 % VAT in the demo catalogue


def test_a_dutch_consumers_dollar_order_is_booked_at_the_woopayments_rate_and_agrees(
    exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    with the_suites_shop_writing_at(PAID_AT) as shop:
        consumer = {"first_name": "Sanne", "last_name": "Visser", "country": "NL"}
        with oauth_client(shop) as http:
            created = http.post(
                "/wp-json/wc/v3/orders",
                json={
                    "status": "processing",
                    "currency": "USD",
                    "billing": {**consumer, "email": "sanne@example.nl"},
                    "shipping": consumer,
                    "line_items": [{"product_id": FRENCH_PRESS, "quantity": 1}],
                    "meta_data": [
                        {"key": "_wcpay_multi_currency_order_exchange_rate", "value": "1.0812"},
                        {"key": "_wcpay_multi_currency_order_default_currency", "value": "EUR"},
                    ],
                },
            )
            assert created.status_code == 201, created.text
        order = created.json()
        assert (order["currency"], order["total"], order["total_tax"]) == ("USD", "34.50", "5.99")
        book_agreeing(
            WOOPAYMENTS_DAY,
            shop,
            exact,
            database_url,
            settings_for(exact, currencies=IN_THREE_CURRENCIES),
        )
    [sale] = [e for e in day_events(engine, WOOPAYMENTS_DAY) if e.order_id == order["id"]]
    assert sale.exchange_rate == Decimal("1.0812")
    [line] = sale.lines
    # Dutch VAT for a Dutch consumer, whatever the currency: code 2 (21 %), 28.51 + 5.99.
    assert (line.vat_code, line.amount_excl_vat, line.vat_amount) == (
        "2",
        Decimal("28.51"),
        Decimal("5.99"),
    )
    [entry] = exact.sales_entries(sale.reference)
    assert (entry["Currency"], Decimal(str(entry["Rate"]))) == ("USD", Decimal("1.0812"))
    # 28.51 / 1.0812 = 26.37 and 5.99 / 1.0812 = 5.54, to the cent: 31.91 euro in all.
    assert Decimal(str(entry["AmountDC"])) == Decimal("31.91")
    assert Decimal(str(entry["VATAmountDC"])) == Decimal("5.54")


def test_the_vat_return_counts_a_dollar_export_in_euros_as_booked_and_both_checks_pass(
    woocommerce_sandbox: WooSandbox,
    exact: ExactSandbox,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
) -> None:
    settings = settings_for(exact, currencies=IN_THREE_CURRENCIES).model_copy(
        update={"reports": ReportSettings(folder=str(tmp_path))}
    )
    book_agreeing(MIXED_DAY, woocommerce_sandbox, exact, database_url, settings)
    assets = assets_of(settings)
    reported = dg.materialize(
        [assets["vat_return"]],
        partition_key="2026-10-01",
        resources=resources(woocommerce_sandbox, exact, database_url),
    )
    assert reported.success
    assert all(check.passed for check in reported.get_asset_check_evaluations())
    [vat_return] = reported.asset_materializations_for_node("vat_return")
    assert vat_return.metadata["left_out_not_booked_yet"].value == {}
    # Rubriek 3a, the exports of the day: Switzerland 36.28 + 19.95 shipping, Norway 34.77 +
    # 3.71 + 19.95, and the United States USD 22.27 + 21.55 at 1.08: 20.62 + 19.95 euro.
    lines = (tmp_path / "2026-Q4_vat_return.csv").read_text().splitlines()
    assert "nl_return,3a,0,155.23,0.00" in lines
