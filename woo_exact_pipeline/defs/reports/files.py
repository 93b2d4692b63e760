"""The files the accountant opens: the VAT figures as CSV (report,key,rate,net,vat) and as a
workbook with a sheet per report, amounts as exact numbers with two decimals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from sqlalchemy.engine import make_url

from woo_exact_pipeline.bookkeeping.money import CENT
from woo_exact_pipeline.bookkeeping.vat_reports import RUBRIEK_TITLES, ReportName, figures_csv
from woo_exact_pipeline.config import SyncConfig

DEFAULT_FOLDER = Path(".woo_exact") / "reports"
SHEET_TITLES: dict[ReportName, str] = {"nl_return": "NL return", "oss": "OSS", "icp": "ICP"}
_HEADERS: dict[ReportName, list[str]] = {
    "nl_return": ["rubriek", "description", "rate %", "net", "VAT"],
    "oss": ["member state", "rate %", "net", "VAT"],
    "icp": ["country code", "VAT number", "net"],
}


def report_folder(settings: SyncConfig, database_url: str) -> Path:
    """reports.folder, else reports/ next to a SQLite database file, else .woo_exact/reports."""
    if settings.reports.folder:
        return Path(settings.reports.folder)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).parent / "reports"
    return DEFAULT_FOLDER


def file_stem(settings: SyncConfig, period_label: str, what: str) -> str:
    """e.g. fietsen_2026-Q4_vat_return; the shop's name first when it has one."""
    shop = f"{settings.name}_" if settings.name else ""
    return f"{shop}{period_label}_{what}"


def write_csv(path: Path, table: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(figures_csv(table), encoding="utf-8")
    return path


def write_workbook(path: Path, table: pd.DataFrame, reports: Sequence[ReportName]) -> Path:
    """A sheet for each of `reports` with its rows of `table` (a `figures` table)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for report in reports:
        rows = table[table["report"] == report]
        sheet = workbook.create_sheet(SHEET_TITLES[report])
        sheet.append(_HEADERS[report])
        for _, key, rate, net, vat in rows.itertuples(index=False):
            sheet.append(_sheet_row(report, key, rate, _money(net), _money(vat)))
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "0.00"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _sheet_row(report: str, key: str, rate: str, net: Decimal, vat: Decimal) -> list[object]:
    if report == "nl_return":
        return [key, RUBRIEK_TITLES[key], Decimal(rate), net, vat]
    if report == "oss":
        return [key, Decimal(rate), net, vat]
    # The listing asks the country code apart from the number it starts with.
    return [key[:2] if key[:2].isalpha() else "", key, net]


def _money(value: int) -> Decimal:
    return (Decimal(value) * CENT).quantize(CENT)


def write_report_files(
    folder: Path, stem: str, table: pd.DataFrame, reports: Sequence[ReportName]
) -> Mapping[str, Path]:
    """The CSV and the workbook of `reports`, named `stem`.csv and `stem`.xlsx in `folder`."""
    rows = table[table["report"].isin(reports)]
    return {
        "csv": write_csv(folder / f"{stem}.csv", rows),
        "xlsx": write_workbook(folder / f"{stem}.xlsx", rows, reports),
    }
