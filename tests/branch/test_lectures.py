"""党课开讲啦: a secretary records a lecture and uploads its real video through the pages' upload endpoints; the
branch's members play it, others do not; committees above the branch nominate and showcase it."""
from __future__ import annotations

import pytest

from elearn.audit.models import AuditEntry
from elearn.branch import lectures, officers
from elearn.branch.lecture_models import PartyLecture
from elearn.courses.models import Course
from elearn.extensions import db
from tests.media.clips import make_clip, needs_ffmpeg


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    if needs_ffmpeg.args[0]:
        pytest.skip("ffmpeg is not installed")
    return make_clip(tmp_path_factory.mktemp("clips") / "dangke.mp4").read_bytes()


@pytest.fixture
def tree(app, make_org, make_user):
    county = make_org("县委", kind="committee", county=True)
    town = make_org("镇党委", kind="committee", parent=county)
    branch = make_org("一支部", kind="branch", parent=town)
    other = make_org("二支部", kind="branch", parent=town)
    town_admin = make_user("townadm", role="org_admin", org=town)
    secretary = make_user("sec", org=branch)
    officers.appoint(town_admin, branch, secretary, "secretary")
    return {"county": county, "town": town, "branch": branch, "other": other, "town_admin": town_admin,
            "secretary": secretary, "member": make_user("mem", org=branch), "outsider": make_user("out", org=other),
            "county_admin": make_user("cadm", role="org_admin", org=county),
            "branch_admin": make_user("badm", role="org_admin", org=branch)}


def _record(client, auth, tree, title="学习党的二十大精神"):
    auth.login("sec")
    r = client.post(f"/lectures/new/{tree['branch'].id}", data={
        "title": title, "lecturer_id": "0", "meeting_id": "0", "speaker_name": "张书记", "given_on": "2026-11-20",
        "category": "political_theory", "innovative_theory": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)
    return db.session.execute(db.select(PartyLecture).order_by(PartyLecture.id.desc())).scalars().first()


def _csrf(client):
    return {"X-CSRFToken": client.csrf_token()}


def _upload(client, lecture, data):
    r = client.post(f"/lectures/{lecture.id}/uploads", json={"filename": "dangke.mp4", "size": len(data)},
                    headers=_csrf(client))
    assert r.status_code == 201, r.get_json()
    r = client.put(r.get_json()["url"] + "?offset=0", data=data, content_type="application/octet-stream",
                   headers=_csrf(client))
    assert r.status_code == 200, r.get_json()
    return r


def test_secretary_uploads_a_real_recording_and_only_the_branch_plays_it(client, auth, tree, clip):
    lecture = _record(client, auth, tree)
    assert lecture.organisation_id == tree["branch"].id and lecture.course.status == "approved"
    assert client.get(f"/lectures/{lecture.id}/upload").status_code == 200
    _upload(client, lecture, clip)  # jobs run inline in tests: transcoded now
    db.session.refresh(lecture.lesson)
    assert lecture.lesson.asset is not None and lecture.lesson.asset.status == "ready"
    status = client.get(f"/lectures/{lecture.id}/status").get_json()
    assert status["status"] == "ready" and status["current"] is True
    auth.logout()

    auth.login("mem")
    page = client.get("/lectures/").get_data(as_text=True)
    assert "学习党的二十大精神" in page and f"/learn/lessons/{lecture.lesson_id}" in page
    assert client.get(f"/learn/lessons/{lecture.lesson_id}").status_code == 200
    asset_id = lecture.lesson.asset_id
    assert client.get(f"/learn/media/{asset_id}/master.m3u8").status_code == 200
    assert client.get("/api/v1/lectures").get_json()["others"][0]["lesson_id"] == lecture.lesson_id
    auth.logout()

    auth.login("out")  # a member of another branch
    assert "学习党的二十大精神" not in client.get("/lectures/").get_data(as_text=True)
    assert client.get(f"/learn/lessons/{lecture.lesson_id}").status_code == 404
    assert client.get(f"/learn/media/{asset_id}/master.m3u8").status_code == 404
    assert client.get(f"/api/v1/lectures/{lecture.id}").status_code == 404


def test_a_plain_member_cannot_record_or_upload(client, auth, tree, make_course, make_lesson):
    lecture = lectures.record_lecture(tree["secretary"], tree["branch"], title="党课", speaker_name="张")
    auth.login("mem")
    assert client.get(f"/lectures/new/{tree['branch'].id}").status_code == 403
    assert client.post(f"/lectures/new/{tree['branch'].id}", data={
        "title": "x", "lecturer_id": "0", "meeting_id": "0", "speaker_name": "y", "given_on": "2026-11-20",
        "category": "political_theory"}).status_code == 403
    r = client.post(f"/lectures/{lecture.id}/uploads", json={"filename": "a.mp4", "size": 10},
                    headers=_csrf(client))
    assert r.status_code == 404
    # Nor through the studio's endpoint for the same lesson, nor may the secretary upload to other courses.
    assert client.post(f"/studio/lessons/{lecture.lesson_id}/uploads",
                       json={"filename": "a.mp4", "size": 10},
                    headers=_csrf(client)).status_code == 403
    auth.logout()
    auth.login("sec")
    other_lesson = make_lesson(course=make_course(status="draft"))
    assert client.post(f"/studio/lessons/{other_lesson.id}/uploads",
                       json={"filename": "a.mp4", "size": 10},
                    headers=_csrf(client)).status_code == 403
    r = client.post(f"/lectures/{lecture.id}/uploads", json={"filename": "a.mp4", "size": 0}, headers=_csrf(client))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_size"
    # Bad input on the form: a clear message, nothing recorded.
    before = db.session.query(Course).count()
    r = client.post(f"/lectures/new/{tree['branch'].id}", data={
        "title": "", "lecturer_id": "0", "meeting_id": "0", "speaker_name": "", "given_on": "2026-11-20",
        "category": "political_theory"})
    assert r.status_code == 400 and "请填写党课题目" in r.get_data(as_text=True)
    assert db.session.query(Course).count() == before


def _ready(lecture, make_lesson):
    """Give the lecture's lesson a ready asset without transcoding (the committee rules do not need video)."""
    ready = make_lesson(course=lecture.course, duration=60)
    lecture.lesson_id = ready.id
    db.session.commit()
    return lecture


def _refused(client, auth, lecture, action, users, status):
    """Each of ``users`` posts ``action`` for the lecture, which stays ``status``."""
    for who in users:
        auth.login(who)
        client.post(f"/lectures/{lecture.id}/{action}")
        db.session.refresh(lecture)
        assert lecture.status == status, who
        auth.logout()


def test_nomination_and_showcase_by_the_committee_above_only(client, auth, tree, make_lesson):
    lecture = _ready(lectures.record_lecture(tree["secretary"], tree["branch"], title="初心使命",
                                             speaker_name="李"), make_lesson)
    # the branch itself, its own admin and other branches may not
    _refused(client, auth, lecture, "nominate", ("sec", "mem", "badm", "out"), "recorded")

    auth.login("townadm")
    assert "初心使命" in client.get("/lectures/manage").get_data(as_text=True)
    r = client.post(f"/lectures/{lecture.id}/showcase", data={"year": "2026"})
    assert "请先推荐该党课" in client.get(r.headers["Location"]).get_data(as_text=True)
    client.post(f"/lectures/{lecture.id}/nominate")
    db.session.refresh(lecture)
    assert lecture.status == "nominated"
    r = client.post(f"/lectures/{lecture.id}/showcase", data={"year": "1900"})
    assert "年度无效" in client.get(r.headers["Location"]).get_data(as_text=True)
    client.post(f"/lectures/{lecture.id}/showcase", data={"year": "2026"})
    db.session.refresh(lecture)
    assert lecture.status == "showcased" and lecture.showcase_year == 2026
    assert lecture.showcase_organisation_id == tree["town"].id
    actions = [a for (a,) in db.session.execute(db.select(AuditEntry.action).where(
        AuditEntry.object_type == "party_lecture"))]
    assert actions == ["lecture.create", "lecture.nominate", "lecture.showcase"]
    auth.logout()

    # Showcased to the town's subtree: the other branch's member now sees and may watch it.
    auth.login("out")
    page = client.get("/lectures/").get_data(as_text=True)
    assert "初心使命" in page and "2026 年度优秀党课" in page
    assert client.get(f"/learn/lessons/{lecture.lesson_id}").status_code == 200
    listing = client.get("/api/v1/lectures").get_json()
    assert [x["id"] for x in listing["showcased"]] == [lecture.id] and listing["showcased"][0]["showcase_year"] == 2026


def test_a_showcase_is_withdrawn_by_its_committee_only_and_credit_earned_stays(client, auth, tree, make_lesson):
    """The town showcases a lecture, and the other branch's member watches it through. The branch's secretary,
    its own admin and that member may not withdraw the showcase; the county above the town may. Then it leaves
    the member's list and lessons, stays the branch's own, is nominated again (to be showcased anew, for another
    year), and the hours the member was credited stay."""
    from elearn.ledger import services as ledger
    from tests.study.helpers import deliver, report

    lecture = _ready(lectures.record_lecture(tree["secretary"], tree["branch"], title="初心使命",
                                             speaker_name="李"), make_lesson)
    lectures.nominate(tree["town_admin"], lecture)
    lectures.showcase(tree["town_admin"], lecture, 2026)
    outsider = tree["outsider"]
    deliver(outsider, lecture.lesson, "eeeeeeee-6666")
    report(outsider, lecture.lesson, "eeeeeeee-6666", 0, [(0, 30)], when=20)
    assert report(outsider, lecture.lesson, "eeeeeeee-6666", 1, [(30, 60)], when=40).completed
    hours = ledger.total_hours(outsider)
    assert hours > 0

    _refused(client, auth, lecture, "unshowcase", ("sec", "badm", "out"), "showcased")

    auth.login("cadm")
    assert f"/lectures/{lecture.id}/unshowcase" in client.get("/lectures/manage").get_data(as_text=True)
    r = client.post(f"/lectures/{lecture.id}/unshowcase")
    assert "已撤销优秀党课" in client.get(r.headers["Location"]).get_data(as_text=True)
    db.session.refresh(lecture)
    assert (lecture.status, lecture.showcase_year, lecture.showcase_series_id) == ("nominated", None, None)
    r = client.post(f"/lectures/{lecture.id}/unshowcase")  # again: refused with a message, nothing recorded
    assert "该党课不是优秀党课" in client.get(r.headers["Location"]).get_data(as_text=True)
    actions = [a for (a,) in db.session.execute(db.select(AuditEntry.action).where(
        AuditEntry.object_type == "party_lecture").order_by(AuditEntry.id))]
    assert actions[-2:] == ["lecture.showcase", "lecture.unshowcase"]
    auth.logout()

    auth.login("out")
    assert "初心使命" not in client.get("/lectures/").get_data(as_text=True)
    assert client.get(f"/learn/lessons/{lecture.lesson_id}").status_code == 404
    assert client.get("/api/v1/lectures").get_json()["showcased"] == []
    assert ledger.total_hours(outsider) == hours
    auth.logout()
    auth.login("mem")
    assert "初心使命" in client.get("/lectures/").get_data(as_text=True)  # the branch's own series stays
    assert client.get(f"/learn/lessons/{lecture.lesson_id}").status_code == 200
    auth.logout()

    lectures.showcase(tree["town_admin"], lecture, 2027)
    assert (lecture.status, lecture.showcase_year) == ("showcased", 2027)


def test_an_unplayable_lecture_cannot_be_nominated(tree):
    lecture = lectures.record_lecture(tree["secretary"], tree["branch"], title="待上传", speaker_name="王")
    from elearn.errors import ServiceError
    with pytest.raises(ServiceError):
        lectures.nominate(tree["county_admin"], lecture)


def test_a_lecture_names_its_meeting_and_shows_its_rating(client, auth, tree, make_lesson):
    from datetime import datetime, timedelta

    from elearn import clock
    from elearn.branch import meetings
    from elearn.community.models import CourseRating
    start = clock.now_utc() - timedelta(days=2)
    meeting = meetings.create_meeting(tree["secretary"], tree["branch"], kind="lecture", title="十一月党课",
                                      starts_at=start, ends_at=start + timedelta(hours=1))
    elsewhere = meetings.create_meeting(tree["town_admin"], tree["other"], kind="lecture", title="别的支部",
                                        starts_at=start, ends_at=start + timedelta(hours=1))
    auth.login("sec")
    assert "十一月党课" in client.get(f"/lectures/new/{tree['branch'].id}").get_data(as_text=True)
    r = client.post(f"/lectures/new/{tree['branch'].id}", data={
        "title": "跨支部", "lecturer_id": "0", "meeting_id": str(elsewhere.id), "speaker_name": "张",
        "given_on": "2026-11-20", "category": "political_theory"})
    assert r.status_code == 400  # not a meeting of this branch: refused, nothing recorded
    assert db.session.execute(db.select(PartyLecture)).first() is None
    lecture = lectures.record_lecture(tree["secretary"], tree["branch"], title="十一月党课", speaker_name="张",
                                      meeting_id=meeting.id)
    db.session.refresh(meeting)
    assert meeting.lesson_id == lecture.lesson_id
    _ready(lecture, make_lesson)
    now = datetime.utcnow()
    db.session.add(CourseRating(user_id=tree["member"].id, course_id=lecture.course_id, stars=4, comment="",
                                created_at=now, updated_at=now))
    db.session.commit()
    auth.logout()
    auth.login("mem")
    assert "评分 4.0（1 人）" in client.get("/lectures/").get_data(as_text=True)
    item = client.get(f"/api/v1/lectures/{lecture.id}").get_json()
    assert item["rating_average"] == 4.0 and item["rating_count"] == 1
