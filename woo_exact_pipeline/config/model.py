"""The `sync.yaml` model: every setting of the integration, named as a bookkeeper knows it.

A file describes one shop (`woocommerce:` and `exact:` at the top) or several (`shops:`, a list
of them, each with its own name, credentials, administration and mappings). Either way a shop's
settings end up as one `SyncConfig`.

Secrets never live in the file; they come from the environment variables listed in
`ENVIRONMENT_VARIABLES` (or, per shop, those its `credentials:` names). `load_shops` turns every
problem in a file into one readable line with the setting's path, the bad value and what is
allowed.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, time
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from woo_exact_pipeline.config.values import (
    DEFAULT_VAT_NUMBER_META_KEYS,
    ClosedPeriodPolicy,
    Code,
    CountryCode,
    DocumentNumberSource,
    EnvironmentVariable,
    EuConsumerVatRegime,
    ExactCountry,
    InsertionType,
    InvoiceStatus,
    OrderStatus,
    Percentage,
    ShopName,
    TimeZoneName,
)

_RETRY_BACKOFF = "First wait before a failed request is sent again (doubled each time, up to 30 s)"


class _Settings(BaseModel):
    # Unknown keys are mistakes (a typo silently ignored would book to the wrong place).
    model_config = ConfigDict(extra="forbid", frozen=True)


class WooCommerceSettings(_Settings):
    shop_url: str = Field(description="Address of the shop, e.g. https://shop.example.nl")
    booking_statuses: list[OrderStatus] = Field(
        default=["processing", "completed"],
        min_length=1,
        description="Order statuses at which an order is booked in Exact",
    )
    export_orders_from: date = Field(
        description="Orders created on or after this day are exported (the backfill start)"
    )
    export_orders_until: date | None = Field(
        default=None,
        description=(
            "Last day exported, if the shop's days should stop there (e.g. trying last year's "
            "history in a test administration while another connector books today); empty: "
            "up to today"
        ),
    )
    time_zone: TimeZoneName = Field(
        default="Europe/Amsterdam", description="The shop's time zone; days are cut at its midnight"
    )
    shop_country: CountryCode = Field(default="NL", description="Country the shop sells from")
    document_number_source: DocumentNumberSource = Field(
        default="order_number",
        description=(
            "What becomes the reference in Exact: the WooCommerce order number, or the invoice "
            "number of the PDF Invoices & Packing Slips plugin (with_pdf also attaches the PDF)"
        ),
    )
    vat_number_meta_keys: list[str] = Field(
        default=DEFAULT_VAT_NUMBER_META_KEYS,
        description="Order meta keys that may hold the customer's VAT number, checked in order",
    )
    pos_created_via: list[str] = Field(
        default=["pos-rest-api", "woocommerce-pos"],
        description="`created_via` values that mark point-of-sale orders",
    )
    go_live_date: date | None = Field(
        default=None,
        description=(
            "Orders before this day are the initial export: never e-mailed by Exact "
            "(empty: every order counts as initial export)"
        ),
    )
    request_timeout_seconds: float = Field(
        default=30, gt=0, description="How long to wait for the shop to answer one request"
    )
    retry_backoff_seconds: float = Field(default=1, gt=0, le=30, description=_RETRY_BACKOFF)
    verify_tls: bool = Field(default=True, description="Check the shop's TLS certificate")
    ca_bundle: str | None = Field(
        default=None,
        description="CA certificate file to check the shop against (a self-signed certificate)",
    )

    @field_validator("shop_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not a web address starting with https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _export_days_in_order(self) -> WooCommerceSettings:
        until = self.export_orders_until
        if until is not None and until < self.export_orders_from:
            raise ValueError(
                f"export_orders_until {until} is before export_orders_from "
                f"{self.export_orders_from}"
            )
        return self


class ExactItems(_Settings):
    shipping: Code | None = Field(default=None, description="Item code for shipping costs")
    other_costs: Code | None = Field(
        default=None, description="Item code for other costs (fees such as payment surcharges)"
    )
    discount: Code | None = Field(
        default=None,
        description="Item code for discounts; empty: discounts are netted into the product lines",
    )
    fallback: Code | None = Field(
        default=None, description="Item code for products that have no SKU in WooCommerce"
    )


class VatMapping(_Settings):
    domestic: dict[Percentage, Code] = Field(
        description="Shop-country VAT percentage -> Exact VAT code, e.g. 21: '2'"
    )
    oss: dict[CountryCode, dict[Percentage, Code]] = Field(
        default={},
        description="EU country -> VAT percentage -> Exact OSS VAT code (EU consumers abroad)",
    )
    reverse_charge: Code | None = Field(
        default=None, description="VAT code for intra-community supplies to EU businesses"
    )
    export: Code | None = Field(default=None, description="VAT code for exports outside the EU")


class GlMapping(_Settings):
    domestic: dict[Percentage, Code] = Field(
        description="Shop-country VAT percentage -> revenue GL account"
    )
    reverse_charge: Code | None = Field(
        default=None, description="Revenue GL account for intra-community supplies"
    )
    export: Code | None = Field(default=None, description="Revenue GL account for exports")


class ExactSettings(_Settings):
    country: ExactCountry = Field(
        default="nl", description="Exact Online country site your administration lives on"
    )
    base_url: str | None = Field(
        default=None,
        description="Explicit Exact address instead of the country's (used for the sandbox)",
    )
    redirect_uri: str = Field(description="Redirect URI registered with your Exact app")
    division: int = Field(gt=0, description="Administration (division) number in Exact")
    sales_journal: Code = Field(default="70", description="Sales journal code")
    currencies: list[str] = Field(
        default=["EUR"],
        min_length=1,
        description=(
            "Currencies the administration books in, its own currency first (the others "
            "with exchange rates set up in Exact); orders in other currencies are held back "
            "with the reason"
        ),
    )
    insertion_type: InsertionType = Field(
        default="sales_entry", description="How orders are booked in Exact"
    )
    warehouse: Code | None = Field(
        default=None, description="Warehouse code that direct sales invoices deliver from"
    )
    create_missing_items: bool = Field(
        default=False, description="Create items in Exact for SKUs it does not know yet"
    )
    items: ExactItems = Field(default=ExactItems(), description="Items for non-product lines")
    vat_mapping: VatMapping
    gl_mapping: GlMapping
    invoice_status: InvoiceStatus = Field(
        default="draft", description="Leave invoices as draft or process them"
    )
    email_invoices: bool = Field(
        default=False,
        description="Let Exact e-mail processed invoices (only orders after go_live_date)",
    )
    closed_period: ClosedPeriodPolicy = Field(
        default="hold_back",
        description="An order dated in a period closed in Exact: hold it back, or book it in "
        "the first open period after it",
    )
    default_debtor: Code | None = Field(
        default=None, description="Book every order on this debtor instead of per customer"
    )
    pos_debtor: Code | None = Field(default=None, description="Debtor for point-of-sale orders")
    pos_revenue_gl: Code | None = Field(
        default=None, description="Revenue GL account for point-of-sale orders"
    )
    eu_consumer_vat_regime: EuConsumerVatRegime = Field(
        default="oss",
        description="VAT for consumers in other EU countries: OSS (their rate) or shop-country VAT",
    )
    oss_revenue_gl: Code | None = Field(
        default=None, description="Revenue GL account for OSS sales"
    )
    shipping_costs_gl: Code | None = Field(
        default=None, description="GL account for shipping costs (default: the revenue account)"
    )
    use_item_gl_accounts: bool = Field(
        default=False, description="Use an item's own revenue account from Exact when it has one"
    )
    rounding_tolerance: Decimal = Field(
        default=Decimal("0.02"),
        ge=0,
        le=Decimal("1.00"),
        description="Largest difference to WooCommerce's total booked as a rounding line",
    )
    rounding_gl: Code = Field(description="GL account for rounding differences")
    rounding_vat_code: Code | None = Field(
        default=None,
        description="VAT code of rounding lines (a no-VAT code; empty: the ledger's default)",
    )
    bulk_upload_from: int = Field(
        default=100,
        ge=1,
        description=(
            "From this many sales entries and credit notes to book on a day, they go in XML "
            "uploads (one API call per upload) instead of one REST call each"
        ),
    )
    receivables_gl: Code = Field(
        default="1300",
        description="Receivables GL account of the debtor line of entries uploaded as XML",
    )
    reference_data_max_age_hours: float = Field(
        default=24, gt=0, description="Refresh Exact's journals, VAT codes, items after this long"
    )
    retry_backoff_seconds: float = Field(default=1, gt=0, le=30, description=_RETRY_BACKOFF)

    @field_validator("base_url", "redirect_uri")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not a web address starting with https://")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _oss_needs_codes(self) -> ExactSettings:
        if self.eu_consumer_vat_regime == "oss" and self.oss_revenue_gl is None:
            raise ValueError(
                "oss_revenue_gl is required when eu_consumer_vat_regime is 'oss'; "
                "set it, or choose shop_country_vat"
            )
        return self

    @property
    def api_base_url(self) -> str:
        return self.base_url or f"https://start.exactonline.{self.country}"

    @property
    def administration_currency(self) -> str:
        """The administration's own currency: the first of `currencies`."""
        return self.currencies[0]


class AutomationSettings(_Settings):
    change_sensor_interval_seconds: int = Field(
        default=120, ge=30, description="How often the change sensor asks WooCommerce for changes"
    )
    change_sensor_overlap_seconds: int = Field(
        default=120,
        ge=0,
        description="How far back each poll overlaps the previous one (guards against clock skew)",
    )
    daily_sweep_time: time = Field(
        default=time(2, 0), description="Shop time at which yesterday is processed again"
    )


class EmailAlerts(_Settings):
    to: list[str] = Field(
        default=[],
        description=(
            "Addresses alerts are e-mailed to (empty: no e-mail); the SMTP server comes from "
            "`WOO_EXACT_SMTP_*`"
        ),
    )
    sender: str | None = Field(
        default=None, description="From address of alert e-mails (required with `to`)"
    )
    starttls: bool = Field(
        default=True,
        description="Encrypt the SMTP connection with STARTTLS (switch off only for a local relay)",
    )

    @field_validator("to", "sender")
    @classmethod
    def _addresses(cls, value: list[str] | str | None) -> list[str] | str | None:
        for address in [value] if isinstance(value, str) else value or []:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @model_validator(mode="after")
    def _sender_with_recipients(self) -> EmailAlerts:
        if self.to and self.sender is None:
            raise ValueError("sender is required when alerts are e-mailed (to: is set)")
        return self


class SlackAlerts(_Settings):
    channel: str | None = Field(
        default=None,
        description=(
            "Slack channel alerts are posted to, e.g. #webshop (empty: no Slack); the bot token "
            "comes from WOO_EXACT_SLACK_TOKEN"
        ),
    )
    api_url: str = Field(default="https://slack.com/api/", description="Address of Slack's Web API")


class WebhookAlerts(_Settings):
    url: str | None = Field(
        default=None,
        description=(
            "Address alerts are POSTed to as JSON, signed with WOO_EXACT_WEBHOOK_SECRET "
            "(header `X-Woo-Exact-Signature: sha256=<HMAC of the body>`; empty: no webhook)"
        ),
    )

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not a web address starting with https://")
        return value


class AlertSettings(_Settings):
    email: EmailAlerts = Field(default=EmailAlerts(), description="Alerts by e-mail")
    slack: SlackAlerts = Field(default=SlackAlerts(), description="Alerts in Slack")
    webhook: WebhookAlerts = Field(default=WebhookAlerts(), description="Alerts as a webhook")
    bookings_due_by: time = Field(
        default=time(6, 0),
        description=(
            "Shop time by which yesterday must be fully booked in Exact (the freshness check "
            "on exact_bookings)"
        ),
    )
    order_problem_hours: float = Field(
        default=24,
        gt=0,
        description="Alert on orders that stay quarantined or refused by Exact longer than this",
    )
    exact_login_warning_days: int = Field(
        default=7,
        ge=1,
        le=29,
        description="Warn this many days before the Exact login expires after 30 idle days",
    )
    missed_tick_minutes: int = Field(
        default=30,
        ge=5,
        description=(
            "Alert when the change sensor has not ticked successfully for this long, or the "
            "nightly sweep is this much overdue"
        ),
    )
    daily_digest: bool = Field(
        default=False, description="Send one message a day with yesterday's figures"
    )
    daily_digest_time: time = Field(
        default=time(7, 0), description="Shop time at which the daily digest is sent"
    )


ReportPeriod = Literal["quarter", "month"]


class ReportSettings(_Settings):
    period: ReportPeriod = Field(
        default="quarter",
        description=(
            "How often the VAT return is filed (month for monthly filers): one partition of "
            "the VAT reports per period"
        ),
    )
    folder: str | None = Field(
        default=None,
        description=(
            "Folder for the VAT reports' CSV and XLSX files; empty: reports/ next to a SQLite "
            "sync database, .woo_exact/reports with PostgreSQL"
        ),
    )


class ShopCredentials(_Settings):
    woo_consumer_key: EnvironmentVariable = Field(
        default="WOO_CONSUMER_KEY",
        description="Environment variable that holds the shop's WooCommerce consumer key",
    )
    woo_consumer_secret: EnvironmentVariable = Field(
        default="WOO_CONSUMER_SECRET",
        description="Environment variable that holds the shop's WooCommerce consumer secret",
    )
    exact_client_id: EnvironmentVariable = Field(
        default="EXACT_CLIENT_ID",
        description="Environment variable that holds the client ID of the Exact app it uses",
    )
    exact_client_secret: EnvironmentVariable = Field(
        default="EXACT_CLIENT_SECRET",
        description="Environment variable that holds that Exact app's client secret",
    )


class SyncConfig(_Settings):
    """Everything about one shop: where its orders come from and where they are booked."""

    name: ShopName | None = Field(
        default=None,
        description=(
            "Short name of the shop, e.g. fietsen; prefixes its assets (fietsen/woo_orders), "
            "jobs, sensors and schedules. Required for each shop of a shops: list"
        ),
    )
    woocommerce: WooCommerceSettings
    exact: ExactSettings
    credentials: ShopCredentials = Field(
        default=ShopCredentials(),
        description="Names of the environment variables with this shop's secrets",
    )
    automation: AutomationSettings = AutomationSettings()
    alerts: AlertSettings = AlertSettings()
    reports: ReportSettings = ReportSettings()

    @property
    def shop_key(self) -> str:
        """The shop's key in the sync database: its address without the scheme."""
        parts = urlsplit(self.woocommerce.shop_url)
        return parts.netloc + parts.path

    @property
    def label(self) -> str:
        """How commands and run tags name the shop: its name, else its address."""
        return self.name or self.shop_key


class ShopEntry(_Settings):
    name: ShopName
    woocommerce: WooCommerceSettings
    exact: ExactSettings
    credentials: ShopCredentials = ShopCredentials()
    # A shop's own section replaces the file's (e.g. alerts to the shop's own bookkeeper).
    automation: AutomationSettings | None = None
    alerts: AlertSettings | None = None
    reports: ReportSettings | None = None


def _setting(model: BaseModel, path: str) -> Any:
    for part in path.split("."):
        model = getattr(model, part)
    return model


class SeveralShops(_Settings):
    """A file with `shops:`: one deployment serving several shops and administrations."""

    shops: list[ShopEntry] = Field(min_length=1)
    automation: AutomationSettings = AutomationSettings()
    alerts: AlertSettings = AlertSettings()
    reports: ReportSettings = ReportSettings()

    def clashes(self) -> list[str]:
        """Settings two shops may not share: each has its own name, address and keys."""
        problems = []
        for what in (
            "name",
            "woocommerce.shop_url",
            "credentials.woo_consumer_key",
            "credentials.woo_consumer_secret",
        ):
            first_with: dict[str, int] = {}
            for index, shop in enumerate(self.shops):
                value = _setting(shop, what)
                if value in first_with:
                    problems.append(
                        f"shops[{index}].{what}: {value!r} is already that of "
                        f"shops[{first_with[value]}]; every shop has its own"
                    )
                first_with.setdefault(value, index)
        return problems + self._shared_administrations()

    def _shared_administrations(self) -> list[str]:
        """Shops may book into one administration, each in a journal of its own: Exact is
        asked by reference (YourRef) per journal, and two shops' order 1001 must not meet."""
        problems = []
        journals: dict[tuple[str, int, str], int] = {}
        sharing = Counter((shop.exact.api_base_url, shop.exact.division) for shop in self.shops)
        for index, shop in enumerate(self.shops):
            exact = shop.exact
            if sharing[(exact.api_base_url, exact.division)] < 2:
                continue
            journal = (exact.api_base_url, exact.division, exact.sales_journal)
            if exact.insertion_type == "sales_order":
                problems.append(
                    f"shops[{index}].exact.insertion_type: sales orders have no journal, so "
                    f"they cannot share administration {exact.division} with another shop"
                )
            elif journal in journals:
                problems.append(
                    f"shops[{index}].exact.sales_journal: {exact.sales_journal!r} is already "
                    f"the journal of shops[{journals[journal]}] in administration "
                    f"{exact.division}; each shop books into a journal of its own"
                )
            journals.setdefault(journal, index)
        return problems

    def shop_settings(self) -> list[SyncConfig]:
        return [
            SyncConfig(
                name=shop.name,
                woocommerce=shop.woocommerce,
                exact=shop.exact,
                credentials=shop.credentials,
                automation=shop.automation or self.automation,
                alerts=shop.alerts or self.alerts,
                reports=shop.reports or self.reports,
            )
            for shop in self.shops
        ]
