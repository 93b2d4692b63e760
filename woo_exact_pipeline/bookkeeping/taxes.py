"""Which VAT rates a WooCommerce line carries, and the VAT per rate an order states.

* **One rate per line, except split fees.** EU VAT has one rate per line. WooCommerce does
  list two rates on a negative taxable fee (a discount given as a fee): it spreads the fee
  over the rates of the order. Such a fee is booked as one part per rate, the VAT of each
  being WooCommerce's figure and the net the fee's total split in proportion to each
  rate's VAT divided by its rate. Rates whose implied nets do not add up to the fee (two
  rates applied to the same amount: stacked or compound taxes) are refused.
* **The tax lines are the invoice.** The VAT per rate booked is what the order's
  `tax_lines` state (`tax_total` + `shipping_tax_total`), not the sum of the rounded line
  taxes: a shop that rounds at subtotal rounds each rate once, so its line taxes can add up
  to a few cents more or less. The difference goes onto the largest non-shipping part of
  that rate (the earliest on a tie), so it always lands in the same place. Tax lines further
  off than rounding are stale when the lines add up to the total exactly (the lines were
  changed and the tax lines not recalculated): the lines are booked, flagged. Otherwise
  nothing is trustworthy and the order is quarantined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from woo_exact_pipeline.bookkeeping import parse
from woo_exact_pipeline.bookkeeping.money import CENT, ZERO, split_proportionally, to_cents
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.text import clean_text
from woo_exact_pipeline.bookkeeping.vat import KNOWN_COUNTRIES, normalise_rate

HALF_CENT = CENT / 2
HUNDRED = Decimal(100)
#: The order's tax lines were left behind by a change to its lines; the lines are booked.
FLAG_TAX_LINES_NOT_RECALCULATED = "tax_lines_not_recalculated"


@dataclass(frozen=True, slots=True)
class RateShare:
    """The part of a line's amount taxed at one rate (percent)."""

    rate: Decimal
    net: Decimal
    vat: Decimal


class TaxedPart(Protocol):
    """A booked part whose VAT may be aligned with the order's tax lines."""

    @property
    def kind(self) -> str: ...

    @property
    def rate(self) -> Decimal: ...

    @property
    def amount(self) -> Decimal: ...

    vat: Decimal


def order_rates(raw: Mapping[str, Any]) -> dict[int, Decimal | None]:
    """Rate percent per tax rate id of the order's tax lines; None where it is not reported."""
    rates: dict[int, Decimal | None] = {}
    for index, tax_line in enumerate(parse.records(raw, "tax_lines", "order")):
        rate_id = parse.integer(tax_line.get("rate_id"), f"order.tax_lines[{index}].rate_id")
        percent = tax_line.get("rate_percent")
        rates[rate_id] = (
            None
            if percent is None or percent == ""
            else normalise_rate(parse.amount(tax_line, "rate_percent", "order.tax_lines"))
        )
    return rates


def charged_countries(raw: Mapping[str, Any]) -> dict[str, str]:
    """Country of each tax rate the order charged VAT at, by rate code ("BE-BTW/TVA-1" is BE).

    WooCommerce writes a rate code as COUNTRY-STATE-NAME-PRIORITY without the empty parts, so
    a rate that holds for every country starts with its name; such rates are left out, and so
    are rates that charged nothing (a 0% line owes no country anything).
    """
    countries: dict[str, str] = {}
    for index, tax_line in enumerate(parse.records(raw, "tax_lines", "order")):
        where = f"order.tax_lines[{index}]"
        charged = (parse.optional_amount(tax_line, "tax_total", where) or ZERO) + (
            parse.optional_amount(tax_line, "shipping_tax_total", where) or ZERO
        )
        if not charged:
            continue
        code = clean_text(tax_line.get("rate_code"))
        country = code.split("-", 1)[0].upper()
        if len(country) == 2 and country in KNOWN_COUNTRIES:
            countries[code] = country
    return countries


def stated_vat_by_rate(raw: Mapping[str, Any], what: str) -> dict[Decimal, Decimal] | None:
    """VAT per rate percent as an order's (or refund's) tax lines state it; None when a line
    leaves out its rate or amounts (older WooCommerce), so there is nothing to align with."""
    stated: dict[Decimal, Decimal] = {}
    for index, tax_line in enumerate(parse.records(raw, "tax_lines", what)):
        where = f"{what}.tax_lines[{index}]"
        percent = tax_line.get("rate_percent")
        items_tax = parse.optional_amount(tax_line, "tax_total", where)
        shipping_tax = parse.optional_amount(tax_line, "shipping_tax_total", where)
        if percent is None or percent == "" or items_tax is None or shipping_tax is None:
            return None
        rate = normalise_rate(parse.amount(tax_line, "rate_percent", where))
        stated[rate] = stated.get(rate, ZERO) + items_tax + shipping_tax
    return stated


def align_vat_with_tax_lines(
    parts: Sequence[TaxedPart], stated: Mapping[Decimal, Decimal], total: Decimal, what: str
) -> bool:
    """Make the parts' VAT per rate what the tax lines state (see the module's rule).

    False when the tax lines are stale: more than rounding away from the line taxes while the
    lines add up to `total` exactly (the lines were changed and the tax lines not
    recalculated); the parts then keep their own VAT. Stale tax lines next to lines that miss
    the total too leave no figure to trust: the order is quarantined.
    """
    moves: list[tuple[TaxedPart, Decimal]] = []
    for rate, vat in stated.items():
        of_rate = [part for part in parts if part.rate == rate]
        difference = vat - sum((part.vat for part in of_rate), ZERO)
        if not difference:
            continue
        # Each rounded line tax and each of the rate's two tax-line figures is off by at
        # most half a cent; more than that is no rounding but an order edited by hand.
        if not of_rate or abs(difference) > HALF_CENT * (len(of_rate) + 2):
            if sum((part.amount + part.vat for part in parts), ZERO) == total:
                return False
            raise BookingProblem(
                "unbalanced",
                f"the {rate}% VAT of the lines of {what} adds up to "
                f"{vat - difference}, but its tax lines state {vat}; the difference "
                f"{difference} is more than rounding, so the order was changed after "
                "WooCommerce calculated it: recalculate it in WooCommerce",
                rate=rate,
                lines_vat=vat - difference,
                stated_vat=vat,
            )
        goods = [part for part in of_rate if part.kind != "shipping"] or of_rate
        moves.append((max(goods, key=lambda part: abs(part.amount)), difference))
    for part, difference in moves:
        part.vat += difference
    return True


def line_rate(
    line: Mapping[str, Any], rates: Mapping[int, Decimal | None], raw: Mapping[str, Any], where: str
) -> Decimal | None:
    """The one VAT rate (percent) of a line from its `taxes[]`; None when it lists no tax.

    A rate with a non-zero amount wins over one listed with zero (a 100% coupon keeps the
    line's 21% rate with zero tax); a line charged at two rates is refused.
    """
    rate_ids = list(_charged_taxes(line, where)) or _listed_rate_ids(line, where)
    if not rate_ids:
        return None
    if len(rate_ids) > 1:
        raise _stacked(where, len(rate_ids))
    return _rate(rate_ids[0], rates, raw, where)


def line_rate_shares(
    line: Mapping[str, Any],
    total: Decimal,
    total_tax: Decimal,
    rates: Mapping[int, Decimal | None],
    raw: Mapping[str, Any],
    where: str,
) -> list[RateShare]:
    """A shipping or fee line as one share per rate it is charged at (see the module)."""
    charged = _charged_taxes(line, where)
    if len(charged) <= 1:
        return [RateShare(line_rate(line, rates, raw, where) or ZERO, total, total_tax)]
    shares = [(_rate(rate_id, rates, raw, where), tax) for rate_id, tax in charged.items()]
    if to_cents(total) != total or any(rate == 0 for rate, _ in shares):
        raise _stacked(where, len(shares))
    implied_nets = [tax * HUNDRED / rate for rate, tax in shares]
    # A tax shown in cents hides up to half a cent, which is half a cent / rate of net.
    slack = sum((HALF_CENT * HUNDRED / rate for rate, _ in shares), CENT)
    if any((net < 0) != (total < 0) or not net for net in implied_nets) or (
        abs(sum(implied_nets, ZERO) - total) > slack
    ):
        raise _stacked(where, len(shares))
    nets = split_proportionally(total, [abs(net) for net in implied_nets])
    vats = [to_cents(tax) for _, tax in shares]
    # The line's own total_tax is what WooCommerce adds up; the cents rounded away by the
    # shares go onto the largest one.
    largest = max(range(len(vats)), key=lambda index: abs(vats[index]))
    vats[largest] += total_tax - sum(vats, ZERO)
    return [
        RateShare(rate, net, vat) for (rate, _), net, vat in zip(shares, nets, vats, strict=True)
    ]


def _charged_taxes(line: Mapping[str, Any], where: str) -> dict[int, Decimal]:
    """Rate id -> amount of the `taxes[]` entries with a non-zero total (or subtotal)."""
    charged: dict[int, Decimal] = {}
    for index, tax in enumerate(parse.records(line, "taxes", where)):
        tax_where = f"{where}.taxes[{index}]"
        rate_id = parse.integer(tax.get("id"), f"{tax_where}.id")
        total = parse.optional_amount(tax, "total", tax_where)
        subtotal = parse.optional_amount(tax, "subtotal", tax_where)
        if total or subtotal:
            charged[rate_id] = charged.get(rate_id, ZERO) + (total or ZERO)
    return charged


def _listed_rate_ids(line: Mapping[str, Any], where: str) -> list[int]:
    listed: list[int] = []
    for index, tax in enumerate(parse.records(line, "taxes", where)):
        rate_id = parse.integer(tax.get("id"), f"{where}.taxes[{index}].id")
        if rate_id not in listed:
            listed.append(rate_id)
    return listed


def _rate(
    rate_id: int, rates: Mapping[int, Decimal | None], raw: Mapping[str, Any], where: str
) -> Decimal:
    if rate_id not in rates:
        raise BookingProblem(
            "invalid_data",
            f"{where} uses tax rate id {rate_id}, which is not among the order's tax_lines",
        )
    rate = rates[rate_id]
    if rate is None:
        label = next(
            (
                clean_text(tax_line.get("rate_code"))
                for tax_line in parse.records(raw, "tax_lines", "order")
                if tax_line.get("rate_id") == rate_id
            ),
            str(rate_id),
        )
        raise BookingProblem(
            "invalid_data",
            f"WooCommerce did not report rate_percent for tax rate {label}; WooCommerce 3.7 "
            "or later reports it, older orders need a manual booking",
        )
    return rate


def _stacked(where: str, count: int) -> BookingProblem:
    return BookingProblem(
        "invalid_data",
        f"{where} carries {count} tax rates at once (compound or stacked taxes); "
        "EU VAT has one rate per line, so this order needs a manual booking",
    )
