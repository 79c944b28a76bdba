"""The member import through its page (/org/import): files of every shape get a clear answer, never a 500, and
a refused file changes nothing; oversized files are refused before they cost seconds of CPU."""
import csv
import io
import re
import time

import pytest
from sqlalchemy import func, select

from elearn.audit.models import AuditEntry
from elearn.extensions import db
from elearn.orgs.models import User
from elearn.policy import IMPORT

from .files import handmade_xlsx, row_xml, xlsx


@pytest.fixture
def setup(make_org, make_user):
    town = make_org("镇党委")
    east = make_org("东村支部", kind="branch", parent=town)
    return {"town": town, "east": east, "admin": make_user("townadmin", org=town, role="org_admin"),
            "existing": make_user("taken", org=east)}


def users_count():
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def upload(client, setup, filename, data):
    r = client.post("/org/import", data={"organisation_id": setup["town"].id, "file": (io.BytesIO(data), filename)},
                    content_type="multipart/form-data")
    return r, r.get_data(as_text=True)


def test_oversized_xlsx_is_refused_in_milliseconds(client, auth, setup):
    """300,000 rows in 100 KB cost 16 s of CPU before the row limit refused them."""
    auth.login("townadmin")
    before = users_count()
    data = handmade_xlsx(row_xml("用户名", "姓名") + row_xml("zhang", "张三") * 300_000)
    assert len(data) < 150_000
    started = time.process_time()
    r, html = upload(client, setup, "members.xlsx", data)
    assert time.process_time() - started < 2
    assert r.status_code == 400 and "内容过多" in html and f"一次最多导入 {IMPORT.max_rows} 行" in html
    assert users_count() == before


def test_xlsx_one_row_too_many_is_refused_at_that_row(client, auth, setup):
    auth.login("townadmin")
    before = users_count()
    rows = [["用户名", "姓名"]] + [[f"user{i:04d}", f"党员{i}"] for i in range(IMPORT.max_rows + 1)]
    r, html = upload(client, setup, "members.xlsx", xlsx(rows))
    assert r.status_code == 400 and f"一次最多导入 {IMPORT.max_rows} 行" in html
    assert users_count() == before


def test_hostile_sheet_shapes_are_cheap_and_clear(client, auth, setup):
    """One row of a million cells, a million empty rows, a row numbered a billion: each a few KB."""
    auth.login("townadmin")
    head = row_xml("用户名", "姓名")
    for sheet in ("<row>" + "<c/>" * 1_000_000 + "</row>", head + "<row/>" * 1_000_000):
        started = time.process_time()
        r, html = upload(client, setup, "m.xlsx", handmade_xlsx(sheet))
        assert time.process_time() - started < 2
        assert r.status_code == 400 and "内容过多" in html
    # Rows past Excel's last row are not read; the sheet has none before it.
    r, html = upload(client, setup, "m.xlsx", handmade_xlsx(head + row_xml("far01", "远方", r=1_000_000_000)))
    assert r.status_code == 400 and "没有数据行" in html


def test_a_sheet_claiming_a_small_size_is_read_whole(client, auth, setup):
    """A sheet's <dimension> is not believed: rows beyond it are imported, not silently dropped."""
    auth.login("townadmin")
    sheet = row_xml("用户名", "姓名", "初始密码") + row_xml("dim01", "维度一", "Secret123", r=7)
    r, html = upload(client, setup, "m.xlsx", handmade_xlsx(sheet, dimension="A1"))
    assert r.status_code == 200 and "已导入 1 名党员" in html
    assert db.session.execute(select(User.name).where(User.username == "dim01")).scalar_one() == "维度一"


def test_every_fault_of_a_row_is_listed(client, auth, setup):
    auth.login("townadmin")
    before = users_count()
    data = ("用户名,姓名,初始密码,所在组织,党员类别,免予要求,手机号,电子邮箱\n"
            "x,,abc,外星支部,书记,也许,12345,not-an-address\n"
            "ok01,好人,Secret123,²,,,,\n"
            "ok02,也好,Secret123,,,,13800138000,ok02@example.com\n"
            "OK01,重名,Secret123,,,,,\n").encode()
    r, html = upload(client, setup, "m.csv", data)
    assert r.status_code == 422
    first = html.split("<td>2</td>", 1)[1].split("</tr>", 1)[0]
    for fault in ("用户名须为", "请填写姓名", "密码至少需要", "组织“外星支部”不存在", "未知的党员类别“书记”",
                  "“免予要求”须填 是 或 否", "手机号“12345”格式不正确", "电子邮箱“not-an-address”格式不正确"):
        assert fault in first, fault
    assert "组织“²”不存在" in html  # digits to str.isdigit, not to int(): a 500 before
    assert "用户名 OK01 已存在（与第 3 行重复）" in html
    assert "<td>4</td>" not in html  # the good row is not listed
    assert users_count() == before
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "user.import")).first() is None


def test_phone_numbers_and_addresses_are_stored_in_one_form(client, auth, setup):
    auth.login("townadmin")
    data = xlsx([["用户名", "姓名", "初始密码", "手机号", "电子邮箱"],
                 ["tel01", "电话一", "Secret123", "+86 138-0013-8000", "Tel01@Example.COM"],
                 ["tel02", "电话二", "Secret123", 13800138001, None],
                 ["tel03", "电话三", "Secret123", "010-6512 3456", "李@例子.中国"]])
    r, html = upload(client, setup, "m.xlsx", data)
    assert r.status_code == 200 and "已导入 3 名党员" in html, html
    stored = dict(db.session.execute(select(User.username, User.phone).where(User.username.like("tel%"))).all())
    assert stored == {"tel01": "13800138000", "tel02": "13800138001", "tel03": "01065123456"}
    emails = dict(db.session.execute(select(User.username, User.email).where(User.username.like("tel%"))).all())
    assert emails["tel01"] == "Tel01@example.com" and emails["tel02"] is None and emails["tel03"] == "李@例子.中国"


def test_utf16_csv_without_bom_gets_a_clear_message(client, auth, setup):
    auth.login("townadmin")
    before = users_count()
    text = "用户名,姓名,初始密码\nu16a,宽字符,Secret123\n"
    r, html = upload(client, setup, "m.csv", text.encode("utf-16-le"))
    assert r.status_code == 400 and "UTF-16" in html and "另存为" in html
    assert users_count() == before
    # With its byte-order mark (as "Unicode text" is saved, tab-separated) the same file is read.
    r, html = upload(client, setup, "m.csv", text.replace(",", "\t").encode("utf-16"))
    assert r.status_code == 200 and "已导入 1 名党员" in html
    assert db.session.execute(select(User.name).where(User.username == "u16a")).scalar_one() == "宽字符"


def test_unreadable_files_get_a_message_and_change_nothing(client, auth, setup):
    auth.login("townadmin")
    before = users_count()
    too_long_field = ('用户名,姓名\n"' + "x" * 140_000 + '",某\n').encode()
    broken = handmade_xlsx(row_xml("用户名", "姓名") + '<row><c t="s"><v>99</v></c></row>')  # no shared strings
    cases = [("m.csv", too_long_field, "无法读取"), ("m.csv", b"\xff\xfe\x00", "无法识别文件编码"),
             ("m.csv", "用户名,姓名\nnul\x00,x\n".encode(), "空字节"), ("m.xlsx", broken, "无法读取该 Excel"),
             ("m.xlsx", b"PK\x03\x04 not really a zip", "无法读取该 Excel"),
             ("m.csv", ",".join(["用户名", "姓名"] + ["备注"] * IMPORT.max_columns).encode(), "最多")]
    for filename, data, message in cases:
        r, html = upload(client, setup, filename, data)
        assert r.status_code == 400 and message in html, (message, r.status_code)
    assert users_count() == before


def test_template_download_reads_back_as_the_expected_headings(client, auth, setup):
    auth.login("townadmin")
    r = client.get("/org/import/template.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["用户名", "姓名"] and rows[1][:2] == ["zhangsan", "张三"]
    # The template imports as it is.
    r, html = upload(client, setup, "template.csv", client.get("/org/import/template.csv").data)
    assert r.status_code == 200 and "已导入 1 名党员" in html


def test_five_hundred_members_with_generated_passwords_import_quickly_and_can_sign_in(app, client, auth, setup):
    """Initial passwords the app draws are hashed with the light profile (seconds for 500 rows, not 90 s of
    argon2 in one request); the first sign-in moves the account to the full profile."""
    from elearn.auth.passwords import needs_rehash

    rows = "\n".join(f"bulk{i:03d},党员{i}" for i in range(IMPORT.max_rows))
    auth.login("townadmin")
    r, body = upload(client, setup, "members.csv", ("用户名,姓名\n" + rows).encode())
    assert r.status_code == 200 and users_count() == 2 + IMPORT.max_rows
    shown = dict(re.findall(r"<td>(bulk\d{3})</td><td><code>([^<]+)</code>", body))
    assert len(shown) == IMPORT.max_rows
    member = db.session.scalar(select(User).filter_by(username="bulk007"))
    assert needs_rehash(member.password_hash)
    auth.logout()
    assert auth.login("bulk007", password="wrong-password-1").status_code == 401
    assert auth.login("bulk007", password=shown["bulk007"]).status_code in (302, 303)
    db.session.expire_all()
    assert not needs_rehash(db.session.get(User, member.id).password_hash)
