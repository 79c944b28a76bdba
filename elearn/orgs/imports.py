"""Bulk import of members from CSV or XLSX: all or nothing.

Every row is checked by :func:`elearn.orgs.members.create` (with ``commit=False``) in one transaction; the
result lists each rejected row with its reasons. If any row is rejected the transaction is rolled back and
nothing is imported, so an admin fixes the file and imports it again without creating duplicates.
"""
from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from zipfile import BadZipFile

from flask_babel import gettext as _

from elearn.audit import services as audit
from elearn.errors import ServiceError, TooLarge
from elearn.extensions import db
from elearn.i18n import join_list
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import IMPORT, MEMBER_CATEGORIES

# Column headings accepted (Chinese or English) → field.
HEADINGS = {
    "username": "username", "用户名": "username",
    "name": "name", "姓名": "name",
    "password": "password", "初始密码": "password", "密码": "password",
    "organisation": "organisation", "organization": "organisation", "组织": "organisation", "所在组织": "organisation",
    "category": "category", "党员类别": "category", "类别": "category",
    "exempt": "exempt", "免予要求": "exempt", "免予学时要求": "exempt",
    "exempt_reason": "exempt_reason", "免予原因": "exempt_reason",
    "phone": "phone", "手机号": "phone", "手机": "phone",
    "email": "email", "电子邮箱": "email", "邮箱": "email",
}
REQUIRED = ("username", "name")
TRUE_WORDS = {"1", "y", "yes", "true", "是", "√", "✓"}
FALSE_WORDS = {"", "0", "n", "no", "false", "否"}


@dataclass
class RowProblem:
    row: int  # as numbered in the spreadsheet (the heading is row 1)
    username: str
    reasons: list[str]


@dataclass
class ImportResult:
    total: int = 0
    imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    # Passwords generated for rows without one: shown once to the admin, never stored in clear.
    generated_passwords: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.imported > 0


def _read_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ServiceError(_("无法识别文件编码，请保存为 UTF-8 或 GB18030 编码的 CSV。"), "bad_encoding")
    return list(csv.reader(io.StringIO(text)))


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # ~140 ms to import: only .xlsx files need it
    from openpyxl.utils.exceptions import InvalidFileException  # (openpyxl, as above)

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ServiceError(_("无法读取该 Excel 文件，请确认是 .xlsx 格式。"), "bad_xlsx") from exc
    try:
        ws = wb.worksheets[0]
        rows = []
        for values in ws.iter_rows(values_only=True):
            rows.append(["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                         for v in values])
        return rows
    finally:
        wb.close()


def read_rows(filename: str, data: bytes) -> list[list[str]]:
    """The cells of a CSV or XLSX file (by content for XLSX, which is a zip), as strings."""
    if not data:
        raise ServiceError(_("文件是空的。"), "empty_file")
    if len(data) > IMPORT.max_bytes:
        raise TooLarge(_("文件过大。"), "file_too_large")
    is_zip = data[:4] == b"PK\x03\x04"
    name = (filename or "").lower()
    if name.endswith(".xlsx") or is_zip:
        if not is_zip:
            raise ServiceError(_("无法读取该 Excel 文件，请确认是 .xlsx 格式。"), "bad_xlsx")
        return _read_xlsx(data)
    if name.endswith(".csv") or not name:
        return _read_csv(data)
    raise ServiceError(_("只支持 CSV 或 XLSX 文件。"), "bad_format")


def _generated_password() -> str:
    """Random, and always passing the password policy (letters and digits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    return ("".join(secrets.choice(alphabet) for _i in range(8))
            + "".join(secrets.choice("23456789") for _i in range(4)))


def _flag(value: str) -> bool | None:
    v = value.strip().lower()
    if v in TRUE_WORDS:
        return True
    if v in FALSE_WORDS:
        return False
    return None


def _category(value: str) -> str | None:
    v = value.strip()
    if not v:
        return "member"
    if v in MEMBER_CATEGORIES:
        return v
    for code, label in MEMBER_CATEGORIES.items():
        if v == str(label):
            return code
    return None


def import_members(actor: User, default_org: Organisation, filename: str, data: bytes) -> ImportResult:
    """Create one member per row in ``default_org`` or the row's organisation (an id, or a name unique in
    the actor's subtree). Nothing is imported unless every row is accepted."""
    orgs.require_manage(actor, default_org)
    rows = list(read_rows(filename, data))
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        raise ServiceError(_("文件是空的。"), "empty_file")
    header = [HEADINGS.get(c.strip().lower(), HEADINGS.get(c.strip())) for c in rows[0]]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise ServiceError(_("缺少必需的列：%(c)s（第一行须为列名，如 用户名、姓名）。", c=join_list(missing)),
                           "missing_columns")
    body = rows[1:]
    if len(body) > IMPORT.max_rows:
        raise ServiceError(_("一次最多导入 %(n)d 行，请拆分文件。", n=IMPORT.max_rows), "too_many_rows")

    managed = orgs.managed_orgs(actor)
    by_id = {o.id: o for o in managed}
    by_name: dict[str, list[Organisation]] = {}
    for o in managed:
        by_name.setdefault(o.name, []).append(o)

    result = ImportResult()
    usernames: list[str] = []
    for offset, cells in enumerate(body, start=2):
        if not any(c.strip() for c in cells):
            continue
        result.total += 1
        rec = {key: (cells[i].strip() if i < len(cells) else "") for i, key in enumerate(header) if key}
        reasons = []
        org = default_org
        if rec.get("organisation"):
            ref = rec["organisation"]
            found = by_id.get(int(ref)) if ref.isdigit() else None
            if found is None:
                named = by_name.get(ref, [])
                found = named[0] if len(named) == 1 else None
                if len(named) > 1:
                    reasons.append(_("组织名称“%(o)s”不唯一，请填写组织编号。", o=ref))
            if found is None and not reasons:
                reasons.append(_("组织“%(o)s”不存在或不在您的管理范围内。", o=ref))
            org = found or default_org
        category = _category(rec.get("category", ""))
        if category is None:
            reasons.append(_("未知的党员类别“%(c)s”。", c=rec.get("category")))
        exempt = _flag(rec.get("exempt", ""))
        if exempt is None:
            reasons.append(_("“免予要求”须填 是 或 否。"))
        password = rec.get("password") or ""
        generated = not password
        if generated:
            password = _generated_password()
        if not reasons:
            assert category is not None, "an unknown category is one of the reasons"
            try:
                users.create(actor, username=rec.get("username", ""), name=rec.get("name", ""), password=password,
                             organisation=org, category=category, exempt=bool(exempt),
                             exempt_reason=rec.get("exempt_reason") or None, phone=rec.get("phone") or None,
                             email=rec.get("email") or None, commit=False)
            except ServiceError as exc:
                reasons.append(exc.message)
            else:
                usernames.append(rec["username"])
                if generated:
                    result.generated_passwords.append((rec["username"], password))
        if reasons:
            result.problems.append(RowProblem(row=offset, username=rec.get("username", ""), reasons=reasons))
    if result.problems or result.total == 0:
        db.session.rollback()
        result.generated_passwords = []
        if result.total == 0:
            raise ServiceError(_("文件中没有数据行。"), "no_rows")
        return result
    result.imported = result.total
    audit.record(actor, "user.import", default_org,
                 after={"rows": result.total, "file": (filename or "")[:200],
                        "usernames": usernames})
    db.session.commit()
    return result


def template_csv() -> bytes:
    """A CSV with the expected headings and one example row, for admins to fill in."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["用户名", "姓名", "初始密码", "所在组织", "党员类别", "免予要求", "免予原因", "手机号", "电子邮箱"])
    w.writerow(["zhangsan", "张三", "", "", str(MEMBER_CATEGORIES["member"]), "否", "", "", ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


