"""VAT treatment of an order, and the Exact VAT code and revenue account for each rate.

The treatment is decided once per order from where the goods go, whether the customer gave a
VAT number, whether WooCommerce charged VAT, and whether the order came from a till. WooCommerce
is the truth about what the customer paid: when the VAT it charged contradicts the treatment,
what was charged is booked and the event is flagged for the bookkeeper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from woo_exact_pipeline.bookkeeping.model import VatTreatment
from woo_exact_pipeline.bookkeeping.order import OrderHeader
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.text import clean_text
from woo_exact_pipeline.config import SyncConfig

#: EU member states as WooCommerce spells them (ISO 3166: Greece is GR, not VAT's EL).
_EU_COUNTRY_CODES = (
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
)
EU_COUNTRIES = frozenset(_EU_COUNTRY_CODES.split())

#: ISO 3166-1 alpha-2, plus XK (Kosovo) which WooCommerce's country list includes.
_ISO_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS XK YE YT ZA ZM ZW
"""
KNOWN_COUNTRIES = frozenset(_ISO_COUNTRY_CODES.split())

FLAG_VAT_CHARGED_DESPITE_VAT_NUMBER = "vat_charged_despite_vat_number"
FLAG_VAT_CHARGED_ON_EXPORT = "vat_charged_on_export"
FLAG_VAT_NUMBER_MARKED_INVALID = "vat_number_marked_invalid"
FLAG_NO_VAT_CHARGED_TO_EU_CONSUMER = "no_vat_charged_to_eu_consumer"
#: Written by WooCommerce EU VAT Number after checking the number with VIES ("true"/"false").
VAT_NUMBER_VALIDITY_META_KEY = "_vat_number_is_valid"


def normalise_rate(rate: Decimal) -> Decimal:
    """21.0 -> 21, 5.50 -> 5.5: the same spelling the settings model gives its mapping keys."""
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def normalise_vat_number(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum()).upper()


@dataclass(frozen=True, slots=True)
class VatDecision:
    treatment: VatTreatment
    country: str | None  # None only for point-of-sale orders without an address
    vat_number: str | None
    explanation: str
    flags: tuple[str, ...] = ()


class VatRules:
    """How the VAT settings decide an order's treatment, its VAT codes and revenue accounts."""

    def __init__(self, settings: SyncConfig) -> None:
        self.woo, self.exact = settings.woocommerce, settings.exact
        self.pos_created_via = frozenset(self.woo.pos_created_via)

    def vat_number(self, meta: Mapping[str, object]) -> str | None:
        for key in self.woo.vat_number_meta_keys:
            value = meta.get(key)
            if isinstance(value, str) and (number := normalise_vat_number(value)):
                return number
        return None

    def decide(
        self, order: OrderHeader, meta: Mapping[str, object], vat_charged: bool
    ) -> VatDecision:
        vat_number = self.vat_number(meta)
        created_via = order.created_via
        if created_via in self.pos_created_via:
            # Sold over the counter: the address (often empty or the shop's) decides nothing.
            try:
                pos_country = _destination_country(order)
            except BookingProblem:
                pos_country = None
            return VatDecision(
                VatTreatment.POS,
                pos_country,
                vat_number,
                f"Point-of-sale order (created via {created_via}): sold in the shop, "
                f"{self.woo.shop_country} VAT on the point-of-sale revenue account.",
            )
        country = _destination_country(order)
        if country is None:
            raise BookingProblem(
                "unknown_country",
                "the order has no country on its shipping or billing address, so its VAT "
                "treatment cannot be decided; add the country to the order in WooCommerce",
            )
        if country == self.woo.shop_country:
            return VatDecision(
                VatTreatment.DOMESTIC,
                country,
                vat_number,
                f"Delivered in {country}, the shop's country: {country} VAT as charged.",
            )
        if country in EU_COUNTRIES:
            return self._eu_decision(country, vat_number, vat_charged, meta)
        if vat_charged:
            return VatDecision(
                VatTreatment.DOMESTIC,
                country,
                vat_number,
                f"Delivered to {country}, outside the EU, but WooCommerce charged VAT: booked "
                f"as charged with {self.woo.shop_country} VAT codes; check the shop's tax "
                "settings.",
                (FLAG_VAT_CHARGED_ON_EXPORT,),
            )
        return VatDecision(
            VatTreatment.EXPORT,
            country,
            vat_number,
            f"Delivered to {country}, outside the EU: export, no VAT.",
        )

    def _eu_decision(
        self,
        country: str,
        vat_number: str | None,
        vat_charged: bool,
        meta: Mapping[str, object],
    ) -> VatDecision:
        if vat_number and not vat_charged:
            explanation = (
                f"Business in {country} with VAT number {vat_number} and no VAT charged: "
                "intra-community supply, VAT reverse-charged to the customer."
            )
            if meta.get(VAT_NUMBER_VALIDITY_META_KEY) == "false":
                return VatDecision(
                    VatTreatment.REVERSE_CHARGE,
                    country,
                    vat_number,
                    f"{explanation} The VAT plugin marked the number invalid: check it.",
                    (FLAG_VAT_NUMBER_MARKED_INVALID,),
                )
            return VatDecision(VatTreatment.REVERSE_CHARGE, country, vat_number, explanation)
        if self.exact.eu_consumer_vat_regime == "oss":
            treatment = VatTreatment.OSS
            how = f"{country} VAT through the One Stop Shop, on the OSS revenue account"
        else:
            treatment = VatTreatment.EU_CONSUMER_SHOP_VAT
            how = f"{self.woo.shop_country} VAT (eu_consumer_vat_regime is shop_country_vat)"
        if vat_number:
            return VatDecision(
                treatment,
                country,
                vat_number,
                f"Customer in {country} gave VAT number {vat_number}, yet WooCommerce charged "
                f"VAT: booked as charged, {how}; check whether the number was valid.",
                (FLAG_VAT_CHARGED_DESPITE_VAT_NUMBER,),
            )
        if not vat_charged:
            # Often a business whose VAT number sits under a meta key the settings miss.
            return VatDecision(
                treatment,
                country,
                vat_number,
                f"Consumer in {country} (EU), but WooCommerce charged no VAT: booked as "
                f"charged, {how}; if the customer is a business, add the meta key holding its "
                "VAT number to vat_number_meta_keys.",
                (FLAG_NO_VAT_CHARGED_TO_EU_CONSUMER,),
            )
        return VatDecision(treatment, country, vat_number, f"Consumer in {country} (EU): {how}.")

    def check_charged_countries(self, decision: VatDecision, charged: Mapping[str, str]) -> None:
        """Refuse an order whose VAT belongs to another country than its treatment says.

        `charged` maps each tax line's rate code to the country it was set up for. A shop
        that taxes by billing address charges, say, Belgian VAT on goods delivered in the
        Netherlands; booking those rates under the destination's codes would misstate both
        countries' VAT, so the order waits for a person.
        """
        expected = self._vat_country(decision)
        wrong = sorted(code for code, country in charged.items() if country != expected)
        if expected is None or not wrong:
            return
        countries = ", ".join(sorted({charged[code] for code in wrong}))
        raise BookingProblem(
            "vat_country_mismatch",
            f"WooCommerce charged {countries} VAT ({', '.join(wrong)}) on goods delivered in "
            f"{decision.country}, for which {expected} VAT is due. The shop probably "
            "calculates tax from the billing address (WooCommerce > Settings > Tax > "
            "Calculate tax based on); correct the order's tax in WooCommerce or book it by "
            "hand",
            charged_countries=countries,
            country=expected,
        )

    def _vat_country(self, decision: VatDecision) -> str | None:
        """Whose VAT the treatment books; None where no VAT or any VAT is booked as charged."""
        treatment = decision.treatment
        if treatment is VatTreatment.OSS:
            return decision.country
        if treatment in (VatTreatment.EU_CONSUMER_SHOP_VAT, VatTreatment.POS):
            return self.woo.shop_country
        if treatment is VatTreatment.DOMESTIC and decision.country == self.woo.shop_country:
            return self.woo.shop_country
        return None

    def vat_code(self, decision: VatDecision, rate: Decimal) -> str:
        treatment = decision.treatment
        if treatment is VatTreatment.REVERSE_CHARGE:
            return _required(
                self.exact.vat_mapping.reverse_charge,
                "exact.vat_mapping.reverse_charge",
                "the VAT code for intra-community supplies",
            )
        if treatment is VatTreatment.EXPORT:
            return _required(
                self.exact.vat_mapping.export,
                "exact.vat_mapping.export",
                "the VAT code for exports",
            )
        if treatment is VatTreatment.OSS:
            country = decision.country or ""
            code = self.exact.vat_mapping.oss.get(country, {}).get(rate)
            if code is None and rate == 0:
                # An untaxed line (a gift voucher, a zero-rated class without a rate for that
                # country) owes VAT nowhere: the shop's 0% code books it unless OSS maps 0%.
                code = self.exact.vat_mapping.domestic.get(rate)
            if code is None:
                raise BookingProblem(
                    "unmapped_vat_rate",
                    f"tax rate {rate}% to {country} has no VAT code in the mapping; "
                    f"add one under exact.vat_mapping.oss.{country}",
                    rate=rate,
                    country=country,
                )
            return code
        code = self.exact.vat_mapping.domestic.get(rate)
        if code is None:
            raise BookingProblem(
                "unmapped_vat_rate",
                f"tax rate {rate}%{_charged_to(decision)} has no VAT code in the mapping; "
                "add one under exact.vat_mapping.domestic",
                rate=rate,
                country=decision.country or self.woo.shop_country,
            )
        return code

    def revenue_gl(self, decision: VatDecision, rate: Decimal) -> str:
        treatment = decision.treatment
        if treatment is VatTreatment.REVERSE_CHARGE:
            return _required(
                self.exact.gl_mapping.reverse_charge,
                "exact.gl_mapping.reverse_charge",
                "the revenue account for intra-community supplies",
            )
        if treatment is VatTreatment.EXPORT:
            return _required(
                self.exact.gl_mapping.export,
                "exact.gl_mapping.export",
                "the revenue account for exports",
            )
        if treatment is VatTreatment.OSS:
            return _required(
                self.exact.oss_revenue_gl,
                "exact.oss_revenue_gl",
                "the revenue account for OSS sales",
            )
        if treatment is VatTreatment.POS and self.exact.pos_revenue_gl is not None:
            return self.exact.pos_revenue_gl
        gl = self.exact.gl_mapping.domestic.get(rate)
        if gl is None:
            raise BookingProblem(
                "unmapped_vat_rate",
                f"tax rate {rate}%{_charged_to(decision)} has no revenue account in the "
                "mapping; add one under exact.gl_mapping.domestic",
                rate=rate,
                country=decision.country or self.woo.shop_country,
            )
        return gl


def _charged_to(decision: VatDecision) -> str:
    return f" to {decision.country}" if decision.country else ""


def _required(value: str | None, setting: str, what: str) -> str:
    if value is None:
        raise BookingProblem(
            "missing_setting", f"{setting} is empty; set it to {what}", setting=setting
        )
    return value


def _destination_country(order: OrderHeader) -> str | None:
    """Country of the shipping address, else of the billing address; None when neither has one."""
    for address_key, address in (("shipping", order.shipping), ("billing", order.billing)):
        raw = address.get("country")
        if raw is None or raw == "":
            continue
        country = clean_text(raw).upper()
        if country not in KNOWN_COUNTRIES:
            raise BookingProblem(
                "unknown_country",
                f"{address_key} country {clean_text(raw)!r} is not a known two-letter country "
                "code; correct the address in WooCommerce",
                country=clean_text(raw),
            )
        return country
    return None
