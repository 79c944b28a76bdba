"""Cells of the spreadsheets the app writes (CSV and XLSX), safe to open in a spreadsheet program.

Text that a spreadsheet program would read as a formula — starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return, or their full-width forms ``＝ ＋ － ＠`` that some programs fold to ASCII — is written as
inert text: in CSV with a leading apostrophe (the one escape every program honours), in XLSX as a text cell
with Excel's "quote prefix" (the value stays as it is, the program will not evaluate it, not even after an
edit). Numbers stay numbers: a negative correction of -1.5 is a number in both.

Every CSV and XLSX the app writes goes through :func:`csv_bytes` or :func:`xlsx_row`. Uploaded XLSX files are
read by :func:`read_xlsx`: told by their bytes (a zip), measured before openpyxl parses them, read row by row
and stopped at the first row beyond the caller's limit. Imports no domain.
"""
from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zipfile import BadZipFile, ZipFile

from flask_babel import gettext as _

from elearn.errors import ServiceError

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


# ---------------------------------------------------------------- reading uploaded workbooks

ZIP_MAGIC = b"PK\x03\x04"  # an XLSX is a zip
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc)
XLSX_LAST_ROW = 1_048_576  # rows numbered beyond Excel's last cannot come from a spreadsheet program
# What openpyxl and zipfile raise for a damaged or hostile file (lxml's and ElementTree's parse errors are
# SyntaxErrors, a bad UTF-8 sequence a ValueError).
_XLSX_FAULTS = (BadZipFile, zlib.error, EOFError, OSError, KeyError, IndexError, TypeError, ValueError, SyntaxError)


@dataclass(frozen=True)
class XlsxLimits:
    max_rows: int  # data rows (after the heading)
    max_columns: int
    max_unpacked_bytes: int  # the XML parts' sizes as the zip declares them
    max_tags: int  # "<" counted while unpacking the XML parts


@dataclass
class UploadedSheet:
    """The first worksheet's heading row and its non-blank data rows, as stripped strings."""

    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the spreadsheet program shows it, cells)


def cell_text(value: Any) -> str:
    """A cell as text: a whole number typed into a spreadsheet (a float) without its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _unreadable() -> ServiceError:
    return ServiceError(_("无法读取该 Excel 文件，请确认是 .xlsx 格式。"), "bad_xlsx")


def _measure(archive: ZipFile, limits: XlsxLimits) -> None:
    parts = [info for info in archive.infolist() if info.filename.endswith((".xml", ".rels"))]
    too_much = ServiceError(_("该 Excel 文件内容过多（一次最多导入 %(n)d 行）："
                              "请只保留要导入的工作表和行，或拆分文件。", n=limits.max_rows), "xlsx_too_large")
    if sum(info.file_size for info in parts) > limits.max_unpacked_bytes:
        raise too_much
    tags = 0
    for info in parts:
        with archive.open(info) as part:
            while chunk := part.read(1 << 16):
                tags += chunk.count(b"<")
                if tags > limits.max_tags:
                    raise too_much


def read_xlsx(data: bytes, limits: XlsxLimits) -> UploadedSheet:
    """The heading and the non-blank data rows of the first worksheet of the XLSX ``data``.

    The file is told by its bytes, whatever its name: not a zip is refused (an old .xls with its own message);
    its XML is measured before openpyxl parses any of it; rows are read in streaming mode and reading stops at
    the first data row beyond ``limits.max_rows``.

    Raises:
        ServiceError: empty, not an XLSX, damaged, too large once unpacked (``xlsx_too_large``), no worksheet,
            wider than ``limits.max_columns`` (``too_many_columns``) or longer than ``limits.max_rows``
            (``too_many_rows``).
    """
    if not data:
        raise ServiceError(_("文件是空的。"), "empty_file")
    if data.startswith(OLE_MAGIC):
        raise ServiceError(_("这是旧版 Excel（.xls）文件：请在表格程序中另存为 .xlsx 后重新上传。"), "bad_xlsx")
    if not data.startswith(ZIP_MAGIC):
        raise ServiceError(_("该文件不是 Excel（.xlsx）文件。"), "bad_xlsx")
    from openpyxl import load_workbook  # ~140 ms to import: only uploads need it
    from openpyxl.utils.exceptions import InvalidFileException  # (openpyxl, as above)

    try:
        with ZipFile(io.BytesIO(data)) as archive:
            _measure(archive, limits)
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, *_XLSX_FAULTS) as exc:
        raise _unreadable() from exc
    try:
        if not wb.worksheets:
            raise ServiceError(_("该 Excel 文件中没有工作表。"), "bad_xlsx")
        ws = wb.worksheets[0]
        # Rows as the sheet holds them, not as its <dimension> claims (A1:A1 would hide rows, A1:XFD1048576
        # pad every row to 16,384 cells).
        ws.reset_dimensions()
        header = [cell_text(v) for v in next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())]
        while header and not header[-1]:
            header.pop()
        if len(header) > limits.max_columns:
            raise ServiceError(_("第一行最多 %(n)d 列，请删除多余的列。", n=limits.max_columns), "too_many_columns")
        body: list[tuple[int, list[str]]] = []
        for number, values in enumerate(ws.iter_rows(min_row=2, max_row=XLSX_LAST_ROW,
                                                     max_col=max(len(header), 1), values_only=True), start=2):
            cells = [cell_text(v) for v in values]
            if any(cells):
                if len(body) == limits.max_rows:
                    raise ServiceError(_("一次最多导入 %(n)d 行，请拆分文件。", n=limits.max_rows), "too_many_rows")
                body.append((number, cells))
        return UploadedSheet(header, body)
    except _XLSX_FAULTS as exc:
        raise _unreadable() from exc
    finally:
        wb.close()
