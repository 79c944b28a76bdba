from pathlib import Path

from sqlalchemy import select

from elearn.auth.models import ApiToken
from elearn.extensions import db
from elearn.orgs.models import Organisation, User
from elearn.site import backup


def test_demo_is_idempotent_and_prints_logins(runner):
    first = runner.invoke(args=["demo", "--no-courses"])
    assert first.exit_code == 0, first.output
    assert "admin" in first.output and "Demo2024pass" in first.output
    n_users = len(db.session.execute(select(User)).scalars().all())
    second = runner.invoke(args=["demo", "--no-courses"])
    assert second.exit_code == 0 and "already present" in second.output
    assert len(db.session.execute(select(User)).scalars().all()) == n_users
    roles = {u.role for u in db.session.execute(select(User)).scalars()}
    cats = {u.category for u in db.session.execute(select(User)).scalars()}
    assert roles == {"member", "lecturer", "org_admin", "site_admin"}
    assert cats == {"member", "branch_secretary", "cadre"}
    assert any(u.exempt for u in db.session.execute(select(User)).scalars())
    sectors = {o.sector for o in db.session.execute(select(Organisation)).scalars()}
    assert len(sectors) >= 5


def test_create_user_and_issue_token(runner, make_org):
    org = make_org()
    r = runner.invoke(args=["create-user", "cliuser", "--name", "命令行", "--org", str(org.id),
                            "--password", "Cl1-password"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["issue-token", "cliuser"])
    assert r.exit_code == 0 and r.output.strip().startswith("elt_")
    assert db.session.execute(select(ApiToken)).scalar_one().token_hash != r.output.strip()


def test_create_user_refuses_weak_password(runner, make_org):
    org = make_org()
    r = runner.invoke(args=["create-user", "weak", "--name", "x", "--org", str(org.id), "--password", "abc"])
    assert r.exit_code != 0 and "至少" in r.output
    assert db.session.execute(select(User).where(User.username == "weak")).scalar_one_or_none() is None


def test_issue_token_unknown_user(runner):
    r = runner.invoke(args=["issue-token", "ghost"])
    assert r.exit_code != 0 and "ghost" in r.output


def test_backup_and_restore_roundtrip(app, runner, make_user, tmp_path):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        import shutil

        import pytest
        if not shutil.which("pg_dump"):
            pytest.fail("pg_dump is required for the PostgreSQL backup test")
    user = make_user(name="备份前")
    media = Path(app.config["ELEARN_DATA_DIR"]) / "media" / "1"
    media.mkdir(parents=True)
    (media / "master.m3u8").write_text("#EXTM3U\n")
    r = runner.invoke(args=["backup", "--out", str(tmp_path / "bk")])
    assert r.exit_code == 0, r.output
    archive = next((tmp_path / "bk").glob("elearn-*.tar"))
    user.name = "备份后"
    db.session.commit()
    (media / "master.m3u8").unlink()
    uid = user.id
    backup.restore(archive)
    assert db.session.get(User, uid).name == "备份前"
    assert (media / "master.m3u8").read_text() == "#EXTM3U\n"
