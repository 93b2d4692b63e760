"""The debtor an order is booked on: the point-of-sale or default debtor, or the customer."""

from __future__ import annotations

from woo_exact_pipeline.bookkeeping import parse
from woo_exact_pipeline.bookkeeping.model import (
    ADDRESS_LENGTH,
    CITY_LENGTH,
    NAME_LENGTH,
    POSTCODE_LENGTH,
    VAT_NUMBER_LENGTH,
    Debtor,
    VatTreatment,
)
from woo_exact_pipeline.bookkeeping.order import OrderHeader
from woo_exact_pipeline.bookkeeping.parts import Rules
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.text import cut_text
from woo_exact_pipeline.bookkeeping.vat import KNOWN_COUNTRIES, VatDecision


def debtor_of(header: OrderHeader, decision: VatDecision, rules: Rules) -> Debtor:
    """POS debtor for till orders, else the default debtor, else the customer by e-mail."""
    if decision.treatment is VatTreatment.POS and rules.exact.pos_debtor is not None:
        return Debtor("pos", rules.exact.pos_debtor)
    if rules.exact.default_debtor is not None:
        return Debtor("default", rules.exact.default_debtor)
    # The customer by e-mail: the loader finds their debtor in Exact, or creates it.
    billing, email = header.billing, header.email
    person = " ".join(
        part
        for part in (parse.text(billing, "first_name"), parse.text(billing, "last_name"))
        if part
    )
    company = parse.text(billing, "company")
    name = person or company or email or ""
    if not name:
        is_pos = decision.treatment is VatTreatment.POS
        hint = "exact.pos_debtor" if is_pos else "exact.default_debtor"
        raise BookingProblem(
            "invalid_data",
            "the order has no customer name, company or e-mail address to find or create a "
            f"debtor with; complete the billing address or set {hint}",
        )
    billing_country = parse.text(billing, "country").upper()
    return Debtor(
        source="new",
        code=None,
        email=email,
        name=cut_text(name, NAME_LENGTH),
        company=cut_text(company, NAME_LENGTH),
        address_line_1=cut_text(parse.text(billing, "address_1"), ADDRESS_LENGTH),
        address_line_2=cut_text(parse.text(billing, "address_2"), ADDRESS_LENGTH),
        postcode=cut_text(parse.text(billing, "postcode"), POSTCODE_LENGTH),
        city=cut_text(parse.text(billing, "city"), CITY_LENGTH),
        country=billing_country if billing_country in KNOWN_COUNTRIES else decision.country,
        vat_number=cut_text(decision.vat_number, VAT_NUMBER_LENGTH)
        if decision.vat_number
        else None,
    )
