"""The two HTML pages: the login-and-consent page and the read-only overview at `/`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from woo_exact_pipeline.sandbox.exact.division import Division

_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
    "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.2em .5em;font-size:.9em}"
    "th{background:#eef}h1{color:#e4002b}.lines td{color:#555}"
)


def consent_page(params: Mapping[str, str], error: str | None = None) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in params.items()
        if name in ("client_id", "redirect_uri", "response_type", "state", "force_login")
    )
    message = f'<p style="color:#b00">{escape(error)}</p>' if error else ""
    return (
        f"<!doctype html><html><head><title>Exact Online sandbox - sign in</title>"
        f"<style>{_STYLE}</style></head><body><h1>Exact Online (sandbox)</h1>"
        f"<p>An app asks for access to your administration.</p>{message}"
        f'<form method="post" action="/api/oauth2/auth">{hidden}'
        f'<p><label>User name <input name="username" autocomplete="username"></label></p>'
        f'<p><label>Password <input name="password" type="password"></label></p>'
        f'<p><button type="submit">Sign in and allow access</button></p></form></body></html>'
    )


def error_page(message: str) -> str:
    return (
        f"<!doctype html><html><head><title>Exact Online sandbox</title>"
        f"<style>{_STYLE}</style></head><body><h1>Exact Online (sandbox)</h1>"
        f"<p>{escape(message)}</p></body></html>"
    )


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]], css: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        f'<tr class="{css}">' + "".join(f"<td>{escape(_text(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return (
            value.strftime("%Y-%m-%d %H:%M") if value.hour or value.minute else f"{value:%Y-%m-%d}"
        )
    return str(value)


#: Exact's page that shows one document, by its address: the store and the key parameter
#: (`?_Division_=...&EntryID=%7b<GUID>%7d`, braces optional).
DOCUMENT_PAGES = {
    "FinEntrySales.aspx": ("salesentry/SalesEntries", "EntryID"),
    "SlsInvoice.aspx": ("salesinvoice/SalesInvoices", "InvoiceID"),
    "SlsSalesOrder.aspx": ("salesorder/SalesOrders", "OrderID"),
}


class _Names:
    """What a page shows instead of GUIDs: customer names, G/L and item codes."""

    def __init__(self, division: Division) -> None:
        stores = division.stores
        self.customers = {a["ID"]: a["Name"] for a in stores["crm/Accounts"].records}
        self.gl_codes = {g["ID"]: g["Code"] for g in stores["financial/GLAccounts"].records}
        self.items = {i["ID"]: i["Code"] for i in stores["logistics/Items"].records}


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _entry_html(entry: Mapping[str, Any], names: _Names) -> str:
    return _table(
        ["Entry", "Journal", "Type", "Date", "Customer", "YourRef", "Amount", "VAT"],
        [
            [
                entry["EntryNumber"],
                entry["Journal"],
                entry["Type"],
                entry["EntryDate"],
                names.customers.get(entry["Customer"]),
                entry.get("YourRef"),
                entry["AmountFC"],
                entry["VATAmountFC"],
            ]
        ],
    ) + _table(
        ["#", "G/L", "Description", "Amount", "VAT code", "VAT"],
        [
            [
                li["LineNumber"],
                names.gl_codes.get(li["GLAccount"]),
                li.get("Description"),
                li["AmountFC"],
                li["VATCode"],
                li["VATAmountFC"],
            ]
            for li in entry["SalesEntryLines"]
        ],
        "lines",
    )


def _item_lines_html(lines: Iterable[Mapping[str, Any]], names: _Names) -> str:
    return _table(
        ["#", "Item", "Quantity", "Price", "Amount", "VAT code", "VAT"],
        [
            [
                li["LineNumber"],
                names.items.get(li["Item"]),
                li["Quantity"],
                li["UnitPrice"],
                li["AmountFC"],
                li["VATCode"],
                li.get("VATAmountFC", li.get("VATAmount")),  # invoice lines / order lines
            ]
            for li in lines
        ],
        "lines",
    )


def _invoice_html(invoice: Mapping[str, Any], names: _Names) -> str:
    return _table(
        ["Invoice", "Status", "Type", "Date", "Customer", "YourRef", "Amount", "VAT"],
        [
            [
                invoice.get("InvoiceNumber"),
                invoice["Status"],
                invoice["Type"],
                invoice.get("InvoiceDate"),
                names.customers.get(invoice["OrderedBy"]),
                invoice.get("YourRef"),
                invoice["AmountFC"],
                invoice["VATAmountFC"],
            ]
        ],
    ) + _item_lines_html(invoice["SalesInvoiceLines"], names)


def _order_html(order: Mapping[str, Any], names: _Names) -> str:
    return _table(
        ["Order", "Status", "Date", "Customer", "YourRef", "Amount", "VAT"],
        [
            [
                order["OrderNumber"],
                order["Status"],
                order["OrderDate"],
                names.customers.get(order["OrderedBy"]),
                order.get("YourRef"),
                order["AmountFC"],
                order["VATAmountFC"],
            ]
        ],
    ) + _item_lines_html(order["SalesOrderLines"], names)


_RENDERERS = {
    "salesentry/SalesEntries": ("Sales entry", _entry_html),
    "salesinvoice/SalesInvoices": ("Sales invoice", _invoice_html),
    "salesorder/SalesOrders": ("Sales order", _order_html),
}


def document_page(division: Division, page: str, params: Mapping[str, str]) -> str | None:
    """One entry, invoice or order with its lines, as Exact shows it at its own address;
    None when the page, the administration or the document is unknown."""
    store_name, key = DOCUMENT_PAGES.get(page, ("", ""))
    if not store_name or params.get("_Division_") != str(division.code):
        return None
    document_id = params.get(key, "").strip().strip("{}").lower()
    with division.lock:
        document = division.stores[store_name].get(document_id)
        if document is None:
            return None
        title, render = _RENDERERS[store_name]
        body = (
            f"<h1>Exact Online sandbox</h1><h2>{title} in division {division.code}</h2>"
            f'{render(document, _Names(division))}<p><a href="/">All bookings</a></p>'
        )
    return _page(f"Exact Online sandbox - {title}", body)


def overview_page(division: Division, *, limit: int = 200) -> str:
    """What landed, as a bookkeeper would look it up in Exact; the newest `limit` bookings."""
    with division.lock:
        stores = division.stores
        accounts = stores["crm/Accounts"].records
        names = _Names(division)
        parts = [
            f"<h1>Exact Online sandbox</h1><h2>Division {division.code}: "
            f"{escape(str(division.facts.get('Description', '')))}</h2>",
        ]
        entries = stores["salesentry/SalesEntries"].records
        parts.append(f"<h3>Sales entries ({len(entries)})</h3>")
        parts += [_entry_html(entry, names) for entry in entries[-limit:]]
        invoices = stores["salesinvoice/SalesInvoices"].records
        parts.append(f"<h3>Sales invoices ({len(invoices)})</h3>")
        parts += [_invoice_html(invoice, names) for invoice in invoices[-limit:]]
        orders = stores["salesorder/SalesOrders"].records
        parts.append(f"<h3>Sales orders ({len(orders)})</h3>")
        parts.append(
            _table(
                ["Order", "Date", "Customer", "YourRef", "Amount"],
                [
                    [
                        o["OrderNumber"],
                        o["OrderDate"],
                        names.customers.get(o["OrderedBy"]),
                        o.get("YourRef"),
                        o["AmountFC"],
                    ]
                    for o in orders[-limit:]
                ],
            )
        )
        parts.append(f"<h3>E-mails that would have been sent ({len(division.outbox)})</h3>")
        parts.append(
            _table(
                ["To", "Subject", "At"],
                [[m.to, m.subject, m.sent_at] for m in division.outbox[-limit:]],
            )
        )
        parts.append("<h3>Debtors</h3>")
        parts.append(
            _table(
                ["Code", "Name", "Status", "Country", "E-mail"],
                [
                    [
                        a["Code"].strip(),
                        a["Name"],
                        a.get("Status"),
                        a.get("Country"),
                        a.get("Email"),
                    ]
                    for a in accounts
                ],
            )
        )
        parts.append("<h3>Items</h3>")
        parts.append(
            _table(
                ["Code", "Description", "VAT code"],
                [
                    [i["Code"], i["Description"], i.get("SalesVatCode")]
                    for i in stores["logistics/Items"].records
                ],
            )
        )
    return _page("Exact Online sandbox", "".join(parts))
