"""Cells of the spreadsheets the app writes (CSV and XLSX), safe to open in a spreadsheet program.

Text that a spreadsheet program would read as a formula — starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return, or their full-width forms ``＝ ＋ － ＠`` that some programs fold to ASCII — is written as
inert text: in CSV with a leading apostrophe (the one escape every program honours), in XLSX as a text cell
with Excel's "quote prefix" (the value stays as it is, the program will not evaluate it, not even after an
edit). Numbers stay numbers: a negative correction of -1.5 is a number in both.

Every CSV and XLSX the app writes goes through :func:`csv_bytes` or :func:`xlsx_row`. Imports no domain.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def formula_like(value: Any) -> bool:
    """Whether ``value`` is text a spreadsheet program would execute as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def safe_cell(value: Any) -> Any:
    """``value`` for a CSV cell: formula-like text gets a leading apostrophe; anything else is unchanged."""
    return "'" + value if formula_like(value) else value


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """``rows`` as UTF-8 CSV with a BOM (so spreadsheet programs open Chinese correctly), every cell through
    :func:`safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_row(ws: Any, values: Sequence[Any]) -> list[Any]:
    """``values`` ready for ``ws.append`` (an openpyxl worksheet, normal or write-only): formula-like text as a
    quote-prefixed text cell, anything else unchanged."""
    from openpyxl.cell import WriteOnlyCell  # openpyxl is already loaded by whoever builds the workbook

    row: list[Any] = []
    for value in values:
        if formula_like(value):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"  # openpyxl would take text starting with "=" for a formula
            cell.quotePrefix = True
            row.append(cell)
        else:
            row.append(value)
    return row
