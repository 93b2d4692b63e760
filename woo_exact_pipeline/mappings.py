"""`woo-exact mappings suggest`: the shop's tax rates matched to Exact's VAT codes and revenue
accounts, printed as a `vat_mapping` / `gl_mapping` block to check and paste under `exact:`.

Rates are matched by percentage: the shop country's rates (and, with shop_country_vat, every
EU rate) to Exact's sales VAT codes without an OSS country; other EU countries' rates to the OSS
code of that country. Reverse charge is the 0% code Exact lists for intra-community goods
(EUSalesListing L); export the 0% code whose description says export. A revenue account is
proposed when its default VAT code is the code proposed for the same rate. Where more than one
code fits, the first is proposed and the others are named; what fits nothing is listed at
the end, for a person to decide.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from woo_exact_pipeline.bookkeeping.money import InvalidAmount, parse_amount
from woo_exact_pipeline.bookkeeping.vat import EU_COUNTRIES, normalise_rate
from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.exact.client import ExactClient

REVENUE_ACCOUNT_TYPE = 110
EXPORT_WORDS = ("export", "buiten de eu", "outside the eu", "non-eu", "ausfuhr", "drittland")


@dataclass(frozen=True)
class ExactVatCode:
    code: str
    description: str
    percent: Decimal  # 21, not Exact's 0.21
    type: str  # B base only, E excluding, I including, N no VAT
    for_sales: bool
    oss_country: str | None
    eu_sales_listing: str | None  # L goods, S services, T triangulation, N none


@dataclass(frozen=True)
class ExactGlAccount:
    code: str
    description: str
    vat_code: str | None


_Record = TypeVar("_Record", ExactVatCode, ExactGlAccount)


@dataclass(frozen=True)
class _Choice:
    code: str
    comment: str


def read_exact_codes(client: ExactClient) -> tuple[list[ExactVatCode], list[ExactGlAccount]]:
    """Exact's usable sales VAT codes and revenue accounts (one call each, bulk for ledgers)."""
    vat_codes = [
        ExactVatCode(
            code=str(record["Code"]).strip(),
            description=record.get("Description") or "",
            percent=normalise_rate(Decimal(str(record.get("Percentage") or 0)) * 100),
            type=(record.get("Type") or "").strip(),
            for_sales=(record.get("VATTransactionType") or "").strip() in ("S", "B"),
            oss_country=(record.get("OssCountry") or "").strip() or None,
            eu_sales_listing=(record.get("EUSalesListing") or "").strip() or None,
        )
        for record in client.get(
            "vat/VATCodes",
            select=(
                "Code",
                "Description",
                "Percentage",
                "Type",
                "VATTransactionType",
                "OssCountry",
                "EUSalesListing",
                "IsBlocked",
            ),
        )
        if not record.get("IsBlocked")
    ]
    gl_accounts = [
        ExactGlAccount(
            code=str(record["Code"]).strip(),
            description=record.get("Description") or "",
            vat_code=(record.get("VATCode") or "").strip() or None,
        )
        for page in client.bulk(
            "Financial/GLAccounts",
            select=("Code", "Description", "Type", "VATCode", "IsBlocked"),
            filter=f"Type eq {REVENUE_ACCOUNT_TYPE}",
        )
        for record in page
        if not record.get("IsBlocked")
    ]
    return vat_codes, gl_accounts


def suggest_mappings(
    settings: SyncConfig,
    tax_rates: Iterable[Mapping[str, Any]],
    vat_codes: list[ExactVatCode],
    gl_accounts: list[ExactGlAccount],
    order_currencies: Counter[str],
) -> str:
    """The proposed block, as YAML with a comment on every line and the unmatched at the end.
    `order_currencies` counts the currencies of the shop's latest orders."""
    domestic, oss, unmatched = _shop_rates(settings, tax_rates)
    sales = sorted((v for v in vat_codes if v.for_sales), key=lambda v: v.code)
    national = [v for v in sales if v.oss_country is None and v.eu_sales_listing in (None, "N")]
    zero = [v for v in national if v.percent == 0 and v.type != "N"]

    vat_domestic: dict[Decimal, _Choice] = {}
    for rate in sorted(domestic, reverse=True):
        fits = [v for v in national if v.percent == rate and v.type != "N"]
        if choice := _pick(fits, [lambda v: not _says_export(v)]):
            vat_domestic[rate] = choice
        else:
            unmatched.append(f"vat_mapping.domestic {_key(rate)}%: no sales VAT code of {rate}%")
    vat_oss: dict[str, dict[Decimal, _Choice]] = {}
    for country, rate in sorted(oss, key=lambda pair: (pair[0], -pair[1])):
        fits = [v for v in sales if v.oss_country == country and v.percent == rate]
        if choice := _pick(fits, []):
            vat_oss.setdefault(country, {})[rate] = choice
        else:
            unmatched.append(
                f"vat_mapping.oss.{country} {_key(rate)}%: no sales VAT code with OSS country "
                f"{country} and {rate}%"
            )
    reverse_charge = _pick([v for v in sales if v.percent == 0 and v.eu_sales_listing == "L"], [])
    export = _pick([v for v in zero if _says_export(v)], [])
    for name, choice in (("reverse_charge", reverse_charge), ("export", export)):
        if choice is None:
            unmatched.append(f"vat_mapping.{name}: no 0% sales VAT code recognisably for it")

    def ledger(path: str, vat: _Choice | None) -> _Choice | None:
        if vat is None:
            return None
        fits = [a for a in sorted(gl_accounts, key=lambda a: a.code) if a.vat_code == vat.code]
        choice = _pick(fits, [], described=lambda a: f"{a.description} (VAT code {vat.code})")
        if choice is None:
            unmatched.append(f"gl_mapping.{path}: no revenue account has VAT code {vat.code}")
        return choice

    gl_domestic = {
        rate: choice
        for rate, vat in vat_domestic.items()
        if (choice := ledger(f"domestic {_key(rate)}%", vat))
    }
    gl_reverse_charge = ledger("reverse_charge", reverse_charge)
    gl_export = ledger("export", export)

    lines = [
        "# Proposed by `woo-exact mappings suggest` from the shop's tax rates and Exact",
        f"# administration {settings.exact.division}'s VAT codes and revenue accounts.",
        "# Check every line, then put the block under exact: in sync.yaml.",
        *_currencies_line(settings, order_currencies),
        "vat_mapping:",
        *_rates_block("  domestic", vat_domestic),
        "  oss:" if vat_oss else "  oss: {}",
    ]
    for country, rates in vat_oss.items():
        lines += _rates_block(f"    {country}", rates)
    lines += [
        *_single("  reverse_charge", reverse_charge),
        *_single("  export", export),
        "gl_mapping:",
        *_rates_block("  domestic", gl_domestic),
        *_single("  reverse_charge", gl_reverse_charge),
        *_single("  export", gl_export),
    ]
    if unmatched:
        lines.append("# NOT MATCHED, for you to decide:")
        lines += [f"#   {text}" for text in unmatched]
    return "\n".join(lines)


def _currencies_line(settings: SyncConfig, order_currencies: Counter[str]) -> list[str]:
    """exact.currencies: the administration's own first, then those the shop's orders use."""
    own = settings.exact.administration_currency
    by_use = sorted(order_currencies.items(), key=lambda item: (-item[1], item[0]))
    codes = [own, *(code for code, _ in by_use if code != own)]
    counted = ", ".join(f"{code} {count}" for code, count in by_use)
    comment = f"the latest {order_currencies.total()} orders: {counted or 'none'}"
    if len(codes) > 1:
        comment += "; each other currency needs exchange rates in Exact"
    return [f"currencies: {json.dumps(codes)}  # {comment}"]


def _shop_rates(
    settings: SyncConfig, tax_rates: Iterable[Mapping[str, Any]]
) -> tuple[set[Decimal], set[tuple[str, Decimal]], list[str]]:
    """The shop's rates as (domestic percentages, OSS (country, percentage)), and the rates
    that could not be read."""
    shop_country = settings.woocommerce.shop_country
    one_country = settings.exact.eu_consumer_vat_regime == "shop_country_vat"
    domestic: set[Decimal] = set()
    oss: set[tuple[str, Decimal]] = set()
    unreadable = []
    for tax_rate in tax_rates:
        # A rate without a country applies to everyone, the shop's own customers first.
        country = str(tax_rate.get("country") or "").upper() or shop_country
        try:
            rate = normalise_rate(parse_amount(tax_rate.get("rate")))
        except InvalidAmount:
            unreadable.append(f"WooCommerce tax rate {tax_rate.get('id')}: no readable rate")
            continue
        if country == shop_country or (country in EU_COUNTRIES and one_country):
            domestic.add(rate)
        elif country in EU_COUNTRIES:
            oss.add((country, rate))
        # Outside the EU the export code applies, whatever the shop charges.
    return domestic, oss, unreadable


def _pick(
    fits: list[_Record],
    preferences: list[Callable[[_Record], bool]],
    described: Callable[[_Record], str] = lambda record: record.description,
) -> _Choice | None:
    """The first fit after the preferences that leave any; the others named in the comment."""
    for prefer in preferences:
        preferred = [fit for fit in fits if prefer(fit)]
        fits = preferred or fits
    if not fits:
        return None
    first, others = fits[0], fits[1:]
    comment = described(first)
    if others:
        comment += f"; check: also {', '.join(other.code for other in others)}"
    return _Choice(first.code, comment)


def _says_export(vat: ExactVatCode) -> bool:
    return any(word in vat.description.lower() for word in EXPORT_WORDS)


def _key(rate: Decimal) -> str:
    return format(rate, "f")


def _rates_block(label: str, rates: Mapping[Decimal, _Choice]) -> list[str]:
    if not rates:
        return [f"{label}: {{}}"]
    indent = " " * (len(label) - len(label.lstrip()) + 2)
    return [f"{label}:"] + [
        f"{indent}{_key(rate)}: {json.dumps(choice.code)}  # {choice.comment}"
        for rate, choice in rates.items()
    ]


def _single(label: str, choice: _Choice | None) -> list[str]:
    if choice is None:
        return []
    return [f"{label}: {json.dumps(choice.code)}  # {choice.comment}"]
