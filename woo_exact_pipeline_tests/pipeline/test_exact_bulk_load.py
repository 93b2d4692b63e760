"""A day booked through XML uploads by the loader: every event once, as the REST path would book
it (the reconciliation agrees), in a handful of calls; a lost answer, a crash or a taken entry
number never books anything twice, and what cannot go by upload takes the REST path."""

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import Engine, delete, select

from woo_exact_pipeline.bookkeeping.model import AccountingEvent
from woo_exact_pipeline.bookkeeping.reconciliation import reconcile
from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.exact.booking import ExactLoader
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.errors import ExactDailyQuotaSpent
from woo_exact_pipeline.exact.master_data import MasterData, refresh_master_data
from woo_exact_pipeline.exact.outcomes import BookingOutcome, BookingStatus
from woo_exact_pipeline.exact.read_back import read_bookings
from woo_exact_pipeline.sandbox.exact import ExactSandbox
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox
from woo_exact_pipeline.store.ledger import BookingLedger
from woo_exact_pipeline.store.schema import bookings, exact_rate_limits
from woo_exact_pipeline_tests.fixtures.databases import SQLITE_ONLY
from woo_exact_pipeline_tests.support.exact_client import app_secrets, book_by_hand
from woo_exact_pipeline_tests.support.exact_load import DAY, day_events, transform_day
from woo_exact_pipeline_tests.support.sandbox_pipeline import settings_for

pytestmark = SQLITE_ONLY  # the ledger's own protocol is tested on both engines in store/

PARTITION = date.fromisoformat(DAY)


def load(
    exact: ExactSandbox,
    engine: Engine,
    settings: SyncConfig,
    events: Sequence[AccountingEvent],
    *,
    run: str,
    bulk: bool = True,
) -> tuple[list[BookingOutcome], int]:
    """The day through the loader; its outcomes and the Exact calls it made."""
    with ExactClient.from_settings(settings.exact, engine, secrets=app_secrets(exact)) as client:
        master = refresh_master_data(client, engine, MasterData(division=exact.division))
        calls = client.calls_made
        loader = ExactLoader(
            client, engine, settings, BookingLedger(engine, run_id=run), master, shop="shop"
        )
        outcomes = loader.book_partition(PARTITION, events, bulk=bulk)
        return outcomes, client.calls_made - calls


def agrees_with_exact(
    exact: ExactSandbox, engine: Engine, settings: SyncConfig, events: Sequence[AccountingEvent]
) -> None:
    with ExactClient.from_settings(settings.exact, engine, secrets=app_secrets(exact)) as client:
        master = refresh_master_data(client, engine, MasterData(division=exact.division))
        documents = read_bookings(
            client, master, "sales_entry", "70", [e.reference for e in events]
        )
    result = reconcile(events, documents)
    assert result.agrees, result.differences


def test_a_day_in_uploads_books_every_event_once_in_a_handful_of_calls(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    assert {e.kind for e in events} == {"sale", "credit"}  # credit notes go in the upload too
    entries_before = len(exact.sales_entries())

    outcomes, calls = load(exact, engine, settings, events, run="bulk")

    assert Counter(o.status for o in outcomes) == {BookingStatus.BOOKED: len(events)}
    assert {o.message for o in outcomes} == {"booked in an XML upload"}
    assert len(exact.sales_entries()) == entries_before + len(events)
    # The day's new customers in one Accounts upload and one read-back, the journal's highest
    # entry number, one upload of every entry: 4 calls for 21 events (21 + 2 by REST).
    assert calls == 4
    numbers = sorted(int(o.exact_number or 0) for o in outcomes)
    assert numbers == list(range(numbers[0], numbers[0] + len(events)))
    agrees_with_exact(exact, engine, settings, events)

    again, calls = load(exact, engine, settings, events, run="again")
    assert {o.status for o in again} == {BookingStatus.ALREADY_BOOKED}
    assert calls == 0


def test_a_lost_answer_is_uploaded_again_under_the_same_numbers_and_read_back_once(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = day_events(engine)
    foreign = [e for e in events if e.currency != "EUR"]
    assert foreign  # the day's dollar order goes the REST way, which holds it back
    exact.faults.arm_commit_then_drop(1)  # the upload lands, its answer is lost

    lost, _ = load(exact, engine, settings, events, run="lost")

    unknown = [o for o in lost if o.status == BookingStatus.OUTCOME_UNKNOWN]
    assert len(unknown) == len(events) - len(foreign)
    assert all(o.exact_number for o in unknown)
    assert {o.status for o in lost if o.currency != "EUR"} == {BookingStatus.HELD_BACK}

    recovered, calls = load(exact, engine, settings, events, run="rerun")

    assert {o.event_key: o.exact_number for o in recovered if o.currency == "EUR"} == {
        o.event_key: o.exact_number for o in unknown
    }
    assert {o.status for o in recovered if o.currency == "EUR"} == {BookingStatus.RECOVERED}
    # The journal's highest number, the upload (refused whole as existing), one read-back.
    assert calls == 3
    held = Counter(entry["YourRef"] for entry in exact.sales_entries())
    assert [held[event.reference] for event in events] == [
        0 if event in foreign else 1 for event in events
    ]


def test_an_entry_number_taken_while_an_upload_was_lost_is_numbered_anew_next_time(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    book_by_hand(exact, engine, settings, "the journal's first", PARTITION)
    # The upload is held before Exact stores it and then lost unstored; meanwhile the
    # bookkeeper books another entry by hand, which Exact numbers next: our first number.
    hold = exact.faults.hold_booking(1)
    with ThreadPoolExecutor(1) as pool:
        loading = pool.submit(load, exact, engine, settings, events, run="held")
        assert hold.wait_until_reached(timeout=60)
        by_hand = book_by_hand(exact, engine, settings, "by hand", PARTITION)
        hold.release(go_on=False)
        lost, _ = loading.result(timeout=60)
    assert {o.status for o in lost} == {BookingStatus.OUTCOME_UNKNOWN}
    [taken] = [o for o in lost if o.exact_number == str(by_hand["EntryNumber"])]

    second, _ = load(exact, engine, settings, events, run="second")
    status = {o.event_key: o.status for o in second}
    assert Counter(status.values()) == {
        BookingStatus.BOOKED: len(events) - 1,
        BookingStatus.FAILED: 1,
    }
    [refused] = [o for o in second if o.status == BookingStatus.FAILED]
    assert refused.event_key == taken.event_key
    assert refused.message is not None and "(YourRef by hand)" in refused.message

    third, _ = load(exact, engine, settings, events, run="third")
    [renumbered] = [o for o in third if o.event_key == taken.event_key]
    assert renumbered.status == BookingStatus.BOOKED
    assert int(renumbered.exact_number or 0) > max(int(o.exact_number or 0) for o in second)
    held = Counter(entry["YourRef"] for entry in exact.sales_entries())
    assert [held[event.reference] for event in events] == [1] * len(events)
    agrees_with_exact(exact, engine, settings, events)


def test_a_load_ended_by_the_daily_quota_before_its_upload_leaves_the_entries_to_the_next(
    woocommerce_sandbox: WooSandbox, exact: ExactSandbox, database_url: str, engine: Engine
) -> None:
    settings = settings_for(exact)
    transform_day(woocommerce_sandbox, exact, database_url, settings)
    events = [e for e in day_events(engine) if e.currency == "EUR"]
    with ExactClient.from_settings(settings.exact, engine, secrets=app_secrets(exact)) as client:
        master = refresh_master_data(client, engine, MasterData(division=exact.division))
        limits = client.rate_limits()
        assert limits is not None and limits.daily is not None
        # Three calls left today: the new customers' upload and read-back, the highest number.
        exact.limiter.daily_limit -= limits.daily.remaining - 3
        loader = ExactLoader(
            client, engine, settings, BookingLedger(engine, run_id="spent"), master, shop="shop"
        )
        with pytest.raises(ExactDailyQuotaSpent):
            loader.book_partition(PARTITION, events, bulk=True)
    assert exact.sales_entries() == []
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                bookings.c.event_key,
                bookings.c.status,
                bookings.c.claimed_by,
                bookings.c.exact_number,
            )
        ).all()
    # Claimed under their numbers, and let go: the next load need not wait for a lease.
    assert {(status, claimed_by) for _, status, claimed_by, _ in rows} == {("pending", None)}
    reserved = {key: number for key, _, _, number in rows}

    # The next day: Exact's quota is back, and the day window the client stored is over.
    exact.limiter.daily_limit = 5_000
    with engine.begin() as connection:
        connection.execute(delete(exact_rate_limits))
    outcomes, _ = load(exact, engine, settings, events, run="next day")
    assert {o.status for o in outcomes} == {BookingStatus.BOOKED}
    assert {o.event_key: o.exact_number for o in outcomes} == reserved
    agrees_with_exact(exact, engine, settings, events)
