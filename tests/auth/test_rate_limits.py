"""Rates no person reaches are refused (429), per address and per name typed at sign-in, per user for
heartbeats and searches; unknown names are limited like real ones, so the limit tells nothing."""
from __future__ import annotations

import pytest

from elearn import policy
from tests.conftest import PASSWORD


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True}


def _per_minute(rule: str) -> int:
    return int(rule.split(" per minute")[0].split(";")[0])


def test_sign_in_attempts_per_name_are_limited_alike_for_unknown_names(client, auth, make_user):
    user = make_user()
    allowed = _per_minute(policy.LOGIN_LIMIT_PER_NAME)
    answers = {}
    for name in (user.username, "no-such-name"):
        statuses = [auth.login(name, "wrong-guess1").status_code for _ in range(allowed)]
        assert set(statuses) == {401}
        refused = auth.login(name, "wrong-guess1")
        answers[name] = (refused.status_code, "请求过于频繁" in refused.get_data(as_text=True))
    assert answers[user.username] == answers["no-such-name"] == (429, True)


def test_sign_in_per_address(app, client, auth, make_user):
    allowed = _per_minute(policy.LOGIN_LIMIT_PER_ADDRESS)
    for i in range(allowed):
        auth.login(f"name{i}", "wrong-guess1")
    user = make_user()
    r = auth.login(user.username, PASSWORD)
    assert r.status_code == 429 and r.headers.get("Retry-After")


def test_a_meeting_room_signing_in_at_once_is_not_throttled(app, client, auth, make_user):
    """Only refused sign-ins count: more sign-ins than either limit allows, from one address and one name
    (a shared meeting-room PC signing in again and again)."""
    member = make_user()
    for _ in range(_per_minute(policy.LOGIN_LIMIT_PER_ADDRESS) + 5):
        assert auth.login(member.username, PASSWORD).status_code in (302, 303)
        auth.logout()


def test_heartbeats_beyond_any_player_are_refused_as_json(app, client, auth, make_user):
    auth.login(make_user().username)
    allowed = _per_minute(policy.HEARTBEAT_LIMIT_PER_USER)
    for seq in range(allowed):
        r = client.post("/api/v1/lessons/1/progress", headers={"X-CSRFToken": client.csrf_token()},
                        json={"playback_session": "abcdefgh-rate", "seq": seq, "intervals": [], "position": 0,
                              "rate": 1, "visible": True})
        assert r.status_code == 404  # no such lesson: counted all the same
    r = client.post("/api/v1/lessons/1/progress", headers={"X-CSRFToken": client.csrf_token()},
                    json={"playback_session": "abcdefgh-rate", "seq": allowed, "intervals": [], "position": 0,
                          "rate": 1, "visible": True})
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "too_many_requests"
