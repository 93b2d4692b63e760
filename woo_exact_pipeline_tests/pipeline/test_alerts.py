"""Alerts end to end: real conditions produced against the sandboxes (a login expired on the
sandbox clock, a spent quota, quarantined orders left alone, a reconciliation difference, a
late day), each alert delivered once to a local SMTP server, Slack receiver and signed webhook,
and cleared once."""

import json
import re
import time as clock_time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from cryptography.fernet import Fernet
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteInstigatorOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    ScheduleInstigatorData,
    SensorInstigatorData,
    TickData,
    TickStatus,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster_shared.error import SerializableErrorInfo
from sqlalchemy import Engine, update

from woo_exact_pipeline.alerts.book import AlertBook, pending_notices
from woo_exact_pipeline.alerts.channels import AlertDeliveryError
from woo_exact_pipeline.alerts.model import CAUSE, FailureCause, Notice, Problem
from woo_exact_pipeline.alerts.rules import (
    CheckOutcome,
    DayProgress,
    apply_check_outcomes,
    exact_login_problem,
    freshness_verdict,
    missed_tick_problem,
    unbooked_day_problem,
)
from woo_exact_pipeline.config import SyncConfig, load_config
from woo_exact_pipeline.defs.alerts.facts import latest_run_outcome
from woo_exact_pipeline.defs.alerts.freshness import BOOKED_BY_DEADLINE
from woo_exact_pipeline.defs.alerts.sensors import run_outcome_sensor
from woo_exact_pipeline.defs.errors import cause_of, failures_named_by_cause
from woo_exact_pipeline.defs.resources import (
    AlertChannels,
    ExactOnline,
    SyncDatabase,
    WooCommerceApi,
)
from woo_exact_pipeline.defs.shops import Shop
from woo_exact_pipeline.exact.errors import (
    ExactApiError,
    ExactConfigurationError,
    ExactDailyQuotaSpent,
    ExactLoginRequired,
    ExactResponseError,
    ExactUnavailableError,
)
from woo_exact_pipeline.sandbox.exact import ExactSandbox, SandboxClock, start_exact_sandbox
from woo_exact_pipeline.sandbox.exact.division import default_administration_file
from woo_exact_pipeline.sandbox.woocommerce import WooSandbox, start_woocommerce_sandbox
from woo_exact_pipeline.store.database import open_sync_database
from woo_exact_pipeline.store.schema import exact_rate_limits
from woo_exact_pipeline.woocommerce.client import WooAuthenticationError, WooUnavailableError
from woo_exact_pipeline_tests.support.alert_receivers import SECRETS, Receivers
from woo_exact_pipeline_tests.support.exact_client import SECRET_KEY, store_sandbox_tokens
from woo_exact_pipeline_tests.support.pipeline import assets_of, definitions_of

DAY = "2026-10-16"  # euros only: everything can be booked
MIXED_DAY = "2026-10-20"  # also an order in dollars, which the administration does not book
PROBLEM_RUN = "PROBLEM: A run failed"
PROBLEM_LOGIN = "PROBLEM: The Exact Online login"
RESOLVED_LOGIN = "RESOLVED: The Exact Online login"
RESOLVED_RUN = "RESOLVED: A run failed"
#: "Today" for the tests that need one: their sensors and checks read this clock, not the machine's.
TODAY = date(2026, 11, 18)


def seven_in_the_morning() -> datetime:
    return datetime.combine(TODAY, time(7), ZoneInfo("Europe/Amsterdam")).astimezone(UTC)


class Pipeline:
    """The sandboxes, a sync database, a Dagster instance and the shop's assets and alert
    sensors built from `settings`, as the daemon would run them (each tick evaluated in this
    process). `settings` may change between steps: everything is built from it anew."""

    def __init__(
        self,
        woo: WooSandbox,
        exact: ExactSandbox,
        url: str,
        instance: dg.DagsterInstance,
        settings: SyncConfig,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.woo, self.exact, self.url, self.instance = woo, exact, url, instance
        self.settings = settings
        #: The sensors' and checks' "now" (None: the wall clock).
        self.clock = clock
        self.engine: Engine = open_sync_database(url)
        self.token_encryption_key = SECRET_KEY
        #: The run-outcome sensor's cursor after each tick: it watches from now on.
        self.run_cursors: list[str | None] = [str(latest_run_outcome(instance))]

    def shop(self, exact: ExactSandbox | None = None) -> Shop:
        """The shop of `settings`, booking into the administration of `exact`."""
        exact = exact or self.exact
        return Shop(
            self.settings.model_copy(
                update={
                    "exact": self.settings.exact.model_copy(
                        update={"base_url": exact.base_url, "division": exact.division}
                    )
                }
            )
        )

    def resources(self, exact: ExactSandbox | None = None) -> dict[str, Any]:
        exact = exact or self.exact
        shop = self.shop(exact)
        return {
            shop.qualified("woocommerce"): WooCommerceApi(
                shop_url=self.woo.url,
                consumer_key=self.woo.consumer_key,
                consumer_secret=self.woo.consumer_secret,
            ),
            shop.qualified("exact"): ExactOnline(
                client_id=exact.client_id,
                client_secret=exact.client_secret,
                token_encryption_key=self.token_encryption_key,
            ),
            "sync_database": SyncDatabase(url=self.url),
            # As the code location: the channels' secrets are those of the environment.
            "alert_channels": AlertChannels.from_environment(),
        }

    def assets(self, exact: ExactSandbox | None = None) -> dict[str, dg.AssetsDefinition]:
        return assets_of(self.shop(exact).settings)

    def definitions(self) -> dg.Definitions:
        return definitions_of(self.shop().settings, self.resources(), clock=self.clock)

    def sensor(self, name: str) -> dg.SensorDefinition:
        """The shop's sensor `name` (without the shop's prefix)."""
        return self.definitions().resolve_sensor_def(self.shop().qualified(name))

    def stage(self, day: str = DAY) -> None:
        assets = self.assets()
        result = dg.materialize(
            [assets["woo_orders"], assets["woo_customers"], assets["exact_journal_lines"]],
            partition_key=day,
            resources=self.resources(),
            instance=self.instance,
        )
        assert result.success

    def load(self, day: str = DAY) -> dg.ExecuteInProcessResult:
        """What exact_load_job runs, and what the run-status sensors then see."""
        assets = self.assets()
        bookings, reconciliation = assets["exact_bookings"], assets["exact_reconciliation"]
        result = dg.materialize(
            [assets["exact_reference_data"], bookings, reconciliation],
            partition_key=day,
            resources=self.resources(),
            selection=[bookings, reconciliation],
            instance=self.instance,
            raise_on_error=False,
        )
        self.tell_run_outcomes()
        return result

    def run_load_job(self, day: str) -> dg.ExecuteInProcessResult:
        """A run of the shop's own exact_load_job, as its load sensor requests it; nobody is
        told (the run-outcome sensor finds it in the instance: `RunWatch`)."""
        job = self.definitions().resolve_job_def(self.shop().qualified("exact_load_job"))
        return job.execute_in_process(
            instance=self.instance, partition_key=day, raise_on_error=False
        )

    def reconcile(self, exact: ExactSandbox, day: str = DAY) -> None:
        result = dg.materialize(
            [self.assets(exact)["exact_reconciliation"]],
            partition_key=day,
            resources=self.resources(exact),
            instance=self.instance,
        )
        assert result.success

    def check_freshness(self, day: str = "") -> bool:
        """The freshness check of `day`, or of yesterday as the schedule runs it."""
        [check] = [
            check
            for check in self.definitions().asset_checks
            if isinstance(check, dg.AssetChecksDefinition)
            and {key.name for key in check.check_keys} == {BOOKED_BY_DEADLINE}
        ]
        result = dg.materialize(
            [self.assets()["exact_bookings"], check],
            selection=dg.AssetSelection.checks(check),
            resources=self.resources(),
            instance=self.instance,
            run_config={"ops": {check.node_def.name: {"config": {"day": day}}}},
        )
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation.passed

    def tell_run_outcomes(self, *, again: bool = False) -> str:
        """One tick of the location's run-outcome alert sensor, as the daemon evaluates it: it
        tells of the runs that finished since its previous tick (`again`: since the one before,
        as when a tick's cursor was lost after it delivered). What it did, in its words."""
        cursor = self.run_cursors[-2 if again else -1]
        shop = self.shop()
        sensor = run_outcome_sensor([Shop(shop.settings, clock=self.clock) if self.clock else shop])
        data = sensor.evaluate_tick(
            dg.build_sensor_context(
                instance=self.instance, resources=self.resources(), cursor=cursor
            )
        )
        self.run_cursors.append(data.cursor)
        return str(data.skip_message)

    def tick(self, name: str) -> None:
        """One tick of the shop's sensor `name`, as the daemon evaluates it."""
        self.sensor(name).evaluate_tick(
            dg.build_sensor_context(instance=self.instance, resources=self.resources())
        )


class RunWatch:
    """The location's run-outcome alert sensor over the shops of `pipelines` (one sync
    database), as the daemon evaluates it: each tick reads the runs finished after its cursor."""

    def __init__(self, pipelines: Sequence[Pipeline]) -> None:
        self.pipelines = pipelines
        self.sensor = run_outcome_sensor([pipeline.shop() for pipeline in pipelines])
        self.cursor: str | None = None
        assert self.tick() == "watching the runs that finish from now on"

    def tick(self) -> str:
        """What the sensor did, in its words."""
        pipeline = self.pipelines[0]
        data = self.sensor.evaluate_tick(
            dg.build_sensor_context(
                instance=pipeline.instance, resources=pipeline.resources(), cursor=self.cursor
            )
        )
        self.cursor = data.cursor
        return str(data.skip_message)


@contextmanager
def signed_in_pipeline(
    woo: WooSandbox,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    settings: SyncConfig,
    **exact_options: Any,
) -> Iterator[Pipeline]:
    """The shop of `woo` and an Exact sandbox of its own (`exact_options`; no minute limit in
    the way), signed in, with a sync database in `tmp_path`."""
    with start_exact_sandbox(minute_limit=100_000, **exact_options) as exact:
        pipeline = Pipeline(woo, exact, f"sqlite:///{tmp_path / 'sync.db'}", instance, settings)
        store_sandbox_tokens(exact, pipeline.engine)
        yield pipeline


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def channels_environment(receivers: Receivers, monkeypatch: pytest.MonkeyPatch) -> Receivers:
    for name, value in receivers.environ.items():
        monkeypatch.setenv(name, value)
    return receivers


def past_the_threshold(settings: SyncConfig) -> SyncConfig:
    """The hour has passed: the threshold is lowered below the time already gone by instead
    of waiting (the sensors use the wall clock)."""
    alerts = settings.alerts.model_copy(update={"order_problem_hours": 1e-9})
    return settings.model_copy(update={"alerts": alerts})


def on_every_channel(receivers: Receivers, titles: list[str]) -> None:
    assert receivers.titles() == {"email": titles, "slack": titles, "webhook": titles}
    sent = receivers.everything_sent()
    # Slack's token travels in the Authorization header only; no secret is in any message.
    assert not [s for s in SECRETS if s in sent.replace(f"Bearer {SECRETS[1]}", "")]


def texts(receivers: Receivers) -> list[str]:
    return [payload["text"] for payload in receivers.webhook_payloads()]


def test_an_exact_login_expired_on_the_sandbox_clock_alerts_once_and_clears_after_login(
    woocommerce_sandbox: WooSandbox,
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    # Signed in 31 days ago, unused since: Exact has dropped the refresh token.
    sandbox_clock = SandboxClock(datetime.now(UTC) - timedelta(days=31))
    with signed_in_pipeline(
        woocommerce_sandbox,
        instance,
        tmp_path,
        receivers.settings(load_config()),
        clock=sandbox_clock,
    ) as pipeline:
        pipeline.stage()
        sandbox_clock.advance(days=31)  # Exact's today

        assert not pipeline.load().success
        for _ in range(3):  # the sensors keep ticking; nobody is told twice
            pipeline.tick("alert_conditions_sensor")
        on_every_channel(receivers, [PROBLEM_RUN, PROBLEM_LOGIN])
        failed, login = texts(receivers)
        assert "failed: the Exact Online login is lost" in failed
        assert "the Exact Online login expired on" in login
        assert "`woo-exact exact login`" in failed and "`woo-exact exact login`" in login

        store_sandbox_tokens(pipeline.exact, pipeline.engine)  # woo-exact exact login
        pipeline.tick("alert_conditions_sensor")
        assert pipeline.load().success
        pipeline.tick("alert_conditions_sensor")
        on_every_channel(receivers, [PROBLEM_RUN, PROBLEM_LOGIN, RESOLVED_LOGIN, RESOLVED_RUN])


def test_a_login_close_to_its_idle_expiry_warns_and_the_nightly_renewal_clears_it(
    woocommerce_sandbox: WooSandbox,
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    sandbox_clock = SandboxClock(datetime.now(UTC) - timedelta(days=25))
    with signed_in_pipeline(
        woocommerce_sandbox,
        instance,
        tmp_path,
        receivers.settings(load_config()),
        clock=sandbox_clock,
    ) as pipeline:
        # Signed in 25 days ago: 5 days left.
        sandbox_clock.advance(days=25)
        pipeline.tick("alert_conditions_sensor")
        pipeline.tick("alert_conditions_sensor")
        on_every_channel(receivers, [PROBLEM_LOGIN])
        assert "expires on" in texts(receivers)[0]

        # The nightly exact_reference_job renews the refresh token.
        renewed = dg.materialize(
            [pipeline.assets()["exact_reference_data"]],
            resources=pipeline.resources(),
            instance=instance,
        )
        assert renewed.success
        pipeline.tick("alert_conditions_sensor")
        on_every_channel(receivers, [PROBLEM_LOGIN, RESOLVED_LOGIN])


def test_a_spent_daily_quota_fails_the_load_alerts_once_and_clears_the_next_day(
    woocommerce_sandbox: WooSandbox,
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    # Just before midnight UTC yesterday, in Exact: the quota resets a quarter of an hour on.
    midnight = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    sandbox_clock = SandboxClock(midnight - timedelta(minutes=15))
    with signed_in_pipeline(
        woocommerce_sandbox,
        instance,
        tmp_path,
        receivers.settings(load_config()),
        clock=sandbox_clock,
        daily_limit=30,
    ) as pipeline:
        sandbox_clock.advance(minutes=10)  # the access token may be refreshed now
        pipeline.stage()

        failed = pipeline.load()
        assert not failed.success
        pipeline.tell_run_outcomes(again=True)  # the same failure seen again: no second message
        on_every_channel(receivers, [PROBLEM_RUN])
        [text] = texts(receivers)
        assert "failed: the daily Exact Online API quota is spent" in text
        assert "resets at" in text

        # A new day: in Exact (the sandbox clock) and for the pipeline, whose clock is the
        # wall clock, so the quota window it stored is moved into the past instead.
        sandbox_clock.advance(minutes=6)
        with pipeline.engine.begin() as connection:
            connection.execute(
                update(exact_rate_limits).values(
                    daily_resets_at=datetime.now(UTC) - timedelta(seconds=1)
                )
            )
        assert pipeline.load().success
        on_every_channel(receivers, [PROBLEM_RUN, RESOLVED_RUN])


def test_orders_quarantined_longer_than_the_threshold_alert_with_reasons_and_clear_when_fixed(
    woocommerce_sandbox: WooSandbox,
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    base = receivers.settings(load_config(), order_problem_hours=1)
    mapping = base.exact.vat_mapping
    unmapped = base.model_copy(
        update={
            "exact": base.exact.model_copy(
                update={
                    "vat_mapping": mapping.model_copy(
                        update={
                            "domestic": {
                                rate: code
                                for rate, code in mapping.domestic.items()
                                if rate != Decimal(9)
                            }
                        }
                    )
                }
            )
        }
    )
    with signed_in_pipeline(woocommerce_sandbox, instance, tmp_path, unmapped) as pipeline:
        pipeline.stage()
        pipeline.tick("alert_conditions_sensor")
        on_every_channel(receivers, [])  # quarantined, but not yet for an hour

        pipeline.settings = past_the_threshold(pipeline.settings)
        pipeline.tick("alert_conditions_sensor")
        pipeline.tick("alert_conditions_sensor")
        on_every_channel(receivers, ["PROBLEM: Orders not booked"])
        [text] = texts(receivers)
        assert "order 1111 (2026-10-16) is quarantined: tax rate 9% to NL has no VAT code" in text
        assert "exact.vat_mapping.domestic" in text

        pipeline.settings = base  # the bookkeeper adds the 9% code; the next run books them
        pipeline.stage()
        pipeline.tick("alert_conditions_sensor")
        on_every_channel(receivers, ["PROBLEM: Orders not booked", "RESOLVED: Orders not booked"])
        assert "resolved: order 1111 (2026-10-16)" in texts(receivers)[1]


def test_a_late_day_and_a_reconciliation_difference_alert_from_check_results_and_clear(
    woocommerce_sandbox: WooSandbox,
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    with signed_in_pipeline(
        woocommerce_sandbox, instance, tmp_path, receivers.settings(load_config())
    ) as pipeline:
        pipeline.stage()
        # 06:00 has come and the day is staged but not loaded.
        assert not pipeline.check_freshness(DAY)
        pipeline.tick("alert_check_results_sensor")
        pipeline.tick("alert_check_results_sensor")
        on_every_channel(receivers, ["PROBLEM: Bookings are late"])
        assert "latest journal lines were not loaded into Exact" in texts(receivers)[0]

        assert pipeline.load().success
        assert pipeline.check_freshness(DAY)
        pipeline.tick("alert_check_results_sensor")
        late = ["PROBLEM: Bookings are late", "RESOLVED: Bookings are late"]
        on_every_channel(receivers, late)

        # The same administration without the day's entries (the sandbox deletes nothing):
        # Exact is missing every booking of the day.
        with start_exact_sandbox(minute_limit=100_000) as emptied:
            store_sandbox_tokens(emptied, pipeline.engine)
            pipeline.reconcile(emptied)
        pipeline.tick("alert_check_results_sensor")
        pipeline.tick("alert_check_results_sensor")
        differs = "PROBLEM: WooCommerce and Exact differ"
        on_every_channel(receivers, [*late, differs])
        assert "2026-10-16: Exact does not agree with WooCommerce" in texts(receivers)[2]
        assert re.search(r"missing [1-9]\d*, extra 0, different 0", texts(receivers)[2])

        store_sandbox_tokens(pipeline.exact, pipeline.engine)
        pipeline.reconcile(pipeline.exact)
        pipeline.tick("alert_check_results_sensor")
        on_every_channel(receivers, [*late, differs, "RESOLVED: WooCommerce and Exact differ"])


def test_yesterday_booked_passes_freshness_and_the_digest_goes_out_once_with_its_figures(
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    settings = receivers.settings(load_config(), daily_digest=True, daily_digest_time=time(0, 0))
    with (
        start_woocommerce_sandbox(seed=5, days=3, orders_per_day=8, end_date=TODAY) as shop,
        start_exact_sandbox(minute_limit=100_000) as exact,
    ):
        url = f"sqlite:///{tmp_path / 'sync.db'}"
        pipeline = Pipeline(shop, exact, url, instance, settings, clock=seven_in_the_morning)
        store_sandbox_tokens(exact, pipeline.engine)
        pipeline.stage(yesterday)
        assert pipeline.load(yesterday).success
        assert pipeline.check_freshness()  # as the schedule runs it: yesterday, shop time
        pipeline.tick("alert_check_results_sensor")
        pipeline.tick("daily_digest_sensor")
        pipeline.tick("daily_digest_sensor")

    on_every_channel(receivers, [f"Daily digest for {yesterday}"])
    [payload] = receivers.webhook_payloads()
    figures = payload["figures"]
    assert payload["event"] == "digest"
    assert figures["day"] == yesterday
    assert figures["orders"] > 0 and figures["sales_booked"] > 0
    assert figures["reconciliation"] == "agrees"
    assert figures["exact_api_calls"] > figures["sales_booked"]
    assert f"Sales booked:           {figures['sales_booked']}" in payload["text"]


def test_a_day_with_events_held_back_longer_than_the_threshold_alerts_with_each_reason(
    woocommerce_sandbox: WooSandbox,
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    settings = receivers.settings(load_config(), order_problem_hours=1)
    with signed_in_pipeline(woocommerce_sandbox, instance, tmp_path, settings) as pipeline:
        pipeline.stage(MIXED_DAY)
        assert pipeline.load(MIXED_DAY).success  # a refused order never fails the run
        pipeline.tick("alert_check_results_sensor")
        # The reconciliation says so at once (the order is missing in Exact); the order
        # alert waits: held back, but not yet for an hour.
        differs = "PROBLEM: WooCommerce and Exact differ"
        on_every_channel(receivers, [differs])

        pipeline.settings = past_the_threshold(pipeline.settings)
        pipeline.tick("alert_check_results_sensor")
        pipeline.tick("alert_check_results_sensor")
        on_every_channel(receivers, [differs, "PROBLEM: Orders not booked"])
        text = texts(receivers)[1]
        assert f"{MIXED_DAY}: 1 event(s) not booked in Exact" in text
        assert "held back" in text and "USD" in text


def test_a_sensor_or_schedule_that_stopped_ticking_alerts_with_its_error_and_clears(
    woocommerce_sandbox: WooSandbox,
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    with signed_in_pipeline(
        woocommerce_sandbox, instance, tmp_path, receivers.settings(load_config())
    ) as pipeline:  # no login alert in the way
        now = clock_time.time()
        # What the daemon records: the change sensor ticked an hour ago and fails since (the
        # shop is down); the nightly sweep ran two hours ago, as it should.
        changes = record_tick(instance, "woo_order_changes_sensor", TickStatus.SKIPPED, now - 3600)
        record_tick(
            instance,
            "woo_order_changes_sensor",
            TickStatus.FAILURE,
            now - 60,
            error="The shop at shop.example.nl kept failing on orders after 5 attempts",
        )
        record_tick(instance, "daily_sweep_schedule", TickStatus.SUCCESS, now - 7200)
        pipeline.tick("alert_conditions_sensor")
        pipeline.tick("alert_conditions_sensor")
        on_every_channel(receivers, ["PROBLEM: Automation stopped ticking"])
        [text] = texts(receivers)
        assert "woo_order_changes_sensor last ticked" in text
        assert "its latest tick failed: The shop at shop.example.nl kept failing" in text
        assert "daily_sweep_schedule" not in text

        record_tick(instance, changes.name, TickStatus.SUCCESS, clock_time.time())
        pipeline.tick("alert_conditions_sensor")
        on_every_channel(
            receivers,
            ["PROBLEM: Automation stopped ticking", "RESOLVED: Automation stopped ticking"],
        )


def record_tick(
    instance: dg.DagsterInstance,
    name: str,
    status: TickStatus,
    timestamp: float,
    error: str | None = None,
) -> InstigatorState:
    """A tick as the daemon stores it, for the sensor or schedule `name` of this location."""
    kind = InstigatorType.SCHEDULE if name.endswith("_schedule") else InstigatorType.SENSOR
    location = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="woo_exact_pipeline.definitions"),
        location_name="woo_exact_pipeline",
    )
    origin = RemoteInstigatorOrigin(RemoteRepositoryOrigin(location, "__repository__"), name)
    state = instance.get_instigator_state(origin.get_id(), origin.get_selector().get_id())
    if state is None:
        data = (
            ScheduleInstigatorData("0 2 * * *")
            if kind == InstigatorType.SCHEDULE
            else SensorInstigatorData()
        )
        state = InstigatorState(origin, kind, InstigatorStatus.RUNNING, data)
        instance.add_instigator_state(state)
    instance.create_tick(
        TickData(
            state.instigator_origin_id,
            name,
            kind,
            status,
            timestamp,
            selector_id=state.selector_id,
            run_ids=[],
            run_keys=[],
            origin_run_ids=[],
            error=SerializableErrorInfo(error, [], "WooUnavailableError") if error else None,
        )
    )
    return state


# --- the rules and the book, without sandboxes -------------------------------------------


NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_failures_are_named_by_the_type_of_the_error_never_by_its_words() -> None:
    login = "there is no Exact Online connection; run `woo-exact exact login` again to reconnect"
    assert cause_of(ExactLoginRequired(login)) == FailureCause.EXACT_LOGIN_LOST
    refused = ExactApiError(status=401, method="GET", endpoint="crm/Accounts", messages=[])
    assert cause_of(refused) == FailureCause.EXACT_LOGIN_LOST
    assert cause_of(ExactDailyQuotaSpent(3102026, NOW)) == FailureCause.EXACT_QUOTA_SPENT
    assert cause_of(ExactUnavailableError("Exact Online kept answering 503")) == (
        FailureCause.EXACT_UNREACHABLE
    )
    assert cause_of(WooUnavailableError("The shop kept failing on orders")) == (
        FailureCause.WOOCOMMERCE_UNREACHABLE
    )
    assert cause_of(ExactConfigurationError("environment variable X is not set")) == (
        FailureCause.INVALID_CONFIGURATION
    )
    assert cause_of(WooAuthenticationError("the consumer key was refused")) == (
        FailureCause.INVALID_CONFIGURATION
    )
    # The words of one cause under the type of another: the type decides.
    assert cause_of(ExactResponseError("Exact Online is unavailable")) == FailureCause.UNEXPECTED
    bad_request = ExactApiError(status=400, method="POST", endpoint="x", messages=[login])
    assert cause_of(bad_request) == FailureCause.UNEXPECTED


def test_a_failed_step_carries_its_cause_as_metadata_and_a_retry_only_when_it_may_pass() -> None:
    with pytest.raises(dg.Failure) as lost, failures_named_by_cause():
        raise ExactLoginRequired("the Exact Online login is gone")
    assert lost.value.metadata == {CAUSE: dg.MetadataValue.text("exact_login_lost")}
    assert not lost.value.allow_retries
    with pytest.raises(dg.Failure) as down, failures_named_by_cause():
        raise WooUnavailableError("The shop could not be reached")
    assert down.value.metadata[CAUSE].value == "woocommerce_unreachable"
    assert down.value.allow_retries
    assert down.value.description == "The shop could not be reached"


def test_the_login_warns_within_the_window_and_says_expired_after() -> None:
    expires = NOW + timedelta(days=10)
    assert exact_login_problem(expires, NOW, 7) is None
    warning = exact_login_problem(expires, NOW + timedelta(days=4), 7)
    assert warning is not None and warning.stage == "expiring"
    expired = exact_login_problem(expires, NOW + timedelta(days=11), 7)
    assert expired is not None and expired.stage == "expired"
    missing = exact_login_problem(None, NOW, 7)
    assert missing is not None and missing.stage == "missing"


def test_a_silent_sensor_is_a_problem_only_after_the_allowed_gap() -> None:
    allowed = timedelta(minutes=30)
    assert missed_tick_problem("s", NOW - timedelta(minutes=29), NOW, NOW, allowed) is None
    problem = missed_tick_problem("s", NOW - timedelta(minutes=31), NOW, NOW, allowed)
    assert problem is not None and "last ticked" in problem.summary
    never = missed_tick_problem("s", None, NOW - timedelta(hours=1), NOW, allowed)
    assert never is not None and "has not ticked" in never.summary


def test_a_day_is_fresh_only_when_read_after_it_ended_loaded_after_transform_and_answered() -> None:
    day_end = datetime(2026, 10, 16, 22, 0, tzinfo=UTC)  # midnight in Amsterdam (CEST)
    fresh = DayProgress(
        day=date(2026, 10, 16),
        extracted_at=day_end + timedelta(hours=2),
        transformed_at=day_end + timedelta(hours=2, minutes=1),
        loaded_at=day_end + timedelta(hours=2, minutes=2),
        events=10,
        booked=8,
        failed=1,
        held_back=1,
    )
    assert freshness_verdict(fresh, "Europe/Amsterdam") == []
    early = DayProgress(**{**fresh.__dict__, "extracted_at": day_end - timedelta(seconds=1)})
    assert freshness_verdict(early, "Europe/Amsterdam") == [
        "the day's orders were not read from the shop after the day ended"
    ]
    unanswered = DayProgress(**{**fresh.__dict__, "booked": 6})
    assert freshness_verdict(unanswered, "Europe/Amsterdam") == [
        "2 event(s) have no booking in Exact yet"
    ]


class _Recorder:
    def __init__(self, name: str, *, broken: bool = False) -> None:
        self.name = name
        self.broken = broken
        self.notices: list[Notice] = []

    def describe(self) -> str:
        return self.name

    def send(self, notice: Notice, *, shop: str, now: datetime) -> None:
        if self.broken:
            raise AlertDeliveryError(f"{self.name} is down")
        self.notices.append(notice)


def _problem(key: str, stage: str = "open", after_seconds: float = 0) -> Problem:
    return Problem(key, "order_stuck", stage, f"order {key}", NOW, after_seconds=after_seconds)


def test_the_book_tells_each_channel_once_retries_a_failed_one_and_announces_a_new_stage(
    sync_engine: Engine,
) -> None:
    good, flaky = _Recorder("good"), _Recorder("flaky", broken=True)
    book = AlertBook(sync_engine, "test", [good, flaky], shop="shop.example.nl")
    two = {"a": _problem("a"), "b": _problem("b")}
    first = book.update(NOW, lambda _: two)
    assert [n.title for n in good.notices] == ["PROBLEM: Orders not booked"]
    assert first.failures == ["PROBLEM: Orders not booked: flaky is down"]
    book.update(NOW, lambda _: two)
    assert len(good.notices) == 1  # nothing new for the channel that heard it

    flaky.broken = False
    book.update(NOW, lambda _: two)
    assert [n.title for n in flaky.notices] == ["PROBLEM: Orders not booked"]
    assert len(flaky.notices[0].problems) == 2

    book.update(NOW, lambda _: {"a": _problem("a", stage="worse")})
    assert [n.title for n in good.notices] == [
        "PROBLEM: Orders not booked",
        "PROBLEM: Orders not booked",
        "RESOLVED: Orders not booked",
    ]
    assert good.notices[2].lines == ("- resolved: order b",)
    assert book.open_problems() == {"a": _problem("a", stage="worse")}


def test_a_problem_with_a_delay_is_told_only_once_it_lasted_that_long() -> None:
    open_problems = {"a": _problem("a", after_seconds=3600)}
    assert pending_notices(open_problems, {}, NOW + timedelta(minutes=59)) == []
    [pending] = pending_notices(open_problems, {}, NOW + timedelta(hours=1))
    assert pending.notice.status == "started"
    # Cleared before it was ever told: nobody hears about it.
    assert pending_notices({}, {}, NOW + timedelta(hours=2)) == []


def test_check_outcomes_open_and_clear_per_day_and_a_day_keeps_its_first_failure_time() -> None:
    def outcome(day: str, passed: bool, minutes: int) -> CheckOutcome:
        at = NOW + timedelta(minutes=minutes)
        return CheckOutcome("every_event_booked", day, passed, at, ("sale 1042: held back",))

    def unbooked(found: CheckOutcome, open_problems: dict[str, Problem]) -> Problem:
        return unbooked_day_problem(found, open_problems, after_hours=1)

    opened = apply_check_outcomes(
        {}, [outcome("2026-10-20", False, 0), outcome("2026-10-21", False, 5)], unbooked
    )
    assert sorted(opened) == ["unbooked:2026-10-20", "unbooked:2026-10-21"]
    later = apply_check_outcomes(
        opened, [outcome("2026-10-20", False, 60), outcome("2026-10-21", True, 61)], unbooked
    )
    assert list(later) == ["unbooked:2026-10-20"]
    assert later["unbooked:2026-10-20"].since == NOW  # failing since the first evaluation
    assert later["unbooked:2026-10-20"].due(NOW + timedelta(hours=1))


def test_a_run_failing_on_an_empty_environment_variable_is_named_invalid_configuration(
    woocommerce_sandbox: WooSandbox,
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    with signed_in_pipeline(
        woocommerce_sandbox, instance, tmp_path, receivers.settings(load_config())
    ) as pipeline:
        pipeline.stage()
        # EXACT_CLIENT_SECRET is set, but empty (a .env line without its value).
        app = ExactOnline(
            client_id=pipeline.exact.client_id, client_secret="", token_encryption_key=SECRET_KEY
        )
        assets = pipeline.assets()
        failed = dg.materialize(
            [assets["exact_reference_data"], assets["exact_bookings"]],
            partition_key=DAY,
            resources={**pipeline.resources(), pipeline.shop().qualified("exact"): app},
            selection=[assets["exact_bookings"]],
            instance=instance,
            raise_on_error=False,
        )
        assert not failed.success
        pipeline.tell_run_outcomes()
        on_every_channel(receivers, [PROBLEM_RUN])
        [text] = texts(receivers)
        assert "failed: the configuration is invalid" in text
        assert "EXACT_CLIENT_SECRET is not set" in text


def test_exact_being_down_fails_the_load_alerts_once_and_clears_when_it_is_back(
    woocommerce_sandbox: WooSandbox,
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Any,
) -> None:
    receivers = channels_environment
    with signed_in_pipeline(
        woocommerce_sandbox, instance, tmp_path, receivers.settings(load_config())
    ) as pipeline:
        pipeline.stage()
        pipeline.exact.faults.server_error_rate = 1.0  # every answer a 503, through all the retries
        assert not pipeline.load().success
        on_every_channel(receivers, [PROBLEM_RUN])
        assert "failed: Exact Online cannot be reached" in texts(receivers)[0]

        pipeline.exact.faults.clear()
        assert pipeline.load().success
        on_every_channel(receivers, [PROBLEM_RUN, RESOLVED_RUN])


def other_administration(directory: Path) -> Path:
    """The sandbox's administration as another division, for a second shop to book into."""
    administration = json.loads(default_administration_file().read_text(encoding="utf-8"))
    administration["division"] |= {"Code": 4102026, "Description": "Boekhandel De Kaft B.V."}
    path = directory / "administration_boeken.json"
    path.write_text(json.dumps(administration), encoding="utf-8")
    return path


def named_shop(settings: SyncConfig, name: str) -> SyncConfig:
    """`settings` as the shop `name` of a sync.yaml with several shops, at an address of its
    own."""
    woocommerce = settings.woocommerce.model_copy(update={"shop_url": f"https://{name}.example.nl"})
    return settings.model_copy(update={"name": name, "woocommerce": woocommerce})


def test_two_shops_keep_their_alerts_apart_a_failed_run_alerts_for_its_own_shop_only(
    channels_environment: Receivers,
    instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    receivers = channels_environment
    base = receivers.settings(load_config())
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    with (
        start_woocommerce_sandbox(seed=5, days=3, orders_per_day=8, end_date=TODAY) as woo,
        start_exact_sandbox(minute_limit=100_000) as fietsen_exact,
        start_exact_sandbox(
            minute_limit=100_000, administration_file=other_administration(tmp_path)
        ) as boeken_exact,
    ):
        # One deployment: one Dagster instance, one sync database, the same alert channels.
        fietsen = Pipeline(woo, fietsen_exact, url, instance, named_shop(base, "fietsen"))
        boeken = Pipeline(woo, boeken_exact, url, instance, named_shop(base, "boeken"))
        shops = {"fietsen": fietsen, "boeken": boeken}
        for pipeline in shops.values():
            store_sandbox_tokens(pipeline.exact, pipeline.engine)
            pipeline.stage(yesterday)
        watch = RunWatch(list(shops.values()))

        def daemon_ticks() -> str:
            """Every alert sensor ticks; what the location's run-outcome sensor did."""
            told = watch.tick()
            for pipeline in shops.values():
                for sensor in (
                    "alert_conditions_sensor",
                    "alert_check_results_sensor",
                    "daily_digest_sensor",
                ):
                    pipeline.tick(sensor)
            return told

        def open_run_failures(pipeline: Pipeline) -> list[str]:
            book = AlertBook(pipeline.engine, "runs", [], shop=pipeline.shop().key)
            return sorted(book.open_problems())

        # fietsen's deployment lost the key its Exact tokens were stored with.
        fietsen.token_encryption_key = Fernet.generate_key().decode()
        assert not fietsen.run_load_job(yesterday).success
        assert boeken.run_load_job(yesterday).success
        # One sensor sees every run of the location and tells each shop of its own runs, in
        # the order they finished.
        told = daemon_ticks()
        assert told.startswith(
            "fietsen: fietsen__exact_load_job failed (exact_login_lost): email: "
        )
        assert told.endswith("; boeken: boeken__exact_load_job succeeded: nothing new to tell")
        assert daemon_ticks() == "no run of the location finished"  # nobody is told twice
        on_every_channel(receivers, [PROBLEM_RUN])
        [mail] = receivers.smtp.messages
        assert mail["Subject"] == f"[woo-exact fietsen.example.nl] {PROBLEM_RUN}"
        [payload] = receivers.webhook_payloads()
        assert payload["shop"] == "fietsen.example.nl"
        assert "fietsen__exact_load_job failed: the Exact Online login is lost" in payload["text"]
        assert "boeken" not in receivers.everything_sent()
        assert open_run_failures(fietsen) == ["run_failed:fietsen__exact_load_job"]
        assert open_run_failures(boeken) == []

        fietsen.token_encryption_key = SECRET_KEY
        assert fietsen.run_load_job(yesterday).success
        assert daemon_ticks().startswith(
            "fietsen: fietsen__exact_load_job succeeded: email: RESOLVED"
        )
        on_every_channel(receivers, [PROBLEM_RUN, RESOLVED_RUN])
        shops_named = [payload["shop"] for payload in receivers.webhook_payloads()]
        assert shops_named == ["fietsen.example.nl", "fietsen.example.nl"]
        assert "boeken" not in receivers.everything_sent()
        assert open_run_failures(fietsen) == open_run_failures(boeken) == []


def test_only_the_freshness_schedule_evaluates_whether_yesterday_was_booked_in_time() -> None:
    shop = Shop(load_config())
    resources = {
        key: dg.ResourceDefinition.none_resource()
        for key in shop.resource_keys("woocommerce", "exact")
    }
    definitions = definitions_of(shop.settings, resources)

    def evaluates_freshness(job: str) -> bool:
        nodes = definitions.resolve_job_def(job).graph.nodes
        return any(node.name.endswith(BOOKED_BY_DEADLINE) for node in nodes)

    jobs = [job.name for job in definitions.jobs if evaluates_freshness(job.name)]
    assert jobs == [shop.qualified("bookings_freshness_job")]
