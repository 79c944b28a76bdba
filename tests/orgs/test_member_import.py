
import pytest
from sqlalchemy import func, select

from elearn.audit.models import AuditEntry
from elearn.auth.passwords import verify_password
from elearn.errors import Forbidden, ServiceError
from elearn.extensions import db
from elearn.orgs import imports as member_import
from elearn.orgs.models import User
from tests.orgs.files import xlsx


@pytest.fixture
def setup(make_org, make_user):
    town = make_org("镇党委")
    east = make_org("东村支部", kind="branch", parent=town)
    other = make_org("外县")
    return {"town": town, "east": east, "other": other,
            "admin": make_user("townadmin", org=town, role="org_admin"),
            "existing": make_user("taken", org=east)}


def csv_bytes(rows, encoding="utf-8"):
    return "\n".join(",".join(r) for r in rows).encode(encoding)


def users_count():
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def test_good_csv_imports_everyone(setup):
    data = csv_bytes([["用户名", "姓名", "初始密码", "所在组织", "党员类别", "免予要求", "免予原因"],
                      ["li01", "李一", "Secret123", "", "", "", ""],
                      ["li02", "李二", "", "东村支部", "基层党组织书记", "否", ""],
                      ["li03", "李三", "Secret123", str(setup["east"].id), "member", "是", "年老体弱"]])
    result = member_import.import_members(setup["admin"], setup["town"], "members.csv", data)
    assert result.ok and result.imported == 3 and result.problems == []
    li = {u.username: u for u in db.session.execute(select(User).where(User.username.like("li0%"))).scalars()}
    assert li["li01"].organisation_id == setup["town"].id
    assert li["li02"].organisation_id == setup["east"].id and li["li02"].category == "branch_secretary"
    assert li["li03"].exempt and li["li03"].exempt_reason == "年老体弱"
    (generated,) = result.generated_passwords
    assert generated[0] == "li02" and verify_password(li["li02"].password_hash, generated[1])
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "user.import")).scalar_one()


def test_gb18030_csv_and_xlsx(setup):
    gb = csv_bytes([["用户名", "姓名"], ["gb01", "国标"]], encoding="gb18030")
    assert member_import.import_members(setup["admin"], setup["town"], "a.csv", gb).imported == 1
    x = xlsx([["username", "name", "phone"], ["xl01", "表格一", 13800000000], ["xl02", "表格二", None]])
    result = member_import.import_members(setup["admin"], setup["town"], "a.xlsx", x)
    assert result.imported == 2
    assert db.session.execute(select(User.phone).where(User.username == "xl01")).scalar_one() == "13800000000"


def test_bad_file_reports_each_row_and_imports_nothing(setup):
    before = users_count()
    data = xlsx([["用户名", "姓名", "初始密码", "所在组织", "党员类别", "免予要求", "免予原因"],
                       ["ok01", "好人", "Secret123", "", "", "", ""],
                       ["taken", "重名", "Secret123", "", "", "", ""],
                       ["ok01", "文件内重复", "Secret123", "", "", "", ""],
                       ["x", "", "Secret123", "", "", "", ""],
                       ["ok02", "外县人", "Secret123", "外县", "", "", ""],
                       ["ok03", "类别错", "Secret123", "", "书记", "", ""],
                       ["ok04", "免予无因", "Secret123", "", "", "是", ""],
                       ["ok05", "弱密码", "abc", "", "", "", ""]])
    result = member_import.import_members(setup["admin"], setup["town"], "bad.xlsx", data)
    assert not result.ok and result.imported == 0 and result.generated_passwords == []
    rows = {p.row: p for p in result.problems}
    assert sorted(rows) == [3, 4, 5, 6, 7, 8, 9]
    assert "已存在" in rows[3].reasons[0] and "已存在" in rows[4].reasons[0]
    assert "用户名" in rows[5].reasons[0]
    assert "不在您的管理范围" in rows[6].reasons[0]
    assert "党员类别" in rows[7].reasons[0]
    assert "原因" in rows[8].reasons[0] and "密码" in rows[9].reasons[0]
    assert users_count() == before
    assert db.session.execute(select(User).where(User.username == "ok01")).scalar_one_or_none() is None


def test_unreadable_files_are_refused(setup):
    with pytest.raises(ServiceError) as exc:
        member_import.import_members(setup["admin"], setup["town"], "a.xlsx", b"not a zip")
    assert exc.value.code == "bad_xlsx"
    with pytest.raises(ServiceError) as exc:
        member_import.import_members(setup["admin"], setup["town"], "a.csv", csv_bytes([["姓名"], ["张三"]]))
    assert exc.value.code == "missing_columns"
    with pytest.raises(ServiceError) as exc:
        member_import.import_members(setup["admin"], setup["town"], "a.csv", b"")
    assert exc.value.code == "empty_file"


def test_import_outside_subtree_is_forbidden(setup):
    with pytest.raises(Forbidden):
        member_import.import_members(setup["admin"], setup["other"], "a.csv", csv_bytes([["用户名", "姓名"],
                                                                                         ["zz01", "某"]]))
