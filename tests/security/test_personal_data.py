"""Personal data is classified in the models and stays out of the logs."""
import logging

from elearn.extensions import db, personal_fields


def test_personal_fields_are_classified():
    fields = personal_fields()
    assert {"name", "phone", "email", "password_hash", "exempt_reason"} <= set(fields["user_account"])
    assert "username" not in fields["user_account"]  # a login name, shown to admins, not a personal datum


def test_errors_and_failed_logins_log_no_personal_data(app, client, auth, make_user, caplog):
    user = make_user(name="隐私测试姓名")
    user.phone = "13800138000"
    db.session.commit()  # an open write here would hold the row lock the login requests need (PostgreSQL)

    @app.route("/explode")
    def explode():
        raise RuntimeError("boom")

    with caplog.at_level(logging.DEBUG):
        auth.login(user.username, "Wr0ng-password-here")
        auth.login(user.username)
        client.get("/explode")
        client.post("/auth/password", data={"current": "Wr0ng-password-here", "new": "x", "confirm": "x"})
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "boom" in logged  # the error itself is logged …
    for secret in ("隐私测试姓名", "13800138000", "Wr0ng-password-here", "Passw0rd-test"):
        assert secret not in logged  # … but no personal data or password with it
