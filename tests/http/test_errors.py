def test_404_page_in_layout(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    body = r.get_data(as_text=True)
    assert "页面不存在" in body and "党员在线课堂" in body


def test_api_404_is_json(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"


def test_500_page_and_json(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.route("/api/v1/boom")
    def api_boom():
        raise RuntimeError("kaboom")

    r = client.get("/boom")
    assert r.status_code == 500 and "服务器出错" in r.get_data(as_text=True)
    r = client.get("/api/v1/boom")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal_error"
    assert "kaboom" not in r.get_data(as_text=True)


def test_security_headers(client):
    r = client.get("/auth/login")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_healthz(client):
    on_postgres = client.application.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    expected = "postgresql" if on_postgres else "whoosh"
    assert client.get("/healthz").get_json() == {"status": "ok", "search": expected}


def test_ids_beyond_the_key_range_are_not_found(client, auth, make_user):
    # Found by the API fuzzer: such ids used to reach the driver and fail (OverflowError on SQLite past 64 bits,
    # NumericValueOutOfRange on PostgreSQL past 32 bits) with a 500.
    auth.login(make_user().username)
    assert client.get("/learn/courses/2147483648").status_code == 404
    assert client.get("/learn/courses/9223372036854775808").status_code == 404
    r = client.post("/api/v1/lessons/9223372036854775808/progress", json={},
                    headers={"X-CSRFToken": client.csrf_token()})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_database_unavailable_answers_503_json_to_scripts_and_a_page_to_people(app, client):
    from sqlalchemy.exc import OperationalError

    @app.route("/studio/_locked")
    def locked():
        raise OperationalError("UPDATE x", {}, Exception("database is locked"))

    r = client.get("/studio/_locked", headers={"Accept": "application/json"})
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "busy"
    assert r.headers["Retry-After"]
    r = client.get("/studio/_locked", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 503 and "系统繁忙" in r.get_data(as_text=True)
