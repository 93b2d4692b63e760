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


def overview_page(division: Division, *, limit: int = 200) -> str:
    """What landed, as a bookkeeper would look it up in Exact; the newest `limit` bookings."""
    with division.lock:
        stores = division.stores
        accounts = stores["crm/Accounts"].records
        names = {a["ID"]: a["Name"] for a in accounts}
        gl_codes = {g["ID"]: g["Code"] for g in stores["financial/GLAccounts"].records}
        items = {i["ID"]: i["Code"] for i in stores["logistics/Items"].records}
        parts = [
            f"<h1>Exact Online sandbox</h1><h2>Division {division.code}: "
            f"{escape(str(division.facts.get('Description', '')))}</h2>",
        ]
        entries = stores["salesentry/SalesEntries"].records
        parts.append(f"<h3>Sales entries ({len(entries)})</h3>")
        for entry in entries[-limit:]:
            parts.append(
                _table(
                    ["Entry", "Journal", "Type", "Date", "Customer", "YourRef", "Amount", "VAT"],
                    [
                        [
                            entry["EntryNumber"],
                            entry["Journal"],
                            entry["Type"],
                            entry["EntryDate"],
                            names.get(entry["Customer"]),
                            entry.get("YourRef"),
                            entry["AmountFC"],
                            entry["VATAmountFC"],
                        ]
                    ],
                )
                + _table(
                    ["#", "G/L", "Description", "Amount", "VAT code", "VAT"],
                    [
                        [
                            li["LineNumber"],
                            gl_codes.get(li["GLAccount"]),
                            li.get("Description"),
                            li["AmountFC"],
                            li["VATCode"],
                            li["VATAmountFC"],
                        ]
                        for li in entry["SalesEntryLines"]
                    ],
                    "lines",
                )
            )
        invoices = stores["salesinvoice/SalesInvoices"].records
        parts.append(f"<h3>Sales invoices ({len(invoices)})</h3>")
        for invoice in invoices[-limit:]:
            parts.append(
                _table(
                    ["Invoice", "Status", "Type", "Date", "Customer", "YourRef", "Amount", "VAT"],
                    [
                        [
                            invoice.get("InvoiceNumber"),
                            invoice["Status"],
                            invoice["Type"],
                            invoice.get("InvoiceDate"),
                            names.get(invoice["OrderedBy"]),
                            invoice.get("YourRef"),
                            invoice["AmountFC"],
                            invoice["VATAmountFC"],
                        ]
                    ],
                )
                + _table(
                    ["#", "Item", "Quantity", "Price", "Amount", "VAT code", "VAT"],
                    [
                        [
                            li["LineNumber"],
                            items.get(li["Item"]),
                            li["Quantity"],
                            li["UnitPrice"],
                            li["AmountFC"],
                            li["VATCode"],
                            li["VATAmountFC"],
                        ]
                        for li in invoice["SalesInvoiceLines"]
                    ],
                    "lines",
                )
            )
        orders = stores["salesorder/SalesOrders"].records
        parts.append(f"<h3>Sales orders ({len(orders)})</h3>")
        parts.append(
            _table(
                ["Order", "Date", "Customer", "YourRef", "Amount"],
                [
                    [
                        o["OrderNumber"],
                        o["OrderDate"],
                        names.get(o["OrderedBy"]),
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
    return (
        f"<!doctype html><html><head><title>Exact Online sandbox</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )
