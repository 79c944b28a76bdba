"""Member-import benchmark: what an oversized spreadsheet costs the server before it is refused.

Writes an XLSX of 300,000 identical data rows (about 100 KB: the sheet's 29 MB of XML repeat one row, which
deflate compresses to almost nothing; built by hand, as an attacker would, not by a spreadsheet program) and
times ``elearn.orgs.imports.import_members`` on it, which must refuse it (more than policy.IMPORT.max_rows
rows) — CPU and wall time, median of a few runs. Also times a file at the limit that is refused for its rows'
faults (500 rows, each with a bad phone number: no password is hashed), and one just over the limit in rows but
small in content (read row by row until the row too many), and 500 valid rows imported with generated initial
passwords.

    python benchmarks/bench_import.py                  # 300,000 rows
    python benchmarks/bench_import.py --rows 1000000   # a bigger one
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RUNS = 3


def xlsx(rows: list[list[str]]) -> bytes:
    """A workbook as a spreadsheet program writes it (openpyxl)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("members")
    ws.append(["用户名", "姓名", "手机号"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def repeated_row_xlsx(rows: int) -> bytes:
    """The smallest workbook with a heading and ``rows`` copies of one data row (no row numbers, inline
    strings), compressed as hard as deflate can."""
    ns = "http://schemas.openxmlformats.org/"
    parts = {
        "[Content_Types].xml":
            f'<Types xmlns="{ns}package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels":
            f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml":
            f'<workbook xmlns="{ns}spreadsheetml/2006/main" xmlns:r="{ns}officeDocument/2006/relationships">'
            f'<sheets><sheet name="members" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{ns}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }

    def row(*texts: str) -> str:
        return "<row>" + "".join(f'<c t="inlineStr"><is><t>{t}</t></is></c>' for t in texts) + "</row>"

    sheet = (f'<worksheet xmlns="{ns}spreadsheetml/2006/main"><sheetData>' + row("用户名", "姓名")
             + row("zhang", "张三") * rows + "</sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def timed(fn, runs: int = RUNS) -> tuple[float, float, object]:
    """Median CPU seconds, median wall seconds, and the last result (or the exception raised)."""
    cpu, wall, result = [], [], None
    for _i in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            result = fn()
        except Exception as exc:  # the refusal is the expected outcome
            result = exc
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-import-")
    os.environ["ELEARN_INSTANCE"] = tmp
    from elearn import create_app
    from elearn.extensions import db
    from elearn.orgs import imports
    from elearn.orgs import services as orgs
    from elearn.orgs.models import User
    from elearn.policy import IMPORT

    app = create_app({"INSTANCE_PATH": tmp, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db"})
    with app.app_context():
        db.create_all()
        org = orgs.create(None, name="镇党委", kind="committee", sector="rural")
        admin = User(username="admin", name="管理员", password_hash="x", role="site_admin", organisation=org)
        db.session.add(admin)
        db.session.commit()

        big = repeated_row_xlsx(args.rows)
        cpu, wall, result = timed(lambda: imports.import_members(admin, org, "big.xlsx", big))
        print(f"oversized XLSX: {args.rows:,} rows in {len(big) / 1024:.0f} KiB (limit {IMPORT.max_rows} rows): "
              f"CPU {cpu:.3f} s, wall {wall:.3f} s (median of {RUNS}) — {_outcome(result)}")

        over = repeated_row_xlsx(IMPORT.max_rows + 100)
        cpu, wall, result = timed(lambda: imports.import_members(admin, org, "over.xlsx", over))
        print(f"XLSX of {IMPORT.max_rows + 100} rows ({len(over) / 1024:.0f} KiB), read until the row too many: "
              f"CPU {cpu:.3f} s, wall {wall:.3f} s — {_outcome(result)}")

        faulty = xlsx([[f"user{i:04d}", f"党员{i}", "12345"] for i in range(IMPORT.max_rows)])
        cpu, wall, result = timed(lambda: imports.import_members(admin, org, "faulty.xlsx", faulty))
        print(f"XLSX at the limit, {IMPORT.max_rows} rows with a bad phone number each, {len(faulty) / 1024:.0f} KiB: "
              f"CPU {cpu:.3f} s, wall {wall:.3f} s — {_outcome(result)}")

        good = xlsx([[f"good{i:04d}", f"党员{i}", f"1380013{i:04d}"] for i in range(IMPORT.max_rows)])
        cpu, wall, result = timed(lambda: imports.import_members(admin, org, "good.xlsx", good), runs=1)
        print(f"XLSX at the limit, {IMPORT.max_rows} valid rows, initial passwords generated (light argon2id): "
              f"CPU {cpu:.3f} s, wall {wall:.3f} s — {_outcome(result)}")


def _outcome(result) -> str:
    code = getattr(result, "code", None)
    if code:
        return f"refused: {code}"
    problems = getattr(result, "problems", None)
    if problems is not None:
        return f"{len(problems)} rows listed with their faults, {result.imported} imported"
    return repr(result)


if __name__ == "__main__":
    main()
