"""Links to Exact Online's own pages, so the sync log opens a booked document in Exact.

Exact addresses a record's page as `{base}/docs/<Page>.aspx?_Division_=<division>&<Key>=%7b<ID>%7d`
(its account card: `CRMAccountCard.aspx?_Division_=...&AccountID=%7b...%7d`). Exact does not
document the page of each document type: the names below follow that pattern and have been
checked against the sandbox only, which serves the same addresses.
"""

from woo_exact_pipeline.config import InsertionType

#: The page that shows one document of each insertion type, and its key parameter.
DOCUMENT_PAGES: dict[InsertionType, tuple[str, str]] = {
    "sales_entry": ("FinEntrySales.aspx", "EntryID"),
    "sales_invoice": ("SlsInvoice.aspx", "InvoiceID"),
    "direct_sales_invoice": ("SlsInvoice.aspx", "InvoiceID"),
    "sales_order": ("SlsSalesOrder.aspx", "OrderID"),
}


def document_url(base_url: str, division: int, insertion_type: InsertionType, exact_id: str) -> str:
    """The address of the page in Exact that shows the document with this GUID."""
    page, key = DOCUMENT_PAGES[insertion_type]
    return (
        f"{base_url.rstrip('/')}/docs/{page}?_Division_={division}"
        f"&{key}=%7b{exact_id.strip('{}').lower()}%7d"
    )
