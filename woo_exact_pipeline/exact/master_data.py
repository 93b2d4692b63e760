"""Exact's master data (journals, VAT codes, ledgers, items, debtors), cached in the sync
database so a load spends its API calls on bookings, and checked against sync.yaml."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from woo_exact_pipeline.bookkeeping import ExactReferenceData, normalise_email
from woo_exact_pipeline.config import SyncConfig
from woo_exact_pipeline.exact import reference
from woo_exact_pipeline.exact.client import ExactClient
from woo_exact_pipeline.exact.periods import FinancialPeriod, financial_periods
from woo_exact_pipeline.exact.reference import (
    Debtor,
    GlAccount,
    Item,
    Journal,
    VatCode,
    Warehouse,
)
from woo_exact_pipeline.store.schema import exact_reference

SALES_JOURNAL_TYPE = 20
REVENUE_ACCOUNT_TYPE = 110
PENDING_DEBTOR = "pending:"

_KINDS: dict[str, type] = {
    "journal": Journal,
    "vat_code": VatCode,
    "gl_account": GlAccount,
    "item": Item,
    "debtor": Debtor,
    "warehouse": Warehouse,
    "period": FinancialPeriod,
}


@dataclass
class MasterData:
    """One administration's master data, keyed by trimmed code."""

    division: int
    journals: dict[str, Journal] = field(default_factory=dict)
    vat_codes: dict[str, VatCode] = field(default_factory=dict)
    gl_accounts: dict[str, GlAccount] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    debtors: dict[str, Debtor] = field(default_factory=dict)
    warehouses: dict[str, Warehouse] = field(default_factory=dict)
    #: Financial periods by "2026-10", with the journals that closed them.
    periods: dict[str, FinancialPeriod] = field(default_factory=dict)
    #: E-mails of debtors whose creation was sent but not confirmed (a crash, a lost answer).
    pending_debtor_emails: set[str] = field(default_factory=set)
    fetched_at: datetime | None = None

    def debtor_by_email(self, email: str) -> Debtor | None:
        wanted = normalise_email(email)
        return next(
            (d for d in self.debtors.values() if d.email and normalise_email(d.email) == wanted),
            None,
        )

    def gl_code_of(self, account_id: str | None) -> str | None:
        return next((a.code for a in self.gl_accounts.values() if a.id == account_id), None)

    def for_bookkeeping(self) -> ExactReferenceData:
        """What the transform needs to know: each item's own revenue account."""
        return ExactReferenceData(
            item_revenue_gl={
                code: gl
                for code, item in self.items.items()
                if (gl := self.gl_code_of(item.gl_revenue_id))
            }
        )


def fetch_master_data(client: ExactClient) -> MasterData:
    """Everything, in as few calls as Exact allows (bulk pages of 1,000 where it has them)."""
    return MasterData(
        division=client.division,
        journals={j.code: j for j in reference.journals(client)},
        vat_codes={v.code: v for v in reference.vat_codes(client)},
        gl_accounts={a.code: a for a in reference.gl_accounts(client)},
        items={i.code: i for i in reference.items(client)},
        debtors={d.code: d for d in reference.debtors(client)},
        warehouses={w.code: w for w in reference.warehouses(client)},
        periods={p.code: p for p in financial_periods(client)},
        fetched_at=datetime.now(UTC),
    )


def current_master_data(client: ExactClient, engine: Engine, max_age_hours: float) -> MasterData:
    """The cached master data, read from Exact again when older than `max_age_hours`."""
    cached = load_master_data(engine, client.division)
    age_limit = timedelta(hours=max_age_hours)
    if cached.fetched_at is not None and datetime.now(UTC) - cached.fetched_at < age_limit:
        return cached
    return refresh_master_data(client, engine, cached)


def refresh_master_data(client: ExactClient, engine: Engine, previous: MasterData) -> MasterData:
    """Read everything from Exact again and cache it; debtors being created stay pending."""
    fresh = fetch_master_data(client)
    fresh.pending_debtor_emails = previous.pending_debtor_emails
    save_master_data(engine, fresh)
    return fresh


def save_master_data(engine: Engine, data: MasterData) -> None:
    """Replace the cached master data of the administration (pending debtors stay)."""
    fetched_at = data.fetched_at or datetime.now(UTC)
    rows = [
        _row(data.division, kind, record, fetched_at)
        for kind, records in (
            ("journal", data.journals.values()),
            ("vat_code", data.vat_codes.values()),
            ("gl_account", data.gl_accounts.values()),
            ("item", data.items.values()),
            ("debtor", data.debtors.values()),
            ("warehouse", data.warehouses.values()),
            ("period", data.periods.values()),
        )
        for record in records
    ]
    with engine.begin() as connection:
        connection.execute(
            delete(exact_reference).where(
                exact_reference.c.division == data.division,
                ~exact_reference.c.code.startswith(PENDING_DEBTOR),
            )
        )
        for start in range(0, len(rows), 500):
            connection.execute(insert(exact_reference), rows[start : start + 500])


def load_master_data(engine: Engine, division: int) -> MasterData:
    """The cached master data; `fetched_at` is None when nothing was ever fetched."""
    data = MasterData(division=division)
    with engine.connect() as connection:
        for kind, code, email, payload, fetched_at in connection.execute(
            select(
                exact_reference.c.kind,
                exact_reference.c.code,
                exact_reference.c.email,
                exact_reference.c.data,
                exact_reference.c.fetched_at,
            ).where(exact_reference.c.division == division)
        ):
            if code.startswith(PENDING_DEBTOR):
                data.pending_debtor_emails.add(email)
                continue
            record = _KINDS[kind](**_decoded(kind, payload))
            getattr(data, _ATTRIBUTE[kind])[code] = record
            fetched = fetched_at if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)
            data.fetched_at = min(data.fetched_at or fetched, fetched)
    return data


def remember(engine: Engine, division: int, kind: str, record: Any) -> None:
    """Add one record created during a load (a new debtor or item) to the cache."""
    with engine.begin() as connection:
        connection.execute(
            delete(exact_reference).where(
                exact_reference.c.division == division,
                exact_reference.c.kind == kind,
                exact_reference.c.code == record.code,
            )
        )
        connection.execute(
            insert(exact_reference).values(_row(division, kind, record, datetime.now(UTC)))
        )


def note_pending_debtor(engine: Engine, division: int, email: str) -> None:
    """Written before a debtor is created, so a lost answer is looked up, not created twice."""
    with engine.begin() as connection:
        connection.execute(
            delete(exact_reference).where(
                exact_reference.c.division == division,
                exact_reference.c.code == f"{PENDING_DEBTOR}{email}",
            )
        )
        connection.execute(
            insert(exact_reference).values(
                division=division,
                kind="debtor",
                code=f"{PENDING_DEBTOR}{email}",
                exact_id=None,
                email=email,
                data={},
                fetched_at=datetime.now(UTC),
            )
        )


def clear_pending_debtor(engine: Engine, division: int, email: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            delete(exact_reference).where(
                exact_reference.c.division == division,
                exact_reference.c.code == f"{PENDING_DEBTOR}{email}",
            )
        )


def settings_problems(settings: SyncConfig, data: MasterData) -> list[str]:
    """Every code in sync.yaml that the administration lacks or that has the wrong type."""
    exact = settings.exact
    problems: list[str] = []
    journal = data.journals.get(exact.sales_journal)
    if journal is None:
        problems.append(
            f"exact.sales_journal: journal {exact.sales_journal} does not exist in Exact"
        )
    elif journal.type != SALES_JOURNAL_TYPE:
        problems.append(
            f"exact.sales_journal: journal {exact.sales_journal} is not a sales journal"
        )
    for path, code in _configured_gl_accounts(settings):
        account = data.gl_accounts.get(code)
        if account is None:
            problems.append(f"{path}: GL account {code} does not exist in Exact")
        elif account.type != REVENUE_ACCOUNT_TYPE and not path.endswith("rounding_gl"):
            problems.append(f"{path}: GL account {code} is not a revenue account")
    if exact.insertion_type == "sales_entry" and exact.receivables_gl not in data.gl_accounts:
        # Only uploaded entries name it; Exact refuses a debtor line on an unknown account.
        problems.append(
            f"exact.receivables_gl: GL account {exact.receivables_gl} does not exist in Exact "
            "(the debtor line of entries booked in XML uploads)"
        )
    for path, code in _configured_vat_codes(settings):
        vat = data.vat_codes.get(code)
        if vat is None:
            problems.append(f"{path}: VAT code {code} does not exist in Exact")
        elif vat.transaction_type == "P" or vat.blocked:
            problems.append(f"{path}: VAT code {code} cannot be used on sales")
    for name, code in exact.items.model_dump().items():
        if code and code not in data.items:
            problems.append(f"exact.items.{name}: item {code} does not exist in Exact")
    if exact.insertion_type == "direct_sales_invoice":
        if exact.warehouse is None:
            problems.append("exact.warehouse: direct sales invoices need a warehouse code")
        elif exact.warehouse not in data.warehouses:
            problems.append(f"exact.warehouse: warehouse {exact.warehouse} does not exist in Exact")
    for name in ("default_debtor", "pos_debtor"):
        code = getattr(exact, name)
        if code and code not in data.debtors:
            problems.append(f"exact.{name}: debtor {code} does not exist in Exact as a customer")
    return problems


def _configured_gl_accounts(settings: SyncConfig) -> Iterable[tuple[str, str]]:
    exact = settings.exact
    for rate, code in exact.gl_mapping.domestic.items():
        yield f"exact.gl_mapping.domestic[{rate}]", code
    for name in ("reverse_charge", "export"):
        if code := getattr(exact.gl_mapping, name):
            yield f"exact.gl_mapping.{name}", code
    for name in ("pos_revenue_gl", "oss_revenue_gl", "shipping_costs_gl", "rounding_gl"):
        if code := getattr(exact, name):
            yield f"exact.{name}", code


def _configured_vat_codes(settings: SyncConfig) -> Iterable[tuple[str, str]]:
    mapping = settings.exact.vat_mapping
    for rate, code in mapping.domestic.items():
        yield f"exact.vat_mapping.domestic[{rate}]", code
    for country, rates in mapping.oss.items():
        for rate, code in rates.items():
            yield f"exact.vat_mapping.oss.{country}[{rate}]", code
    for name in ("reverse_charge", "export"):
        if code := getattr(mapping, name):
            yield f"exact.vat_mapping.{name}", code


_ATTRIBUTE = {
    "journal": "journals",
    "vat_code": "vat_codes",
    "gl_account": "gl_accounts",
    "item": "items",
    "debtor": "debtors",
    "warehouse": "warehouses",
    "period": "periods",
}


def _row(division: int, kind: str, record: Any, fetched_at: datetime) -> dict[str, Any]:
    payload = asdict(record)
    return {
        "division": division,
        "kind": kind,
        "code": record.code,
        "exact_id": record.id,
        "email": normalise_email(getattr(record, "email", None)),
        "data": {k: str(v) if isinstance(v, Decimal) else v for k, v in payload.items()},
        "fetched_at": fetched_at,
    }


def _decoded(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    if kind == "vat_code":
        return {**payload, "percentage": Decimal(payload["percentage"])}
    if kind == "period":
        return {**payload, "closed_in": tuple(payload["closed_in"])}
    return payload
