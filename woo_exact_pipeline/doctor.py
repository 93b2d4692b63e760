"""`woo-exact doctor`: is everything in place to book? Each finding says what is wrong and
what to do about it.

It checks the WooCommerce connection (key, secret, Read permission, permalinks, time zone),
the Exact Online connection (login, administration, the refresh token's idle expiry, the
currencies of exact.currencies with their exchange rates) and
sync.yaml against both systems (every shop tax rate mapped; every configured journal, ledger,
VAT code, item and debtor present in Exact). It reads, never writes, and never shows a secret.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, select

from woo_exact_pipeline.bookkeeping.summary import unmapped_shop_tax_rates
from woo_exact_pipeline.config import ExactSecrets, ShopSecrets, SyncConfig, WooCommerceSecrets
from woo_exact_pipeline.exact import reference
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.errors import (
    ExactAuthenticationError,
    ExactConfigurationError,
    ExactError,
    ExactLoginFailed,
    ExactLoginRequired,
    ExactTokenStoreError,
)
from woo_exact_pipeline.exact.master_data import MasterData, fetch_master_data, settings_problems
from woo_exact_pipeline.exact.periods import closed_periods
from woo_exact_pipeline.store.schema import bookings
from woo_exact_pipeline.woocommerce.client import (
    PLAIN_PERMALINKS_FIX,
    WooAuthenticationError,
    WooCommerceClient,
    WooCommerceError,
    WooPlainPermalinksError,
    WooUnavailableError,
)

WOOCOMMERCE = "WooCommerce"
EXACT = "Exact Online"
SETTINGS = "sync.yaml against both"


def _new_key(settings: SyncConfig) -> str:
    credentials = settings.credentials
    return (
        "create a key under WooCommerce > Settings > Advanced > REST API (Read/Write) and set "
        f"{credentials.woo_consumer_key} and {credentials.woo_consumer_secret}"
    )


def _login(settings: SyncConfig) -> str:
    shop = f" --shop {settings.name}" if settings.name else ""
    return f"run `woo-exact exact login{shop}` to sign in to Exact Online again"


@dataclass(frozen=True)
class Finding:
    system: str
    check: str
    passed: bool
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class _ShopFacts:
    findings: list[Finding]
    tax_rates: list[dict[str, Any]] | None  # None: the shop could not be read


@dataclass(frozen=True)
class _ExactFacts:
    findings: list[Finding]
    master: MasterData | None  # None: Exact could not be read


def diagnose(settings: SyncConfig, engine: Engine, secrets: ShopSecrets) -> list[Finding]:
    shop = _check_woocommerce(settings, secrets.woocommerce)
    exact = _check_exact(settings, engine, secrets.exact)
    return [
        *shop.findings,
        *exact.findings,
        *_check_settings(settings, shop.tax_rates, exact.master),
        *_check_closed_periods(settings, engine, exact.master),
    ]


# --- WooCommerce ------------------------------------------------------------------------------


def _check_woocommerce(settings: SyncConfig, secrets: WooCommerceSecrets) -> _ShopFacts:
    shop = settings.woocommerce
    missing = [
        secret.variable
        for secret in (secrets.consumer_key, secrets.consumer_secret)
        if secret.missing
    ]
    if missing:
        return _ShopFacts(
            [
                Finding(
                    WOOCOMMERCE,
                    "API key",
                    False,
                    f"{' and '.join(missing)} not set",
                    _new_key(settings),
                )
            ],
            None,
        )
    notes: list[str] = []
    client = WooCommerceClient.from_settings(settings, secrets, max_attempts=2, notify=notes.append)
    with client:
        try:
            client.get_json("orders", {"per_page": "1", "status": "any"})
            tax_rates = [rate for page in client.tax_rates() for rate in page]
        except WooPlainPermalinksError as error:
            finding = Finding(WOOCOMMERCE, "permalinks", False, str(error), PLAIN_PERMALINKS_FIX)
            return _ShopFacts([finding], None)
        except WooAuthenticationError as error:
            return _ShopFacts(
                [Finding(WOOCOMMERCE, "API key", False, str(error), _new_key(settings))], None
            )
        except WooUnavailableError as error:
            fix = "check woocommerce.shop_url and that this machine can reach the shop"
            return _ShopFacts([Finding(WOOCOMMERCE, "connection", False, str(error), fix)], None)
        except WooCommerceError as error:
            fix = "check woocommerce.shop_url and that WooCommerce's REST API is enabled"
            return _ShopFacts([Finding(WOOCOMMERCE, "REST API", False, str(error), fix)], None)
    findings = [
        Finding(
            WOOCOMMERCE,
            "API key",
            True,
            f"{shop.shop_url} accepts the key and secret; orders and {len(tax_rates)} tax "
            "rates are readable (Read permission; the pipeline never writes to the shop)",
        ),
        Finding(
            WOOCOMMERCE,
            "permalinks",
            True,
            next(
                (note for note in notes if "permalinks" in note),
                "the REST API answers at /wp-json/ (pretty permalinks)",
            ),
        ),
        _check_time_zone(settings),
    ]
    findings += [
        Finding(WOOCOMMERCE, "authorization header", True, note)
        for note in notes
        if "Authorization" in note
    ]
    return _ShopFacts(findings, tax_rates)


def _check_time_zone(settings: SyncConfig) -> Finding:
    """The shop's time zone (WordPress's site index) against woocommerce.time_zone."""
    shop = settings.woocommerce
    configured = shop.time_zone
    index = _site_index(settings)
    if index is None:
        return Finding(
            WOOCOMMERCE,
            "time zone",
            True,
            "the shop's time zone could not be read (its site index is not public); make "
            f"sure WordPress Settings > General > Timezone is {configured}",
        )
    zone = str(index.get("timezone_string") or "")
    if zone == configured:
        return Finding(WOOCOMMERCE, "time zone", True, f"the shop and sync.yaml use {zone}")
    if zone:
        return Finding(
            WOOCOMMERCE,
            "time zone",
            False,
            f"the shop runs on {zone}, sync.yaml says {configured}: days would be cut at the "
            "wrong midnight",
            f"set woocommerce.time_zone to {zone} in sync.yaml",
        )
    offset = timedelta(hours=float(index.get("gmt_offset") or 0))
    return Finding(
        WOOCOMMERCE,
        "time zone",
        False,
        f"the shop uses a fixed offset of UTC{offset.total_seconds() / 3600:+g} h, which does "
        f"not follow daylight saving time (sync.yaml: {configured}, now UTC"
        f"{_offset_hours(configured):+g} h)",
        f"choose the city under WordPress Settings > General > Timezone (e.g. {configured})",
    )


def _site_index(settings: SyncConfig) -> dict[str, Any] | None:
    shop = settings.woocommerce
    verify: bool | str = shop.ca_bundle or shop.verify_tls
    with httpx.Client(timeout=shop.request_timeout_seconds, verify=verify) as http:
        for url, params in (
            (f"{shop.shop_url}/wp-json/", {}),
            (shop.shop_url, {"rest_route": "/"}),
        ):
            try:
                response = http.get(url, params=params)
                index = response.json() if response.is_success else None
            except (httpx.HTTPError, ValueError):
                continue
            if isinstance(index, dict) and ("timezone_string" in index or "gmt_offset" in index):
                return index
    return None


def _offset_hours(zone: str) -> float:
    offset = datetime.now(ZoneInfo(zone)).utcoffset() or timedelta()
    return offset.total_seconds() / 3600


# --- Exact Online -----------------------------------------------------------------------------


def _check_exact(settings: SyncConfig, engine: Engine, secrets: ExactSecrets) -> _ExactFacts:
    exact = settings.exact
    try:
        client = ExactClient.from_settings(exact, engine, secrets=secrets)
    except ExactConfigurationError as error:
        fix = "set the variable the error names (.env.example says what each one holds)"
        return _ExactFacts([Finding(EXACT, "app credentials", False, str(error), fix)], None)
    except ExactTokenStoreError as error:
        fix = "set WOO_EXACT_SECRET_KEY to the key the tokens were stored with, or " + _login(
            settings
        )
        return _ExactFacts([Finding(EXACT, "token store", False, str(error), fix)], None)
    with client:
        try:
            if client.tokens.stored() is None:
                missing = f"nobody signed in to Exact for administration {exact.division} yet"
                return _ExactFacts(
                    [Finding(EXACT, "login", False, missing, _login(settings))], None
                )
            me = client.current_me(["CurrentDivision", "FullName", "UserName"])
        except (ExactLoginRequired, ExactLoginFailed, ExactAuthenticationError) as error:
            return _ExactFacts([Finding(EXACT, "login", False, str(error), _login(settings))], None)
        except ExactError as error:
            fix = "check exact.country (or exact.base_url) and Exact's status page"
            return _ExactFacts([Finding(EXACT, "connection", False, str(error), fix)], None)
        stored = client.tokens.stored()
        assert stored is not None
        left = stored.refresh_expires_at - datetime.now(UTC)
        user = me.get("FullName") or me.get("UserName") or "the signed-in user"
        findings = [
            Finding(
                EXACT,
                "login",
                True,
                f"signed in as {user}; the refresh token lapses if unused in {left.days} days "
                "(the nightly exact_reference_job renews it in its last week)",
            )
        ]
        try:
            division, own_currency = _check_division(
                settings, engine, secrets, int(me["CurrentDivision"])
            )
            findings.append(division)
            if not division.passed:
                return _ExactFacts(findings, None)
            master = fetch_master_data(client)
            findings.append(_check_currencies(settings, client, own_currency))
        except ExactError as error:
            fix = f"make sure {user} may read administration {exact.division}'s financial data"
            findings.append(Finding(EXACT, "administration", False, str(error), fix))
            return _ExactFacts(findings, None)
    return _ExactFacts(findings, master)


def _check_division(
    settings: SyncConfig, engine: Engine, secrets: ExactSecrets, current: int
) -> tuple[Finding, str | None]:
    """The configured administration is one the signed-in user may use, and its currency."""
    configured = settings.exact.division
    with ExactClient.from_settings(
        settings.exact, engine, secrets=secrets, division=current, login_division=configured
    ) as client:
        records = client.get("system/Divisions", select=("Code", "Description", "Currency"))
    names = {int(record["Code"]): record.get("Description") or "" for record in records}
    currency = {int(record["Code"]): record.get("Currency") for record in records}
    if configured in names:
        found = Finding(
            EXACT, "administration", True, f"{configured} {names[configured]} is available"
        )
        return found, str(currency[configured] or "").strip() or None
    choices = ", ".join(f"{code} {name}" for code, name in sorted(names.items()))
    return Finding(
        EXACT,
        "administration",
        False,
        f"exact.division {configured} is not an administration of the signed-in user",
        f"set exact.division to one of: {choices}",
    ), None


def _check_currencies(settings: SyncConfig, client: ExactClient, own: str | None) -> Finding:
    """Every currency of exact.currencies is one the administration has, the first its own
    (`own`, as system/Divisions gave it), and each other one has an exchange rate for the
    orders whose plugin recorded none."""
    exact = settings.exact
    if own and own != exact.administration_currency:
        return Finding(
            EXACT,
            "currencies",
            False,
            f"administration {exact.division} keeps its books in {own}, but exact.currencies "
            f"starts with {exact.administration_currency}",
            f"put {own} first under exact.currencies in sync.yaml",
        )
    known = reference.currencies(client)
    foreign = exact.currencies[1:]
    if absent := [code for code in foreign if code not in known]:
        return Finding(
            EXACT,
            "currencies",
            False,
            f"exact.currencies names {', '.join(absent)}, which administration "
            f"{exact.division} does not have",
            "add it in Exact under Master data > Currencies, or remove it from exact.currencies",
        )
    if unrated := [code for code in foreign if not reference.exchange_rates(client, code)]:
        return Finding(
            EXACT,
            "currencies",
            False,
            f"Exact has no exchange rate for {', '.join(unrated)}: an order in it whose "
            "multi-currency plugin recorded no rate is held back",
            "add rates under Financial > Exchange rates in Exact",
        )
    detail = f"the administration books in {exact.administration_currency}"
    if foreign:
        detail += f" and has {', '.join(foreign)} with exchange rates"
    return Finding(EXACT, "currencies", True, detail)


# --- sync.yaml against both -------------------------------------------------------------------


def _check_settings(
    settings: SyncConfig, tax_rates: list[dict[str, Any]] | None, master: MasterData | None
) -> list[Finding]:
    findings = []
    if tax_rates is not None:
        gaps = unmapped_shop_tax_rates(tax_rates, settings)
        findings += [
            Finding(
                SETTINGS,
                "tax rates mapped",
                False,
                gap.partition("; ")[0],
                f"{gap.partition('; ')[2] or 'map it in sync.yaml'} "
                "(`woo-exact mappings suggest` proposes the codes)",
            )
            for gap in gaps
        ]
        if not gaps:
            detail = f"every one of the shop's {len(tax_rates)} tax rates has a VAT code and ledger"
            findings.append(Finding(SETTINGS, "tax rates mapped", True, detail))
    if master is not None:
        problems = settings_problems(settings, master)
        findings += [
            Finding(
                SETTINGS,
                "codes exist in Exact",
                False,
                problem,
                f"create it in Exact, or set {problem.partition(':')[0]} in sync.yaml to a code "
                "Exact has",
            )
            for problem in problems
        ]
        if not problems:
            detail = "every configured journal, ledger, VAT code, item and debtor exists in Exact"
            findings.append(Finding(SETTINGS, "codes exist in Exact", True, detail))
    return findings


def _check_closed_periods(
    settings: SyncConfig, engine: Engine, master: MasterData | None
) -> list[Finding]:
    """Periods closed in Exact in which the loader holds sales entries back."""
    exact = settings.exact
    if master is None or exact.insertion_type != "sales_entry":
        return []  # invoices are dated when processed; orders are not in the ledger
    journal = exact.sales_journal
    closed = closed_periods(master.periods.values(), journal)
    with engine.connect() as connection:
        days = connection.execute(
            select(bookings.c.partition_date).where(
                bookings.c.division == exact.division,
                bookings.c.journal == journal,
                bookings.c.status == "failed",
                bookings.c.error.contains("is closed in Exact"),
            )
        ).scalars()
        held = Counter(next((p for p in closed if p.holds(day)), None) for day in days)
    findings = [
        Finding(
            EXACT,
            "closed periods",
            False,
            f"{period.name} is closed in Exact for journal {journal} and holds back "
            f"{count} order(s) or refund(s)",
            "reopen the period in Exact, or set exact.closed_period: first_open_period to book "
            "them in the first open period",
        )
        for period, count in sorted(
            ((p, n) for p, n in held.items() if p is not None), key=lambda item: item[0].start
        )
    ]
    if findings:
        return findings
    names = ", ".join(period.name for period in closed) or "none"
    detail = f"no order waits for a closed period (closed for journal {journal}: {names})"
    return [Finding(EXACT, "closed periods", True, detail)]
