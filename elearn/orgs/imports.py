"""Bulk import of members from CSV or XLSX: all or nothing.

Every field of every row is checked (the same rules :func:`elearn.orgs.members.create` applies, and
:mod:`elearn.orgs.contacts` for phone numbers and e-mail addresses), and the result lists each rejected row
with all of its faults. Accepted rows are created with ``commit=False`` in one transaction; if any row is
rejected the transaction is rolled back and nothing is imported, so an admin fixes the file and imports it
again without creating duplicates. Once a row is rejected no further row is created (no password hashed):
the rest are only checked.

Reading stays cheap whatever the file holds: at most policy.IMPORT.max_bytes are read; an XLSX is measured
before openpyxl parses it (its unpacked size, then its XML tags counted while unpacking), then read row by row
in openpyxl's streaming mode; a CSV likewise row by row. Both stop at the first data row beyond
policy.IMPORT.max_rows: the rest of the file is never read.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from elearn import clock, spreadsheets
from elearn.audit import services as audit
from elearn.auth import passwords
from elearn.errors import Forbidden, ServiceError, TooLarge
from elearn.extensions import db
from elearn.i18n import join_list
from elearn.orgs import contacts
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
    "party_joined_on": "party_joined_on", "入党日期": "party_joined_on", "入党时间": "party_joined_on",
}
REQUIRED = ("username", "name")
TRUE_WORDS = {"1", "y", "yes", "true", "是", "√", "✓"}
FALSE_WORDS = {"", "0", "n", "no", "false", "否"}
ORG_ID = re.compile(r"[0-9]{1,10}")  # ASCII digits only: "²" and "１" are digits to str.isdigit, not to int()


Sheet = spreadsheets.UploadedSheet  # a file's heading row and its non-blank data rows, as stripped strings


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


# -- reading files ----------------------------------------------------------------------------------------------

def _heading(values: Iterable[object]) -> list[str]:
    header = [spreadsheets.cell_text(v) for v in values]
    while header and not header[-1]:
        header.pop()
    if len(header) > IMPORT.max_columns:
        raise ServiceError(_("第一行最多 %(n)d 列，请删除多余的列。", n=IMPORT.max_columns), "too_many_columns")
    return header


def _sheet(header: list[str], rows: Iterator[Sequence[object]]) -> Sheet:
    """The non-blank rows of a CSV's ``rows`` (the data rows in order, from row 2), stopping with a
    ServiceError at the first one beyond IMPORT.max_rows: the rest is never read. (An XLSX is read by
    :func:`elearn.spreadsheets.read_xlsx`, to the same rules.)"""
    body: list[tuple[int, list[str]]] = []
    for number, values in enumerate(rows, start=2):
        cells = [spreadsheets.cell_text(v) for v in values]
        if any(cells):
            if len(body) == IMPORT.max_rows:
                raise ServiceError(_("一次最多导入 %(n)d 行，请拆分文件。", n=IMPORT.max_rows), "too_many_rows")
            body.append((number, cells))
    return Sheet(header, body)


_BOMS = (  # UTF-32's little-endian mark begins with UTF-16's: look for it first
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def _csv_text(data: bytes) -> str:
    """The text of a CSV: by its byte-order mark if it has one (UTF-8, UTF-16, UTF-32), else UTF-8 or GB18030."""
    unreadable = ServiceError(_("无法识别文件编码，请保存为 UTF-8 或 GB18030 编码的 CSV。"), "bad_encoding")
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data:
        # What "Unicode text" without its byte-order mark looks like: every other byte of Latin text is zero.
        raise ServiceError(_("文件中有空字节，可能是不带 BOM 的 UTF-16 编码："
                             "请在表格程序中另存为“CSV UTF-8（逗号分隔）”后重新上传。"), "bad_encoding")
    for candidate in [encoding] if encoding else ["utf-8", "gb18030"]:
        try:
            text = data.decode(candidate)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise unreadable
    if "\x00" in text:
        raise ServiceError(_("文件中有空字符（NUL），不是文本格式的 CSV。"), "bad_encoding")
    return text


def _read_csv(data: bytes) -> Sheet:
    text = _csv_text(data)
    first_line = text.split("\n", 1)[0]
    # Spreadsheet programs save "Unicode text" separated by tabs.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return _sheet(_heading(next(reader, [])), reader)
    except csv.Error as exc:
        raise ServiceError(_("CSV 文件第 %(n)d 行无法读取，请检查引号是否成对。", n=reader.line_num),
                           "bad_csv") from exc


# An upload's workbook, read by the shared reader: measured before it is parsed, read row by row, within the
# import's limits.
_XLSX_LIMITS = spreadsheets.XlsxLimits(max_rows=IMPORT.max_rows, max_columns=IMPORT.max_columns,
                                       max_unpacked_bytes=IMPORT.xlsx_max_unpacked_bytes,
                                       max_tags=IMPORT.xlsx_max_tags)


def read_rows(filename: str, data: bytes) -> Sheet:
    """The heading and data rows of a CSV or XLSX file (by content for XLSX, which is a zip), as strings.

    Raises:
        ServiceError: the file is empty, unreadable, in an encoding it cannot tell, wider than
            IMPORT.max_columns, or longer than IMPORT.max_rows data rows (``too_many_rows``).
        TooLarge: more than IMPORT.max_bytes.
    """
    if not data:
        raise ServiceError(_("文件是空的。"), "empty_file")
    if len(data) > IMPORT.max_bytes:
        raise TooLarge(_("文件过大。"), "file_too_large")
    is_zip = data[:4] == b"PK\x03\x04"
    name = (filename or "").lower()
    if name.endswith(".xlsx") or is_zip:
        return spreadsheets.read_xlsx(data, _XLSX_LIMITS)
    if name.endswith(".csv") or not name:
        return _read_csv(data)
    raise ServiceError(_("只支持 CSV 或 XLSX 文件。"), "bad_format")


# -- checking rows ----------------------------------------------------------------------------------------------

_DATE = re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?(?:[ T]00:00(?::00)?)?")


def _party_joined_on(value: str, reasons: list[str]) -> date | None:
    """入党日期 as 2001-07-01 (or 2001/7/1, 2001.7.1, 2001年7月1日; a spreadsheet's date cell at midnight)."""
    text = value.strip()
    if not text:
        return None
    found = _DATE.fullmatch(text)
    try:
        day = date(int(found.group(1)), int(found.group(2)), int(found.group(3))) if found else None
    except ValueError:
        day = None
    if day is None or not date(1921, 7, 1) <= day <= clock.site_today():
        reasons.append(_("入党日期“%(d)s”无效：请写成 2001-07-01 这样的日期，且不晚于今天。", d=text[:20]))
        return None
    return day


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


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


@dataclass
class _Row:
    """One data row, as checked: the values to create the member with, and every fault found."""

    username: str
    name: str
    password: str
    organisation: Organisation
    category: str
    exempt: bool
    exempt_reason: str | None
    phone: str | None
    email: str | None
    party_joined_on: date | None
    reasons: list[str]


class _RowChecker:
    """Checks rows against the rules of a member, the organisations the actor manages, the accounts that exist
    and the rows before (a username twice in one file)."""

    def __init__(self, actor: User, default_org: Organisation, within: Organisation | None = None):
        self.default_org = default_org
        managed = [o for o in orgs.managed_orgs(actor) if within is None or o.is_within(within)]
        self.by_id = {o.id: o for o in managed}
        self.by_name: dict[str, list[Organisation]] = {}
        for o in managed:
            self.by_name.setdefault(o.name, []).append(o)
        self.seen: dict[str, int] = {}  # username (lower case) → its first row
        self.name_max = contacts.stored_length("name")
        self.reason_max = contacts.stored_length("exempt_reason")

    def check(self, number: int, rec: dict[str, str]) -> _Row:
        reasons: list[str] = []
        username, name = rec.get("username", ""), rec.get("name", "")
        if not users.USERNAME_RE.match(username):
            reasons.append(_("用户名须为 3–80 个字母、数字或 _.- 字符。"))
        elif username.lower() in self.seen:
            reasons.append(_("用户名 %(u)s 已存在（与第 %(r)d 行重复）。", u=username, r=self.seen[username.lower()]))
        else:
            self.seen[username.lower()] = number
            if users.by_username(username) is not None:
                reasons.append(_("用户名 %(u)s 已存在。", u=username))
        if not name:
            reasons.append(_("请填写姓名。"))
        elif len(name) > self.name_max or _has_control_characters(name):
            reasons.append(_("姓名须为不超过 %(n)d 个字符的文字。", n=self.name_max))
        password = rec.get("password", "")
        if password:
            try:
                passwords.check_policy(password, username)
            except ServiceError as exc:
                reasons.append(exc.message)
        org = self._organisation(rec.get("organisation", ""), reasons)
        category = _category(rec.get("category", ""))
        if category is None:
            reasons.append(_("未知的党员类别“%(c)s”。", c=rec.get("category")))
        exempt = _flag(rec.get("exempt", ""))
        reason = rec.get("exempt_reason", "")
        if exempt is None:
            reasons.append(_("“免予要求”须填 是 或 否。"))
        elif exempt and not reason:
            reasons.append(_("免予学时要求须注明原因。"))
        if len(reason) > self.reason_max or _has_control_characters(reason):
            reasons.append(_("免予原因须为不超过 %(n)d 个字符的文字。", n=self.reason_max))
        phone = self._contact(contacts.phone, rec.get("phone", ""), reasons)
        email = self._contact(contacts.email, rec.get("email", ""), reasons)
        joined = _party_joined_on(rec.get("party_joined_on", ""), reasons)
        return _Row(username=username, name=name, password=password, organisation=org,
                    category=category or "member", exempt=bool(exempt), exempt_reason=reason or None, phone=phone,
                    email=email, party_joined_on=joined, reasons=reasons)

    def _organisation(self, ref: str, reasons: list[str]) -> Organisation:
        """The row's organisation: an id or a name unique in the actor's subtree; the default when blank."""
        if not ref:
            return self.default_org
        found = self.by_id.get(int(ref)) if ORG_ID.fullmatch(ref) else None
        if found is not None:
            return found
        named = self.by_name.get(ref, [])
        if len(named) == 1:
            return named[0]
        if named:
            reasons.append(_("组织名称“%(o)s”不唯一，请填写组织编号。", o=ref))
        else:
            reasons.append(_("组织“%(o)s”不存在或不在您的管理范围内。", o=ref))
        return self.default_org

    @staticmethod
    def _contact(rule, value: str, reasons: list[str]) -> str | None:
        if not value:
            return None
        try:
            return rule(value)
        except ServiceError as exc:
            reasons.append(exc.message)
            return None


def import_members(actor: User, default_org: Organisation, filename: str, data: bytes, *,
                   within: Organisation | None = None) -> ImportResult:
    """Create one member per row in ``default_org`` or the row's organisation (an id, or a name unique in
    the actor's subtree, or in ``within``'s when given: an API token limited to a subtree). Nothing is
    imported unless every row is accepted.

    Raises:
        ServiceError: the file as a whole is refused (see :func:`read_rows`; missing columns, no data rows).
        Forbidden: ``actor`` does not manage ``default_org``.
    """
    orgs.require_manage(actor, default_org)
    sheet = read_rows(filename, data)
    header = [HEADINGS.get(c.lower(), HEADINGS.get(c)) for c in sheet.header]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise ServiceError(_("缺少必需的列：%(c)s（第一行须为列名，如 用户名、姓名）。", c=join_list(missing)),
                           "missing_columns")
    if not sheet.rows:
        raise ServiceError(_("文件中没有数据行。"), "no_rows")

    if within is not None and not default_org.is_within(within):
        raise Forbidden(_("您无权管理该组织。"))
    checker = _RowChecker(actor, default_org, within)
    result = ImportResult(total=len(sheet.rows))
    usernames: list[str] = []
    for number, cells in sheet.rows:
        row = checker.check(number, {key: (cells[i] if i < len(cells) else "")
                                     for i, key in enumerate(header) if key})
        if not row.reasons and not result.problems:  # once a row is rejected, nothing will be imported
            password = row.password or passwords.generate_password()
            try:
                users.create(actor, username=row.username, name=row.name, password=password,
                             organisation=row.organisation, category=row.category, exempt=row.exempt,
                             exempt_reason=row.exempt_reason, phone=row.phone, email=row.email, commit=False,
                             generated_password=not row.password, party_joined_on=row.party_joined_on)
            except ServiceError as exc:
                row.reasons.append(exc.message)
            else:
                usernames.append(row.username)
                if not row.password:
                    result.generated_passwords.append((row.username, password))
        if row.reasons:
            result.problems.append(RowProblem(row=number, username=row.username, reasons=row.reasons))
    if result.problems:
        db.session.rollback()
        result.generated_passwords = []
        return result
    result.imported = result.total
    audit.record(actor, "user.import", default_org,
                 after={"rows": result.total, "file": (filename or "")[:200], "usernames": usernames})
    db.session.commit()
    return result


def template_csv() -> bytes:
    """A CSV with the expected headings and one example row, for admins to fill in."""
    return spreadsheets.csv_bytes([
        ["用户名", "姓名", "初始密码", "所在组织", "党员类别", "免予要求", "免予原因", "手机号", "电子邮箱",
         "入党日期"],
        ["zhangsan", "张三", "", "", str(MEMBER_CATEGORIES["member"]), "否", "", "", "", "2001-07-01"],
    ])
