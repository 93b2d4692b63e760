"""The bookkeeper's period: the Dutch VAT return, the OSS declaration and the ICP listing,
built with pandas from the journal lines of the sales and credit notes dated in the period.

Pure: accounting events and what each order says about its destination go in, tables of
figures come out. Money is integer cents in int64 columns, never float, so a quarter of odd
cents sums exactly; a figure becomes text ("12.34") only when it is shown.

Where each treatment goes. Sources: belastingdienst.nl "Opgaaf ICP" (the ICP listing
specifies rubriek 3b, supplies count in the period of their invoice date); the return's
rubriek 3 as belastingdienstondernemers.nl explains it (3a exports, 3b intra-EU supplies);
rubrieken 1a-1e as fundamentvoor.nl "3.2 Rubrieken" lists them (its 6% low rate is 9% since
2019). That OSS sales are declared in the Unieregeling and not in the Dutch return is the
scheme's rule; no stored page states it, so the README asks the bookkeeper to check it.

- **1a** Dutch VAT at the high rate (21%), **1b** at the low rate (9%), **1c** at any other
  rate but 0%, **1e** at 0%: domestic sales, till sales, EU consumers charged Dutch VAT
  (`eu_consumer_vat_regime: shop_country_vat`) and exports WooCommerce charged Dutch VAT on.
  Net and VAT per rubriek and rate.
- **3a** exports outside the EU, **3b** intra-community supplies to businesses with a VAT
  number (reverse charge): net only; 3b is the total the ICP listing specifies.
- **OSS sales are not in the Dutch return**: they are declared in the Unieregeling, per
  member state of consumption and rate (`oss_declaration`), including a 0% row for what was
  sold there untaxed (a gift voucher, say), so nothing booked disappears from the figures.
- **ICP listing**: per customer VAT number with its country code (Greece as EL), the net of
  the intra-community supplies; a number typed without its country code gets the one of the
  country the goods went to.

Credit notes count in the period they are dated in (negative, as booked), so a refund in the
next quarter lowers that quarter's figures. A VAT return is in euros: an event in another
currency counts at the rate it was booked at, each line converted as Exact converts it (the
amount divided by the rate, to the cent); one not booked yet has no rate and is left out and
counted for the bookkeeper.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Literal

import pandas as pd

from woo_exact_pipeline.bookkeeping import parse
from woo_exact_pipeline.bookkeeping.currency import in_administration_currency
from woo_exact_pipeline.bookkeeping.model import AccountingEvent, JournalLine, VatTreatment
from woo_exact_pipeline.bookkeeping.money import CENT
from woo_exact_pipeline.bookkeeping.order import read_order
from woo_exact_pipeline.bookkeeping.problems import BookingProblem
from woo_exact_pipeline.bookkeeping.reconciliation import ExactDocument, ExactLine
from woo_exact_pipeline.bookkeeping.vat import VatRules, normalise_rate
from woo_exact_pipeline.config import SyncConfig

ReportName = Literal["nl_return", "oss", "icp"]
REPORTS: tuple[ReportName, ...] = ("nl_return", "oss", "icp")
REPORT_CURRENCY = "EUR"

HIGH_RATE, LOW_RATE = "21", "9"
#: The return's rubrieken in the order the form asks them.
RUBRIEKEN = ("1a", "1b", "1c", "1e", "3a", "3b")
RUBRIEK_TITLES = {
    "1a": "Leveringen/diensten belast met hoog tarief",
    "1b": "Leveringen/diensten belast met laag tarief",
    "1c": "Leveringen/diensten belast met overige tarieven, behalve 0%",
    "1e": "Leveringen/diensten belast met 0% of niet bij u belast",
    "3a": "Leveringen naar landen buiten de EU (uitvoer)",
    "3b": "Leveringen naar of diensten in landen binnen de EU",
}
_SHOP_COUNTRY_VAT = frozenset(
    {VatTreatment.DOMESTIC, VatTreatment.POS, VatTreatment.EU_CONSUMER_SHOP_VAT}
)
#: The treatments each report is built from.
REPORT_TREATMENTS: Mapping[ReportName, frozenset[VatTreatment]] = {
    "nl_return": _SHOP_COUNTRY_VAT | {VatTreatment.EXPORT, VatTreatment.REVERSE_CHARGE},
    "oss": frozenset({VatTreatment.OSS}),
    "icp": frozenset({VatTreatment.REVERSE_CHARGE}),
}
#: VIES spells Greece EL where ISO 3166 (and WooCommerce) say GR.
_VAT_PREFIX = {"GR": "EL"}

LINE_COLUMNS = [
    "reference",
    "kind",
    "event_date",
    "treatment",
    "country",
    "vat_number",
    "vat_code",
    "rate",
    "net_cents",
    "vat_cents",
]
FIGURE_COLUMNS = ["report", "key", "rate", "net_cents", "vat_cents"]


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the order says beyond its booking: where the goods went, the customer's VAT number."""

    country: str | None
    vat_number: str | None


@dataclass(frozen=True, slots=True)
class Period:
    """A filing period, first and last day inclusive; `label` as the bookkeeper says it."""

    first: date
    last: date
    label: str

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last


def order_facts(
    raw_orders: Mapping[int, Mapping[str, object]], settings: SyncConfig
) -> dict[int, OrderFacts]:
    """Destination country and VAT number of each order, read as the transform reads them."""
    rules = VatRules(settings)
    facts: dict[int, OrderFacts] = {}
    for order_id, raw in raw_orders.items():
        meta = parse.meta_values(raw, rules.woo.vat_number_meta_keys)
        try:
            # Whether VAT was charged decides the treatment, which the event already holds;
            # the country and the VAT number do not depend on it.
            decision = rules.decide(read_order(raw), meta, vat_charged=True)
        except BookingProblem:
            facts[order_id] = OrderFacts(None, rules.vat_number(meta))
            continue
        facts[order_id] = OrderFacts(decision.country, decision.vat_number)
    return facts


def cents(amount: Decimal) -> int:
    """An amount in whole cents; anything finer is a bug upstream, not something to round."""
    scaled = amount / CENT
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(scaled)


def cents_text(value: int) -> str:
    """Cents as the files show them: 1234 -> 12.34, -5 -> -0.05."""
    return str((Decimal(value) * CENT).quantize(CENT))


def rate_text(rate: Decimal) -> str:
    """The rate as the shop's tax rates write it: 21, 5.5."""
    return str(normalise_rate(rate))


def in_euros(
    events: Iterable[AccountingEvent], rates: Mapping[str, Decimal]
) -> tuple[list[AccountingEvent], dict[str, int]]:
    """The events as the euro figures count them: euro events as they are, one in another
    currency converted at the rate it was booked at (`rates`, by reference); those without a
    rate are left out, counted per currency."""
    converted: list[AccountingEvent] = []
    left_out: Counter[str] = Counter()
    for event in events:
        if event.currency == REPORT_CURRENCY:
            converted.append(event)
        elif (rate := rates.get(event.reference)) is None:
            left_out[event.currency] += 1
        else:
            lines = tuple(
                replace(
                    line,
                    amount_excl_vat=in_administration_currency(line.amount_excl_vat, rate),
                    vat_amount=in_administration_currency(line.vat_amount, rate),
                )
                for line in event.lines
            )
            converted.append(replace(event, currency=REPORT_CURRENCY, lines=lines))
    return converted, dict(sorted(left_out.items()))


def report_lines(
    events: Iterable[AccountingEvent], facts: Mapping[int, OrderFacts], period: Period
) -> pd.DataFrame:
    """One row per euro journal line of the events dated in the period."""
    rows = [
        _line_row(event, line, facts.get(event.order_id))
        for event in events
        if period.holds(event.event_date) and event.currency == REPORT_CURRENCY
        for line in event.lines
    ]
    frame = pd.DataFrame(rows, columns=LINE_COLUMNS)
    return frame.astype({"net_cents": "int64", "vat_cents": "int64"})


def _line_row(
    event: AccountingEvent, line: JournalLine, facts: OrderFacts | None
) -> dict[str, object]:
    country = (facts.country if facts else None) or event.debtor.country
    vat_number = (facts.vat_number if facts else None) or event.debtor.vat_number
    return {
        "reference": event.reference,
        "kind": event.kind,
        "event_date": event.event_date,
        "treatment": str(event.vat_treatment),
        "country": country or "",
        "vat_number": vat_number or "",
        "vat_code": line.vat_code or "",
        "rate": rate_text(line.vat_rate),
        "net_cents": cents(line.amount_excl_vat),
        "vat_cents": cents(line.vat_amount),
    }


def _of(lines: pd.DataFrame, report: ReportName) -> pd.DataFrame:
    treatments = {str(treatment) for treatment in REPORT_TREATMENTS[report]}
    return lines[lines["treatment"].isin(treatments)]


def _summed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    summed = frame.groupby(keys, as_index=False, sort=False)[["net_cents", "vat_cents"]].sum()
    return summed.astype({"net_cents": "int64", "vat_cents": "int64"})


def _rubriek(treatment: str, rate: str) -> str:
    if treatment == VatTreatment.EXPORT:
        return "3a"
    if treatment == VatTreatment.REVERSE_CHARGE:
        return "3b"
    return {HIGH_RATE: "1a", LOW_RATE: "1b", "0": "1e"}.get(rate, "1c")


def _rate_order(rate: pd.Series) -> pd.Series:
    # Rates are text ("5.5"); sorting them as Decimals keeps float out of the ordering too.
    return rate.map(Decimal)


def vat_return(lines: pd.DataFrame) -> pd.DataFrame:
    """Rubriek, rate, net and VAT: the Dutch return's sales part."""
    frame = _of(lines, "nl_return").copy()
    frame["rubriek"] = [
        _rubriek(treatment, rate)
        for treatment, rate in zip(frame["treatment"], frame["rate"], strict=True)
    ]
    summed = _summed(frame, ["rubriek", "rate"])
    summed["order"] = summed["rubriek"].map(RUBRIEKEN.index)
    summed = summed.sort_values(["order", "rate"], key=_sort_key).drop(columns="order")
    return summed.reset_index(drop=True)


def oss_declaration(lines: pd.DataFrame) -> pd.DataFrame:
    """Member state of consumption, rate, net and VAT: the Unieregeling's figures."""
    summed = _summed(_of(lines, "oss"), ["country", "rate"])
    return summed.sort_values(["country", "rate"], key=_sort_key).reset_index(drop=True)


def icp_listing(lines: pd.DataFrame) -> pd.DataFrame:
    """Country, VAT number with its country code, net (and VAT, which should be nil)."""
    frame = _of(lines, "icp").copy()
    frame["vat_number"] = [
        icp_vat_number(country, number)
        for country, number in zip(frame["country"], frame["vat_number"], strict=True)
    ]
    summed = _summed(frame, ["country", "vat_number"])
    return summed.sort_values(["country", "vat_number"]).reset_index(drop=True)


def _sort_key(column: pd.Series) -> pd.Series:
    return _rate_order(column) if column.name == "rate" else column


def icp_vat_number(country: str, number: str) -> str:
    """The number as the ICP listing asks it: with its country code in front."""
    if not number:
        return "(no VAT number)"
    if number[:2].isalpha():
        return number
    return _VAT_PREFIX.get(country, country) + number


def figures(lines: pd.DataFrame) -> pd.DataFrame:
    """Every figure of the three reports as `report, key, rate, net_cents, vat_cents`."""
    nl = vat_return(lines).rename(columns={"rubriek": "key"})
    nl.insert(0, "report", "nl_return")
    oss = oss_declaration(lines).rename(columns={"country": "key"})
    oss.insert(0, "report", "oss")
    icp = icp_listing(lines).rename(columns={"vat_number": "key"}).drop(columns="country")
    icp.insert(0, "report", "icp")
    icp.insert(2, "rate", "")
    combined = pd.concat([oss, icp, nl], ignore_index=True)[FIGURE_COLUMNS]
    return combined.astype({"net_cents": "int64", "vat_cents": "int64"})


def figures_csv(table: pd.DataFrame) -> str:
    """The figures as `report,key,rate,net,vat` lines, two decimals, header first."""
    rows = ["report,key,rate,net,vat"]
    rows += [
        f"{report},{key},{rate},{cents_text(net)},{cents_text(vat)}"
        for report, key, rate, net, vat in table[FIGURE_COLUMNS].itertuples(index=False)
    ]
    return "\n".join(rows) + "\n"


# --- checks -----------------------------------------------------------------------------------


def report_totals(table: pd.DataFrame, report: ReportName) -> tuple[int, int]:
    """Net and VAT cents of all of one report's figures."""
    rows = table[table["report"] == report]
    return int(rows["net_cents"].sum()), int(rows["vat_cents"].sum())


def expected_totals(
    per_treatment: Mapping[str, tuple[Decimal, Decimal]], report: ReportName
) -> tuple[int, int]:
    """What one report must add up to, from the journal's sums per treatment (net, VAT)."""
    treatments = {str(treatment) for treatment in REPORT_TREATMENTS[report]}
    chosen = [amounts for treatment, amounts in per_treatment.items() if treatment in treatments]
    return sum(cents(net) for net, _ in chosen), sum(cents(vat) for _, vat in chosen)


def events_of(events: Iterable[AccountingEvent], report: ReportName) -> list[AccountingEvent]:
    return [event for event in events if event.vat_treatment in REPORT_TREATMENTS[report]]


def as_held_in_exact(
    events: Sequence[AccountingEvent],
    documents: Iterable[ExactDocument],
    rates: Mapping[str, Decimal],
) -> list[AccountingEvent]:
    """The events with Exact's amounts in place of ours, one copy per document Exact holds
    under the event's reference (none when Exact has none, two for a duplicate). In another
    currency: in euros as Exact booked them (AmountDC, VATAmountDC), and where Exact shows none
    (a sales order's VAT) its amount at the booked rate (`rates`); without a rate, left out.

    A document with as many lines as the event takes them line by line; otherwise each of
    its lines counts under the event line of the same VAT code, else the first line, so what
    Exact holds always shows in the figures.
    """
    by_reference: dict[str, list[ExactDocument]] = {}
    for document in documents:
        by_reference.setdefault(document.your_ref, []).append(document)
    held: list[AccountingEvent] = []
    for event in events:
        # None: the event is in euros; a foreign one without a booked rate is left out.
        rate = None if event.currency == REPORT_CURRENCY else rates.get(event.reference)
        if rate is None and event.currency != REPORT_CURRENCY:
            continue
        for document in by_reference.get(event.reference, []):
            if len(document.lines) == len(event.lines):
                pairs = list(zip(event.lines, document.lines, strict=True))
            else:
                by_code = {line.vat_code: line for line in event.lines}
                pairs = [
                    (by_code.get(booked.vat_code, event.lines[0]), booked)
                    for booked in document.lines
                ]
            lines = tuple(_in_euros_in_exact(ours, theirs, rate) for ours, theirs in pairs)
            held.append(replace(event, lines=lines, currency=REPORT_CURRENCY))
    return held


def _in_euros_in_exact(ours: JournalLine, theirs: ExactLine, rate: Decimal | None) -> JournalLine:
    if rate is None:
        return replace(ours, amount_excl_vat=theirs.amount_excl_vat, vat_amount=theirs.vat_amount)
    return replace(
        ours,
        amount_excl_vat=_shown_or_converted(
            theirs.amount_excl_vat_dc, theirs.amount_excl_vat, rate
        ),
        vat_amount=_shown_or_converted(theirs.vat_amount_dc, theirs.vat_amount, rate),
    )


def _shown_or_converted(shown: Decimal | None, amount: Decimal, rate: Decimal) -> Decimal:
    return shown if shown is not None else in_administration_currency(amount, rate)


def differing_figures(ours: pd.DataFrame, exacts: pd.DataFrame) -> pd.DataFrame:
    """The figures (report, key, rate) whose net or VAT differ between the two tables."""
    keys = ["report", "key", "rate"]
    merged = ours.merge(exacts, on=keys, how="outer", suffixes=("", "_exact")).fillna(0)
    merged = merged.astype(
        {
            column: "int64"
            for column in ("net_cents", "vat_cents", "net_cents_exact", "vat_cents_exact")
        }
    )
    differs = (merged["net_cents"] != merged["net_cents_exact"]) | (
        merged["vat_cents"] != merged["vat_cents_exact"]
    )
    return merged[differs].reset_index(drop=True)


# --- periods ----------------------------------------------------------------------------------


def period_months(kind: Literal["quarter", "month"]) -> int:
    return 3 if kind == "quarter" else 1


def period_starting(first: date, kind: Literal["quarter", "month"]) -> Period:
    """The quarter or month that begins on `first` (a partition key's day)."""
    months = period_months(kind)
    if first.day != 1 or (first.month - 1) % months:
        raise ValueError(f"{first} does not begin a {kind}")
    following = next_period_start(first, kind)
    label = (
        f"{first.year}-Q{(first.month - 1) // 3 + 1}"
        if kind == "quarter"
        else f"{first.year}-{first.month:02d}"
    )
    return Period(first, date.fromordinal(following.toordinal() - 1), label)


def period_start(day: date, kind: Literal["quarter", "month"]) -> date:
    """The first day of the quarter or month holding `day`."""
    months = period_months(kind)
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def next_period_start(day: date, kind: Literal["quarter", "month"]) -> date:
    """The first day of the quarter or month after the one holding `day`."""
    start = period_start(day, kind)
    month = start.month + period_months(kind)
    return date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


_TITLES: Mapping[ReportName, str] = {
    "nl_return": "Dutch VAT return (aangifte omzetbelasting), sales rubrieken",
    "oss": "OSS declaration (Unieregeling), per member state and rate",
    "icp": "ICP listing (opgaaf intracommunautaire prestaties), per VAT number",
}


def figures_text(table: pd.DataFrame, period: Period) -> str:
    """The three reports as aligned text for a terminal."""
    out = [f"VAT figures {period.first} to {period.last}: a preparation to check, not a filing."]
    for report in ("nl_return", "oss", "icp"):
        rows = table[table["report"] == report]
        out += ["", _TITLES[report]]
        if rows.empty:
            out.append("  nothing in this period")
            continue
        for _, key, rate, net, vat in rows.itertuples(index=False):
            label = f"{key} {RUBRIEK_TITLES[key]}" if report == "nl_return" else key
            shown_rate = f"{rate}%" if rate else ""
            out.append(f"  {label:<64} {shown_rate:>6} {cents_text(net):>13} {cents_text(vat):>12}")
    return "\n".join(out)
