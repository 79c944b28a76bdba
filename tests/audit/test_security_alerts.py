"""Security events: repeated sign-in failures and a broken ledger raise alerts site admins see on every page
until one of them handles it; audit entries cannot be changed or deleted by the app; exports are recorded."""
import pytest
from sqlalchemy import select, text

from elearn.audit.models import AuditEntry, SecurityAlert
from elearn.extensions import db
from elearn.ledger import integrity
from elearn.ledger import services as ledger
from elearn.ledger.models import StudyCredit


@pytest.fixture
def people(make_org, make_user):
    org = make_org("县委")
    return {"site": make_user("site", org=org, role="site_admin"), "admin": make_user("admin", org=org,
                                                                                      role="org_admin"),
            "member": make_user("member1", org=org)}


def _banner(client):
    return "条安全告警待处理" in client.get("/").get_data(as_text=True)


def test_a_locked_account_alerts_site_admins_until_one_handles_it(app, client, auth, people):
    for _ in range(app.config["ELEARN_LOGIN_MAX_FAILURES"]):
        auth.login("member1", "wrong-password")
    alert = db.session.execute(select(SecurityAlert)).scalar_one()
    assert alert.action == "auth.lockout" and alert.handled_at is None

    auth.login("admin")
    assert not _banner(client)  # org admins do not handle site security
    assert client.get("/admin/security/alerts").status_code == 403
    auth.logout()
    auth.login("site")
    assert _banner(client)
    page = client.get("/admin/security/alerts").get_data(as_text=True)
    assert "账号因连续登录失败被临时锁定" in page
    assert client.post(f"/admin/security/alerts/{alert.id}/handled", data={"note": "已电话核实，本人输错"}
                       ).status_code == 302
    assert not _banner(client)
    db.session.expire_all()
    assert db.session.get(SecurityAlert, alert.id).handled_note == "已电话核实，本人输错"
    ack = db.session.execute(select(AuditEntry).where(AuditEntry.action == "security.alert.ack")).scalar_one()
    assert ack.actor_id == people["site"].id
    again = client.post(f"/admin/security/alerts/{alert.id}/handled", data={"note": "再次"}, follow_redirects=True)
    assert "已经处理过了" in again.get_data(as_text=True)
    assert client.post("/admin/security/alerts/999999/handled", data={"note": "x"}).status_code == 302


def test_a_broken_ledger_alerts_site_admins(client, auth, people):
    ledger.credit(people["member"], kind="lesson", source_kind="lesson", source_id=1, hours=1.0, title="第一讲",
                  category="political_theory", innovative_theory=True)
    db.session.commit()
    assert integrity.verify_and_record().ok
    assert db.session.execute(select(SecurityAlert)).scalar() is None
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE study_credit SET hours = 50"))
    db.session.expire_all()
    assert not integrity.verify_and_record().ok
    auth.login("site")
    assert _banner(client)
    assert "学时台账校验发现篡改" in client.get("/admin/security/alerts").get_data(as_text=True)
    assert db.session.execute(select(StudyCredit.hours)).scalar_one() == 50  # found, not repaired behind anyone


def test_audit_entries_cannot_be_changed_or_deleted(people):
    entry = AuditEntry(actor_id=people["site"].id, action="user.update", object_type="user_account", object_id=1)
    db.session.add(entry)
    db.session.commit()
    entry.action = "nothing.happened"
    with pytest.raises(ValueError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(ValueError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "user.update"


def test_exporting_the_audit_log_is_recorded(client, auth, people):
    auth.login("site")
    assert client.get("/org/audit/export?format=csv&action=auth.").status_code == 200
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "audit.export")).scalar_one()
    assert entry.actor_id == people["site"].id and entry.after["format"] == "csv" and entry.after["action"] == "auth."
