"""Personal data at rest (elearn.security): encrypted in the database file, found by exact look-ups, re-encrypted by
a key rotation that may stop anywhere, and masked for viewers who may not see it."""
from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from elearn.extensions import db as _db
from elearn.orgs.models import User
from elearn.security import fields as pii
from elearn.security import rotation
from elearn.security.fields import DecryptionError, EncryptedText
from tests.conftest import PASSWORD

NAME, PHONE, EMAIL, REASON = "欧阳明秀", "13912345678", "Ouyang.Mingxiu@Example.com", "腿脚不便常年卧床"
STORED_EMAIL = "Ouyang.Mingxiu@example.com"  # the domain in lower case (elearn.orgs.contacts)


@pytest.fixture
def setup(make_org, make_user):
    town = make_org("镇党委")
    east = make_org("东村支部", kind="branch", parent=town)
    west = make_org("西村支部", kind="branch", parent=town)
    return {"town": town, "east": east, "west": west,
            "townadmin": make_user("townadmin", org=town, role="org_admin", name="镇管理员"),
            "eastadmin": make_user("eastadmin", org=east, role="org_admin", name="东村管理员"),
            "westadmin": make_user("westadmin", org=west, role="org_admin", name="西村管理员"),
            "site": make_user("site", org=town, role="site_admin", name="系统管理员")}


def _create_through_page(client, auth, org, username="ouyang", **extra):
    auth.login("townadmin")
    r = client.post("/admin/members/new", data={
        "username": username, "name": NAME, "phone": "+86 139-1234-5678", "email": EMAIL, "organisation_id": org.id,
        "role": "member", "category": "member", "exempt": "y", "exempt_reason": REASON, "password": PASSWORD,
        **extra})
    assert r.status_code == 302, r.get_data(as_text=True)
    auth.logout()
    return _db.session.execute(select(User).where(User.username == username)).scalar_one()


def _raw(table: str, *columns: str) -> list[tuple]:
    with _db.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {table}")]


def _clear_values() -> list[bytes]:
    return [v.encode("utf-8") for v in (NAME, PHONE, EMAIL, STORED_EMAIL, REASON)]


def test_a_copy_of_the_database_file_holds_no_personal_value_in_clear(app, client, auth, setup):
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("reads the SQLite file itself")
    member = _create_through_page(client, auth, setup["east"])
    auth.login("ouyang")  # a login session with its address
    auth.logout()
    # Updates go through the same type: change the phone through the page and read the old one back nowhere.
    auth.login("townadmin")
    r = client.post(f"/admin/members/{member.id}", data={"name": NAME, "phone": "13800138000", "email": EMAIL,
                                                          "role": "member", "category": "member", "exempt": "y",
                                                          "exempt_reason": REASON})
    assert r.status_code == 302
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    _db.session.remove()
    _db.engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dump = "\n".join(conn.iterdump()).encode("utf-8")
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # the file, its -wal and -shm
    assert b"CREATE TABLE" in dump and b"v1:k1:" in dump  # the dump is real and holds the ciphertexts
    for clear in [*_clear_values(), b"13800138000"]:
        assert clear not in raw, clear
        assert clear not in dump, clear
    # …and the app still reads every value back.
    page = client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert NAME in page and "13800138000" in page and STORED_EMAIL in page and REASON in page


def test_stored_values_are_ciphertext_bound_to_their_column(app, client, auth, setup):
    """On either database (run with DATABASE_URL_TEST=postgresql://… for PostgreSQL): what a dump of the table
    would show is only the "v1:" form; a value copied into another column fails instead of reading as it."""
    member = _create_through_page(client, auth, setup["east"])
    (row,) = [r for r in _raw("user_account", "id", "name", "phone", "email", "exempt_reason", "name_hash",
                              "phone_hash", "email_hash") if r[0] == member.id]
    assert all(v.startswith("v1:k1:") for v in row[1:5]), row
    assert all(v.startswith("k1:") and len(v) == 3 + 64 for v in row[5:]), row
    assert not any(clear.decode() in " ".join(map(str, row)) for clear in _clear_values())
    ips = _raw("login_session", "ip")
    assert all(ip.startswith("v1:") for (ip,) in ips) and ips
    # The same plain value encrypts differently each time (a random nonce per value).
    other = _create_through_page(client, auth, setup["east"], username="ouyang2")
    (again,) = [r for r in _raw("user_account", "id", "name", "name_hash") if r[0] == other.id]
    assert again[1] != row[1] and again[2] == row[5]
    member_id = member.id
    with _db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE user_account SET exempt_reason = name WHERE id = %d" % member_id)
    _db.session.expire_all()
    with pytest.raises(DecryptionError, match=r"user_account\.exempt_reason: .* authentication tag"):
        _db.session.execute(select(User.exempt_reason).where(User.id == member_id)).scalar_one()
    _db.session.rollback()  # a new snapshot (WAL readers keep theirs)
    with _db.engine.begin() as conn:  # a plain value written behind the app's back is refused too
        conn.exec_driver_sql("UPDATE user_account SET exempt_reason = 'x' WHERE id = %d" % member_id)
    with pytest.raises(DecryptionError, match="not encrypted"):
        _db.session.execute(select(User.exempt_reason).where(User.id == member_id)).scalar_one()


def test_sql_cannot_compare_an_encrypted_column(app):
    with pytest.raises(TypeError, match="encrypted"):
        select(User).where(User.name == "x")
    with pytest.raises(TypeError, match="encrypted"):
        select(User).where(User.phone.ilike("%138%"))
    assert select(User).where(User.phone.is_(None)) is not None  # presence stays queryable
    assert select(User).where(User.phone == None) is not None  # noqa: E711 (the SQL "IS NULL")


def test_members_are_found_by_whole_name_phone_or_email(client, auth, setup, make_user):
    member = _create_through_page(client, auth, setup["east"])
    make_user("decoy", org=setup["east"], name="欧阳")
    auth.login("townadmin")

    def found(q):
        page = client.get("/admin/members", query_string={"q": q}).get_data(as_text=True)
        return f"/admin/members/{member.id}\"" in page

    assert found(NAME) and found(f"  {NAME} ")
    assert found("13912345678") and found("+86 139 1234 5678") and found("１３９１２３４５６７８")
    assert found("ouyang.mingxiu@example.COM")  # an address matches whatever its case
    assert found("uyan")  # part of the username still matches
    assert not found("欧阳明") and not found("1391234")  # names and numbers match whole only


def test_imported_members_are_encrypted_and_found_by_phone(client, auth, setup):
    auth.login("townadmin")
    csv = f"用户名,姓名,手机号,电子邮箱\nimp1,{NAME},{PHONE},{EMAIL}\n".encode()
    r = client.post("/org/import", data={"organisation_id": setup["east"].id,
                                                   "file": (io.BytesIO(csv), "members.csv")},
                    content_type="multipart/form-data")
    assert r.status_code in (200, 302), r.get_data(as_text=True)
    (row,) = [r for r in _raw("user_account", "username", "phone", "phone_hash") if r[0] == "imp1"]
    assert row[1].startswith("v1:") and row[2].startswith("k1:")
    page = client.get("/admin/members", query_string={"q": PHONE}).get_data(as_text=True)
    assert "imp1" in page


def test_lecturer_roster_is_encrypted_and_searched_by_whole_name(client, auth, setup):
    auth.login("townadmin")
    r = client.post("/roster/new", data={"name": "司马教授", "organisation_id": setup["east"].id, "fields": "党史",
                                         "categories": ["party_rules"], "status": "active",
                                         "phone": "13700001111"})
    assert r.status_code == 302
    assert all(n.startswith("v1:") and p.startswith("v1:") for n, p in _raw("lecturer", "name", "phone"))
    assert "司马教授" in client.get("/roster/", query_string={"q": "司马教授"}).get_data(as_text=True)
    assert "司马教授" in client.get("/roster/", query_string={"q": "党史"}).get_data(as_text=True)
    assert "司马教授" not in client.get("/roster/", query_string={"q": "司马"}).get_data(as_text=True)


def _readable_through_pages(client, auth, member, phone=PHONE):
    auth.login("townadmin")
    page = client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    found = client.get("/admin/members", query_string={"q": phone}).get_data(as_text=True)
    auth.logout()
    return NAME in page and phone in page and STORED_EMAIL in page and f"/admin/members/{member.id}\"" in found


def test_rotate_key_reencrypts_everything_then_retires_the_old_key(app, client, auth, setup, runner):
    member = _create_through_page(client, auth, setup["east"])
    assert set(rotation.usage()) == {"k1"}
    result = runner.invoke(args=["security", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "new current key k2" in result.output and "100%" in result.output
    assert "user_account: " in result.output and "every personal value is encrypted under k2" in result.output
    assert set(rotation.usage()) == {"k2"}
    assert all(v.startswith("v1:k2:") for (v,) in _raw("user_account", "name"))
    assert _readable_through_pages(client, auth, member)
    ring = json.loads((Path(app.instance_path) / "pii_keys.json").read_text())
    assert ring["current"] == "k2" and set(ring["keys"]) == {"k1", "k2"}  # the old key kept until --retire
    assert (Path(app.instance_path) / "pii_keys.json").stat().st_mode & 0o777 == 0o600
    result = runner.invoke(args=["security", "rotate-key", "--resume", "--retire"])
    assert result.exit_code == 0, result.output
    assert "retired keys: k1" in result.output
    assert set(json.loads((Path(app.instance_path) / "pii_keys.json").read_text())["keys"]) == {"k2"}
    assert _readable_through_pages(client, auth, member)
    assert "k2\taes-gcm\tcurrent" in runner.invoke(args=["security", "keys"]).output
    actions = [a for (a,) in _raw("audit_entry", "action")]
    assert "security.key_rotated" in actions and "security.key_retired" in actions


def test_a_rotation_stopped_halfway_leaves_every_value_readable(app, client, auth, setup, make_user, runner):
    member = _create_through_page(client, auth, setup["east"])
    for i in range(6):
        make_user(f"bulk{i}", org=setup["east"], name=f"成员{i}")
    assert rotation.add_key("aes-gcm") == "k2"
    calls = []

    def killed(fraction):
        calls.append(fraction)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the machine going down, between batches

    with pytest.raises(KeyboardInterrupt):
        rotation.reencrypt(batch=3, on_progress=killed)
    used = rotation.usage()
    assert used.get("k1") and used.get("k2")  # half done: both keys in use
    assert _readable_through_pages(client, auth, member)
    names = sorted(u.name for u in _db.session.execute(select(User)).scalars())
    assert "成员5" in names and NAME in names
    # Retiring now would make values unreadable: refused.
    result = runner.invoke(args=["security", "rotate-key", "--resume", "--retire"])
    assert result.exit_code == 0, result.output  # the resume finishes first, then the old key goes
    assert set(rotation.usage()) == {"k2"} and "retired keys: k1" in result.output
    assert _readable_through_pages(client, auth, member)


def test_retiring_a_key_still_in_use_is_refused(app, client, auth, setup):
    _create_through_page(client, auth, setup["east"])
    rotation.add_key("aes-gcm")
    with pytest.raises(pii.KeyringError, match="values still under old keys: k1"):
        rotation.retire_old_keys()


@pytest.mark.parametrize("app_config", [{"ELEARN_PII_CIPHER": "sm4-gcm"}])
def test_sm4_gcm_keys(app, client, auth, setup, runner):
    member = _create_through_page(client, auth, setup["east"])
    assert pii.current_keyring().current_key.cipher == "sm4-gcm"
    assert _readable_through_pages(client, auth, member)
    result = runner.invoke(args=["security", "rotate-key", "--cipher", "aes-gcm"])
    assert result.exit_code == 0, result.output
    ring = pii.current_keyring()
    assert [k.cipher for k in ring.keys.values()] == ["sm4-gcm", "aes-gcm"] and ring.current == "k2"
    assert _readable_through_pages(client, auth, member)


def test_keys_from_the_environment(app, client, auth, make_org, make_user, runner, monkeypatch):
    import base64

    secret = base64.b64encode(b"s" * 32).decode()
    monkeypatch.setenv("ELEARN_PII_KEYS", f"env1:sm4-gcm:{secret}")
    pii.reload_keyring()
    town = make_org("镇党委")
    make_user("townadmin", org=town, role="org_admin", name="镇管理员")
    member = _create_through_page(client, auth, town)
    assert not (Path(app.instance_path) / "pii_keys.json").exists()  # no key written next to the database
    assert all(v.startswith("v1:env1:") for (v,) in _raw("user_account", "name"))
    assert _readable_through_pages(client, auth, member)
    result = runner.invoke(args=["security", "rotate-key"])
    assert result.exit_code != 0 and "ELEARN_PII_KEYS" in result.output


def test_masked_for_an_admin_who_may_not_see_them(client, auth, setup):
    member = _create_through_page(client, auth, setup["east"])
    auth.login("eastadmin")
    r = client.post(f"/admin/members/{member.id}/transfer", data={"to_org": setup["west"].id})
    assert r.status_code == 302
    # The outflow branch still sees the record, with the contact details masked…
    page = client.get(f"/admin/members/{member.id}").get_data(as_text=True)
    assert NAME in page and "139****5678" in page and "O***@example.com" in page
    assert PHONE not in page and STORED_EMAIL not in page and REASON not in page
    auth.logout()
    # …the member's own branch, the committee above and site admins see them in full.
    for admin in ("westadmin", "townadmin", "site"):
        auth.login(admin)
        page = client.get(f"/admin/members/{member.id}").get_data(as_text=True)
        assert PHONE in page and STORED_EMAIL in page, admin
        auth.logout()


def test_the_audit_export_holds_personal_values_masked(client, auth, setup):
    _create_through_page(client, auth, setup["east"])
    auth.login("site")
    r = client.get("/org/audit/export", query_string={"format": "csv", "action": "user.create"})
    text = r.data.decode("utf-8-sig")
    assert "139****5678" in text and "O***@example.com" in text
    assert PHONE not in text and STORED_EMAIL not in text and REASON not in text


def test_every_personal_column_is_encrypted_or_says_why_not():
    from elearn.extensions import Base

    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.info.get("personal"):
                if column.info.get("encrypted", True):
                    assert isinstance(column.type, EncryptedText), f"{table.name}.{column.name}"
                    assert column.type.context == f"{table.name}.{column.name}"
                else:
                    assert column.info["why"], f"{table.name}.{column.name}"


def test_backups_hold_ciphertext_and_no_key(app, client, auth, setup, runner, tmp_path):
    import subprocess
    import tarfile

    _create_through_page(client, auth, setup["east"])
    result = runner.invoke(args=["backup", "--out", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    (archive,) = (tmp_path / "backups").glob("elearn-*.tar")
    parts = []
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        for member in (m for m in tar.getmembers() if m.isfile()):
            part = tar.extractfile(member).read()
            if part.startswith(b"PGDMP"):  # pg_dump's compressed custom format: read as the SQL it restores
                part = subprocess.run(["pg_restore", "-f", "-"], input=part, capture_output=True, check=True).stdout
            parts.append(part)
    data = b"".join(parts)
    assert b"v1:k1:" in data and not any(clear in data for clear in _clear_values())
    assert not any("pii_keys" in n for n in names)  # the keys stay with the site, never in its backups


def test_the_migration_encrypts_rows_written_in_the_clear_and_is_idempotent(app):
    from flask_migrate import downgrade, upgrade

    from elearn.migrations.versions import f5c3b2d4e6a7_personal_data_encrypted as migration

    directory = app.extensions["migrate"].directory
    _db.drop_all()
    with _db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    try:
        upgrade(directory=directory, revision="e4b2a1c3d5f6")
        with _db.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO organisation (id, name, kind, sector, county_level_or_above, path) "
                                 "VALUES (1, '镇党委', 'committee', 'rural', false, '/1/')")
            conn.exec_driver_sql(
                "INSERT INTO user_account (id, username, name, phone, email, password_hash, role, category, exempt, "
                "exempt_reason, organisation_id, active, failed_logins) VALUES (1, 'old', '%s', '%s', '%s', 'x', "
                "'member', 'member', true, '%s', 1, true, 0)" % (NAME, PHONE, STORED_EMAIL, REASON))
        upgrade(directory=directory)
        (row,) = _raw("user_account", "name", "phone", "email", "exempt_reason", "name_hash", "phone_hash",
                      "email_hash")
        assert all(v.startswith("v1:k1:") for v in row[:4]) and all(v.startswith("k1:") for v in row[4:])
        user = _db.session.get(User, 1)
        assert (user.name, user.phone, user.email, user.exempt_reason) == (NAME, PHONE, STORED_EMAIL, REASON)
        assert _db.session.execute(select(User.id).where(User.phone_hash.in_(pii.lookup_hashes(PHONE)))).all()
        _db.session.rollback()
        with _db.engine.begin() as conn:  # run over an encrypted database again: nothing to do
            again = rotation.reencrypt_in(conn, pii.current_keyring(), migration._tables(), accept_plaintext=True)
        assert again.total_rewritten == 0 and again.read["user_account"] == 1
        assert _raw("user_account", "name", "phone", "email", "exempt_reason", "name_hash", "phone_hash",
                    "email_hash") == [row]
        downgrade(directory=directory, revision="e4b2a1c3d5f6")
        assert _raw("user_account", "name", "phone", "email", "exempt_reason") == [(NAME, PHONE, STORED_EMAIL,
                                                                                   REASON)]
    finally:
        _db.session.remove()
        with _db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def test_the_audit_log_is_filtered_by_an_actors_whole_name(client, auth, setup):
    _create_through_page(client, auth, setup["east"])  # by 镇管理员
    auth.login("site")

    def actions(who):
        r = client.get("/org/audit/export", query_string={"format": "csv", "who": who})
        return {row.split(",")[4] for row in r.data.decode("utf-8-sig").splitlines()[1:]}

    assert "user.create" in actions("镇管理员") and "user.create" in actions("townadm")
    assert "user.create" not in actions("镇管理") and "user.create" not in actions("西村管理员")
