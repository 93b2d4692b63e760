"""The vocabulary of sync.yaml: the environment variables, the choices a setting allows, and
the checks a single value passes (a country code, a time zone, a ledger code, ...)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
)

#: Every environment variable the project reads, with what it is for (.env.example lists them).
ENVIRONMENT_VARIABLES: dict[str, str] = {
    "WOO_CONSUMER_KEY": "WooCommerce REST API consumer key (ck_...) with Read permission",
    "WOO_CONSUMER_SECRET": "WooCommerce REST API consumer secret (cs_...)",
    "EXACT_CLIENT_ID": "Client ID of your registered Exact Online app (a GUID)",
    "EXACT_CLIENT_SECRET": "Client secret of your registered Exact Online app",
    "WOO_EXACT_SECRET_KEY": "Fernet key that encrypts the stored Exact tokens",
    "WOO_EXACT_DATABASE_URL": "Sync database URL (optional; default a SQLite file in .woo_exact/)",
    "WOO_EXACT_CONFIG": "Path of sync.yaml (optional; default ./sync.yaml)",
    "WOO_EXACT_SMTP_HOST": "SMTP server that sends alert e-mails (with alerts.email.to)",
    "WOO_EXACT_SMTP_PORT": "Port of that SMTP server (optional; default 587)",
    "WOO_EXACT_SMTP_USER": "User name at that SMTP server (optional; none: no login)",
    "WOO_EXACT_SMTP_PASSWORD": "Password at that SMTP server (optional)",
    "WOO_EXACT_SLACK_TOKEN": "Slack bot token (xoxb-...) that posts alerts (alerts.slack)",
    "WOO_EXACT_WEBHOOK_SECRET": "Secret that signs alert webhooks (HMAC-SHA256, alerts.webhook)",
}

OrderStatus = Literal[
    "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"
]
DocumentNumberSource = Literal["order_number", "invoice_number", "invoice_number_with_pdf"]
ExactCountry = Literal["nl", "be", "de", "fr", "co.uk", "es", "com"]
InsertionType = Literal["sales_entry", "sales_invoice", "sales_order", "direct_sales_invoice"]
InvoiceStatus = Literal["draft", "processed"]
#: An order dated in a period the bookkeeper closed in Exact: held back until it is reopened,
#: or booked (with its own date) in the first open period after it.
ClosedPeriodPolicy = Literal["hold_back", "first_open_period"]
EuConsumerVatRegime = Literal["oss", "shop_country_vat"]

#: Meta keys in which the common EU VAT plugins store a customer's VAT number.
DEFAULT_VAT_NUMBER_META_KEYS = [
    "vat_number",
    "_vat_number",
    "_billing_vat_number",
    "VAT Number",
    "_billing_eu_vat_number",
    "yweu_billing_vat",
    "billing_vat",
    "_billing_vat_id",
    "_billing_btw_nummer",
]


def _country_code(value: str) -> str:
    if len(value) != 2 or not value.isalpha():
        raise ValueError(f"{value!r} is not a two-letter country code such as NL or DE")
    return value.upper()


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not a known time zone; use an IANA name such as Europe/Amsterdam"
        ) from None
    return value


def _ledger_code(value: str | int) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("a code may not be empty")
    return text


def _percentage(value: Any) -> Decimal:
    rate = Decimal(str(value))
    if not Decimal(0) <= rate <= Decimal(100):
        raise ValueError(f"{value} is not a VAT percentage between 0 and 100")
    return rate.normalize() if rate != rate.to_integral() else rate.quantize(Decimal(1))


def _shop_name(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", value) or "__" in value:
        raise ValueError(
            f"{value!r} is not a shop name: use up to 40 lower-case letters, digits and single "
            "underscores, starting with a letter (it prefixes the shop's assets and jobs)"
        )
    return value


def _environment_variable(value: str) -> str:
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
        raise ValueError(
            f"{value!r} is not the name of an environment variable, such as WOO_CONSUMER_KEY_SHOP2 "
            "(the secret itself never goes in sync.yaml)"
        )
    return value


CountryCode = Annotated[str, AfterValidator(_country_code)]
ShopName = Annotated[str, AfterValidator(_shop_name)]
EnvironmentVariable = Annotated[str, AfterValidator(_environment_variable)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
Code = Annotated[str, AfterValidator(_ledger_code)]
Percentage = Annotated[Decimal, AfterValidator(_percentage)]
