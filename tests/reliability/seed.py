"""Data for the fault tests and the load benchmark, written through the services (plus one shortcut: many
members share one password hash, since argon2 is deliberately slow)."""
from __future__ import annotations

from datetime import timedelta
from unittest import mock

from elearn import clock
from elearn.auth import passwords
from elearn.courses.models import Course, Lesson, Series, SeriesCourse, SeriesTarget
from elearn.extensions import db
from elearn.media.models import MediaAsset
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.models import User
from elearn.study import services as study

PASSWORD = "Reliab1lity-pass"


def organisation_and_lecturer(name: str = "可靠性党委"):
    org = orgs.create(None, name=name, kind="committee", sector="rural")
    lecturer = users.create(None, username="rel_lecturer", name="讲师", password=PASSWORD, organisation=org,
                            role="lecturer")
    return org, lecturer


def members(org, count: int, prefix: str = "member") -> list[User]:
    """``count`` members of ``org`` created by the service; all share the first one's password hash."""
    first = users.create(None, username=f"{prefix}0", name=f"{prefix}0", password=PASSWORD, organisation=org)
    out = [first]
    with mock.patch.object(passwords, "hash_password", lambda _password, **_options: first.password_hash):
        for i in range(1, count):
            out.append(users.create(None, username=f"{prefix}{i}", name=f"{prefix}{i}", password=PASSWORD,
                                    organisation=org, commit=False))
    db.session.commit()
    return out


def published_course(lecturer, title: str = "可靠性课程", lessons: int = 1) -> Course:
    """An approved course with ``lessons`` empty lessons, published to the rural sector."""
    course = Course(title=title, category="political_theory", innovative_theory=True, lecturer=lecturer,
                    status="approved", description="关于可靠性的课程")
    db.session.add(course)
    for i in range(lessons):
        db.session.add(Lesson(course=course, title=f"第{i + 1}讲", position=i))
    series = Series(title=f"{title}专题", published=True, created_by_id=lecturer.id,
                    published_at=clock.now_utc())
    series.items.append(SeriesCourse(course=course, position=0))
    series.targets.append(SeriesTarget(kind="sector", sector="rural"))
    db.session.add(series)
    db.session.commit()
    return course


def fake_ready_asset(lesson: Lesson, duration: float, segment: float = 6.0) -> MediaAsset:
    """A ready asset without files (enough for progress reports, not for playback)."""
    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=lesson.course.lecturer_id, status="ready",
                       progress=1.0, duration_s=duration, segment_seconds=segment)
    db.session.add(asset)
    db.session.flush()
    lesson.asset_id = asset.id
    db.session.commit()
    return asset


def deliver_all_segments(user: User, asset: MediaAsset, session_id: str, minutes_ago: float = 10) -> None:
    """Record every segment of ``asset`` as delivered to ``session_id`` ``minutes_ago`` (a budget to spend)."""
    at = clock.now_utc() - timedelta(minutes=minutes_ago)
    step = asset.segment_seconds or 6.0
    k, start = 0, 0.0
    while start < asset.duration_s:
        study.record_segment_delivery(user, asset, "720p", k, start, min(start + step, asset.duration_s), session_id,
                                      now=at)
        k, start = k + 1, start + step


def transcoded_asset(lecturer, lesson: Lesson, clip: bytes, filename: str = "lecture.mp4") -> MediaAsset:
    """Upload ``clip`` for ``lesson`` and transcode it (the app's queue must run jobs inline), as its lecturer
    would before submitting the course for review."""
    import io

    from elearn.media import uploads

    status, lesson.course.status = lesson.course.status, "draft"  # approved courses are not editable
    db.session.commit()
    upload = uploads.create_upload(lecturer, lesson, filename=filename, size=len(clip))
    uploads.append_chunk(lecturer, upload, 0, io.BytesIO(clip))
    lesson.course.status = status
    db.session.commit()
    asset = db.session.get(MediaAsset, upload.asset_id)
    db.session.refresh(asset)
    assert asset.status == "ready", asset.error
    return asset
