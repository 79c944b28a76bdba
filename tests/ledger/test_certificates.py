"""Verifiable certificates (issue 19): a member downloads one, anyone checks it at /verify/<code> and offline
with the published key; a correction of the member's credits revokes it and the reissue has a new serial."""
import base64
import io
import json
import os
import re
import stat
from datetime import date
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from elearn.extensions import db
from elearn.ledger import certificates
from elearn.ledger import services as ledger
from elearn.ledger.certificate_pdf import FONT_NAME
from elearn.ledger.models import Certificate, StudyCredit

NAME = "阿依古丽·买买提"
ORG = "红旗村第一党支部·示范点"
# reportlab reads a paragraph as markup: this title made the old certificate fail (a 500) instead of printing it.
HOSTILE_TITLE = "第3讲 <党章> & 党规 <b>"


@pytest.fixture
def member(make_org, make_user):
    org = make_org(ORG)
    user = make_user(name=NAME, org=org)
    for i, title in enumerate(["第1讲 党章学习", "第2讲 党章学习", HOSTILE_TITLE], start=1):
        ledger.credit(user, kind="lesson", source_kind="lesson", source_id=i, hours=2.5, title=title,
                      category="political_theory", innovative_theory=True, credited_on=date(2025, 3, i))
    db.session.commit()
    return user


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def my_certificates(client):
    r = client.get("/api/v1/me/certificates")
    assert r.status_code == 200
    return r.get_json()["certificates"]


def serial_of(text: str) -> str:
    return re.search(r"20\d\dC\d{10}", text).group(0)


def test_pdf_embeds_a_font_subset_and_reads_back_every_character(client, auth, member):
    auth.login(member.username)
    r = client.get("/me/certificate.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert b"/FontFile2" in r.data and b"STSong-Light" not in r.data  # embedded TrueType, not the viewer's font
    text = pdf_text(r.data)
    face = pdfmetrics.getFont(FONT_NAME).face
    for ch in set(NAME + ORG + "党员教育培训学时证明" + "·"):
        assert ch in text, ch
        assert ord(ch) in face.charToGlyph, ch  # a glyph of its own in the embedded font, not a ☒
    assert NAME in text and "7.50" in text and "第1讲 党章学习" in text  # body and the ledger's entries
    assert HOSTILE_TITLE in text
    (cert,) = my_certificates(client)
    assert cert["serial"] in text and f"/verify/{cert['code']}" in text  # serial and the QR code's address
    assert len(PdfReader(io.BytesIO(r.data)).pages) == 2  # the certificate, then the ledger's entries


def test_issuing_is_idempotent_and_new_credits_give_a_new_serial(client, auth, member):
    auth.login(member.username)
    first = serial_of(pdf_text(client.get("/me/certificate.pdf").data))
    assert serial_of(pdf_text(client.get("/me/certificate.pdf").data)) == first
    assert [c["serial"] for c in my_certificates(client)] == [first]

    ledger.credit(member, kind="lesson", source_kind="lesson", source_id=9, hours=1, title="第9讲",
                  category="political_theory", innovative_theory=True, credited_on=date(2025, 4, 1))
    db.session.commit()
    second = serial_of(pdf_text(client.get("/me/certificate.pdf").data))
    assert second != first
    mine = {c["serial"]: c for c in my_certificates(client)}
    assert mine[first]["status"] == "superseded" and mine[second]["status"] == "valid"
    page = client.get(f"/verify/{mine[first]['code']}").get_data(as_text=True)
    assert "已有更新的证书" in page and f"/verify/{mine[second]['code']}" in page


def test_verify_page_is_public_and_masks_the_name(client, auth, member):
    auth.login(member.username)
    client.get("/me/certificate.pdf")
    (cert,) = my_certificates(client)
    auth.logout()
    r = client.get(f"/verify/{cert['code']}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "阿***·**提" in page and NAME not in page
    for fact in (cert["serial"], ORG, "7.50", "2024-01-01", "2028-12-31", "有效", "进度"):
        assert fact in page, fact


def test_a_third_party_checks_the_signature_offline(client, auth, member):
    auth.login(member.username)
    client.get("/me/certificate.pdf")
    (cert,) = my_certificates(client)
    auth.logout()
    pem = client.get("/verify/key.pem").data
    key = load_pem_public_key(pem)
    body = client.get(f"/api/v1/verify/{cert['code']}").get_json()
    signed = base64.b64decode(body["content_b64"])
    key.verify(bytes.fromhex(body["signature"]), signed)  # raises when it does not hold
    assert body["algorithm"] == "Ed25519" and body["status"] == "valid" and body["signature_valid"]
    content = json.loads(signed)
    assert content == body["content"] and content["serial"] == cert["serial"] and content["holder"] == "阿***·**提"
    assert content["total_hours"] == "7.50" and content["organisation"]["name"] == ORG
    tampered = signed.replace(b'"7.50"', b'"170.50"')
    with pytest.raises(InvalidSignature):
        key.verify(bytes.fromhex(body["signature"]), tampered)
    # The key page shows the same key and its fingerprint.
    page = client.get("/verify/key").get_data(as_text=True)
    assert pem.decode().splitlines()[1] in page and certificates.fingerprint() in page


def test_a_correction_revokes_and_the_reissue_has_a_new_serial(client, auth, member, make_user):
    admin = make_user(org=member.organisation, role="org_admin")
    auth.login(member.username)
    client.get("/me/certificate.pdf")
    (old,) = my_certificates(client)
    auth.logout()

    auth.login(admin.username)
    wrong = db.session.query(StudyCredit).filter_by(user_id=member.id, source_id=2).one()
    r = client.post(f"/admin/members/{member.id}/credits/{wrong.id}/correct", data={"note": "重复记录"})
    assert r.status_code == 302
    auth.logout()

    r = client.get(f"/api/v1/verify/{old['code']}").get_json()
    assert r["status"] == "revoked" and r["revoked_reason"] == "重复记录" and r["current"] is None
    page = client.get(f"/verify/{old['code']}").get_data(as_text=True)
    assert "已撤销" in page and "尚未重新签发" in page

    auth.login(member.username)
    text = pdf_text(client.get("/me/certificate.pdf").data)
    new = serial_of(text)
    assert new != old["serial"] and "5.00" in text
    auth.logout()
    r = client.get(f"/api/v1/verify/{old['code']}").get_json()
    assert r["status"] == "revoked" and r["current"]["serial"] == new
    page = client.get(f"/verify/{old['code']}").get_data(as_text=True)
    assert "已撤销" in page and new in page and r["current"]["code"] in page


@pytest.mark.parametrize("code", ["abc", "A" * 16, "A" * 200, "..%2E..%2Eetc", "%E5%BC%A0" * 6, "key.pem.x"])
def test_unknown_or_malformed_codes_are_404_never_500(client, db, code):
    r = client.get(f"/verify/{code}")
    assert r.status_code == 404 and "未找到该证书" in r.get_data(as_text=True)
    r = client.get(f"/api/v1/verify/{code}")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "certificate_not_found"


def test_key_is_generated_once_with_mode_0600(app, client, auth, member):
    path = app.config["ELEARN_CERTIFICATE_SIGNING_KEY_FILE"]
    assert not os.path.exists(path)
    auth.login(member.username)
    client.get("/me/certificate.pdf")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    before = Path(path).read_bytes()
    client.get("/verify/key")
    assert Path(path).read_bytes() == before


def test_series_certificate_after_completing_every_course(client, auth, member, make_course, publish):
    done, pending = make_course(title="党章·党规", declared_hours=3), make_course(title="形势与政策", declared_hours=2)
    series = publish([done], orgs=[(member.organisation, True)], title="学习贯彻党章专题")
    other = publish([done, pending], orgs=[(member.organisation, True)], title="另一专题")
    ledger.credit(member, kind="course", source_kind="course", source_id=done.id, hours=3, title=done.title,
                  category="political_theory", innovative_theory=True, course_id=done.id,
                  credited_on=date(2025, 5, 1))
    db.session.commit()
    auth.login(member.username)
    dashboard = client.get("/me/").get_data(as_text=True)
    assert f"/me/certificates/series/{series.id}.pdf" in dashboard
    assert f"/me/certificates/series/{other.id}.pdf" not in dashboard
    r = client.get(f"/me/certificates/series/{series.id}.pdf")
    assert r.status_code == 200
    text = pdf_text(r.data)
    for ch in set(NAME + ORG + "专题学习证书" + "学习贯彻党章专题" + "党章·党规"):
        assert ch in text, ch
    assert client.get(f"/me/certificates/series/{other.id}.pdf").status_code == 404
    kinds = {c["kind"]: c for c in my_certificates(client)}
    assert kinds["series"]["series_id"] == series.id and "S" in kinds["series"]["serial"]
    page = client.get(f"/verify/{kinds['series']['code']}").get_data(as_text=True)
    assert "学习贯彻党章专题" in page and "3.00" in page


def test_secretary_certificate_states_the_yearly_offjob_training(client, auth, make_org, make_user, site_clock):
    from datetime import datetime
    site_clock.set_site(datetime(2026, 6, 1, 10, 0))
    secretary = make_user(name="王书记", org=make_org("城关镇党委"), category="branch_secretary")
    ledger.credit(secretary, kind="offline", source_kind="offline_training", source_id=1, hours=40,
                  title="县委党校脱产培训班", category="political_theory", innovative_theory=True, offjob=True,
                  county_level=True, credited_on=date(2024, 9, 1))
    db.session.commit()
    auth.login(secretary.username)
    text = re.sub(r"\s", "", pdf_text(client.get("/me/certificate.pdf").data))  # wherever the lines break
    assert "县级以上脱产培训" in text and "2024年40.00/40.00学时（达标）" in text
    assert "2025年0.00/40.00学时（未达标）" in text
    (cert,) = my_certificates(client)
    body = client.get(f"/api/v1/verify/{cert['code']}").get_json()
    assert [(y["year"], y["met"]) for y in body["content"]["offjob_years"]] == [(2024, True), (2025, False),
                                                                                (2026, False)]
    page = client.get(f"/verify/{cert['code']}").get_data(as_text=True)
    assert "县级以上脱产培训" in page and "未达标" in page


def test_verify_page_in_english(client, auth, member):
    auth.login(member.username)
    client.get("/me/certificate.pdf")
    (cert,) = my_certificates(client)
    auth.logout()
    with client.session_transaction() as session:
        session["locale"] = "en"
    page = client.get(f"/verify/{cert['code']}").get_data(as_text=True)
    assert "Certificate verification" in page and "Serial number" in page and "Issued by" in page
    assert "Valid (Ed25519)" in page and "Part of the name is hidden" in page


def test_a_tampered_row_or_a_replaced_key_is_told_apart(app, client, auth, member):
    auth.login(member.username)
    client.get("/me/certificate.pdf")
    (cert,) = my_certificates(client)
    row = db.session.query(Certificate).one()
    row.content = row.content.replace('"7.50"', '"170.50"')  # rewritten in the database behind the app
    db.session.commit()
    body = client.get(f"/api/v1/verify/{cert['code']}").get_json()
    assert body["signature_valid"] is False
    assert "可能被篡改" in client.get(f"/verify/{cert['code']}").get_data(as_text=True)
    Path(app.config["ELEARN_CERTIFICATE_SIGNING_KEY_FILE"]).unlink()  # a new key is generated at the next use
    page = client.get(f"/verify/{cert['code']}").get_data(as_text=True)
    assert "已更换的签名密钥" in page and "可能被篡改" not in page


def test_mask_name():
    assert certificates.mask_name("张三明") == "张*明"
    assert certificates.mask_name("李四") == "李*"
    assert certificates.mask_name("王") == "*"
    assert certificates.mask_name("欧阳小明") == "欧**明"
    assert certificates.mask_name("") == ""


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_look_ups_are_rate_limited_per_address(client, db):
    from elearn.policy import CERTIFICATES
    per_minute = int(CERTIFICATES.verify_limit_per_address.split()[0])
    for i in range(per_minute):  # unknown codes count too: guessing is what the limit is for
        assert client.get(f"/api/v1/verify/{'A' * 15}{i % 10}").status_code == 404
    r = client.get(f"/api/v1/verify/{'B' * 16}")
    assert r.status_code == 429 and r.get_json()["error"]["message"]
    for _ in range(per_minute):
        client.get(f"/verify/{'C' * 16}")
    r = client.get(f"/verify/{'C' * 16}")
    assert r.status_code == 429 and "请求过于频繁" in r.get_data(as_text=True)


def test_two_downloads_at_once_issue_one_certificate(app, member):
    import threading

    from elearn.orgs.models import User
    user_id, barrier, serials, errors = member.id, threading.Barrier(4), [], []

    def download():
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                statement = certificates.cycle_statement(user)
                barrier.wait()  # all four have read the ledger: now they race to issue
                serials.append(certificates._issue(user, "cycle", statement, None).serial)
                db.session.remove()
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=download) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(serials) == 4 and len(set(serials)) == 1
    assert db.session.query(Certificate).count() == 1
