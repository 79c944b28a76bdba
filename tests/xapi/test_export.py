"""``elearn xapi export``: the statements of a period as JSON lines, from the outbox, with no LRS configured."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest

from elearn.orgs import members
from elearn.quiz import services as quizzes
from tests.conftest import PASSWORD
from tests.xapi.conftest import HOME
from tests.xapi.test_lrs import take_quiz


@pytest.fixture
def app_config():
    """No LRS: the outbox is the record."""
    return {"ELEARN_XAPI_HOMEPAGE": HOME}


@pytest.fixture
def quiz(make_org, make_user, make_course, publish):
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer)
    publish([course], sectors=["rural"])
    quizzes.add_question(lecturer, course, kind="single", text="党的根本宗旨", options=["全心全意为人民服务", "其他"],
                         correct=[0], explanation="见党章总纲")
    return quizzes.save_quiz(lecturer, course, title="小测", question_count=1, pass_percent=100, max_attempts=2,
                             time_limit_minutes=None, hours=0.5, published=True)


@pytest.fixture
def member(make_org, db):
    return members.create(None, username="exporter", name="导出者", password=PASSWORD,
                          organisation=make_org(sector="rural"), email="Li.Ming@example.org")


def verb_of(line: str) -> str:
    return json.loads(line)["verb"]["id"].rsplit("/", 1)[1]


def test_export_writes_the_statements_of_the_period_in_site_days(client, auth, runner, site_clock, quiz, member,
                                                                 tmp_path):
    auth.login(member.username)
    site_clock.set_site(datetime(2025, 5, 1, 10, 0))
    take_quiz(client, quiz, member, right=False)
    site_clock.set_site(datetime(2025, 5, 2, 23, 30))  # 15:30 UTC: still 2 May on the site
    take_quiz(client, quiz, member, right=True)

    target = tmp_path / "may-1.jsonl"
    result = runner.invoke(args=["xapi", "export", "--from", "2025-05-01", "--to", "2025-05-01",
                                 "--output", str(target)])
    assert result.exit_code == 0 and "1 statements written" in result.output
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [verb_of(line) for line in lines] == ["failed"]
    statement = json.loads(lines[0])
    assert statement["timestamp"] == "2025-05-01T02:00:00.000Z"
    assert statement["actor"] == {"objectType": "Agent", "account": {"homePage": HOME, "name": str(member.id)}}
    assert statement["result"]["score"]["scaled"] == 0.0

    result = runner.invoke(args=["xapi", "export", "--from", "2025-05-01", "--to", "2025-05-02"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert sorted(verb_of(line) for line in lines) == ["earned", "failed", "passed"]
    assert "3 statements" in result.stderr
    assert len({json.loads(line)["id"] for line in lines}) == 3

    result = runner.invoke(args=["xapi", "export", "--from", "2025-05-03", "--to", "2025-05-03"])
    assert result.exit_code == 0 and result.stdout == ""


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2025-13-01", "--to", "2025-12-31"], "is not a date"),
    (["--from", "2025-05-02", "--to", "2025-05-01"], "--to is before --from"),
    (["--from", "2025-05-01"], "Missing option '--to'"),
    (["--from", "2025-05-01", "--to", "2025-05-01", "--output", "/nonexistent-folder/x.jsonl"], "does not exist"),
])
def test_export_refuses_bad_input_with_a_message(runner, app, args, message):
    result = runner.invoke(args=["xapi", "export", *args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_a_failed_export_leaves_no_partial_file(runner, app, tmp_path, monkeypatch):
    from elearn.xapi import services

    def broken(_start, _end):
        yield "{}"
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "export_lines", broken)
    folder = tmp_path / "exports"
    folder.mkdir()
    result = runner.invoke(args=["xapi", "export", "--from", "2025-05-01", "--to", "2025-05-01",
                                 "--output", str(folder / "out.jsonl")])
    assert result.exit_code == 1
    assert list(folder.iterdir()) == []


def test_mailbox_hash_actor_holds_no_address(app, client, auth, runner, quiz, member):
    app.config["ELEARN_XAPI_ACTOR"] = "mbox_sha1sum"
    auth.login(member.username)
    take_quiz(client, quiz, member, right=True)
    result = runner.invoke(args=["xapi", "export", "--from", "2000-01-01", "--to", "2100-01-01"])
    lines = result.stdout.splitlines()
    expected = hashlib.sha1(b"mailto:li.ming@example.org").hexdigest()
    assert len(lines) == 2
    assert all(json.loads(line)["actor"] == {"objectType": "Agent", "mbox_sha1sum": expected} for line in lines)
    assert "example.org" not in result.stdout and "导出者" not in result.stdout


def test_flush_without_an_lrs_says_so(runner, app):
    result = runner.invoke(args=["xapi", "flush"])
    assert result.exit_code == 1 and "no LRS configured" in result.output


def test_an_attempt_past_its_time_limit_is_a_failed_statement(client, auth, runner, site_clock, member, make_user,
                                                             make_course, publish):
    from elearn.policy import POLICY

    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer)
    publish([course], sectors=["rural"])
    quizzes.add_question(lecturer, course, kind="single", text="题", options=["对", "错"], correct=[0])
    timed = quizzes.save_quiz(lecturer, course, title="限时测验", question_count=1, pass_percent=100, max_attempts=2,
                              time_limit_minutes=1, hours=0.5, published=True)
    auth.login(member.username)
    assert client.post(f"/quiz/{timed.id}/start").status_code == 302
    attempt = quizzes.attempts_of(member, timed)[0]
    site_clock.advance(60 + POLICY.quiz_time_grace_s + 1)
    client.post(f"/quiz/attempt/{attempt.id}", data={f"q{attempt.drawn[0]['q']}": "0"})
    lines = runner.invoke(args=["xapi", "export", "--from", "2000-01-01", "--to", "2100-01-01"]).stdout.splitlines()
    assert [verb_of(line) for line in lines] == ["failed"]
    statement = json.loads(lines[0])
    assert statement["result"]["success"] is False and statement["result"]["score"]["raw"] == 0.0
    assert statement["context"]["extensions"][f"{HOME}/xapi/extensions/expired"] is True
