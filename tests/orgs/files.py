"""Spreadsheets for the import tests: as a spreadsheet program writes them, and as an attacker builds them."""
from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

NS = "http://schemas.openxmlformats.org/"


def xlsx(rows) -> bytes:
    """A workbook written by openpyxl, one sheet of ``rows``."""
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def handmade_xlsx(sheet_data: str, dimension: str | None = None) -> bytes:
    """The smallest workbook openpyxl opens, its one sheet's ``<sheetData>`` being ``sheet_data`` (XML), with a
    ``<dimension ref="…">`` if given, compressed as hard as deflate can."""
    claimed = f'<dimension ref="{dimension}"/>' if dimension else ""
    parts = {
        "[Content_Types].xml":
            f'<Types xmlns="{NS}package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels":
            f'<Relationships xmlns="{NS}package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{NS}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml":
            f'<workbook xmlns="{NS}spreadsheetml/2006/main" xmlns:r="{NS}officeDocument/2006/relationships">'
            '<sheets><sheet name="members" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<Relationships xmlns="{NS}package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{NS}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml":
            f'<worksheet xmlns="{NS}spreadsheetml/2006/main">{claimed}<sheetData>{sheet_data}</sheetData></worksheet>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


def row_xml(*texts: str, r: int | None = None) -> str:
    """A sheet row of inline-string cells (numbered ``r``, or following the one before)."""
    number = f' r="{r}"' if r is not None else ""
    return f"<row{number}>" + "".join(f'<c t="inlineStr"><is><t>{t}</t></is></c>' for t in texts) + "</row>"
