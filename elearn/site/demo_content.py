"""Demo courses: real video made by ffmpeg and run through the pipeline, subtitles, a reading, a quiz,
series published to sectors, and an off-job training record — so every page has something true to show."""
from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from elearn import clock
from elearn.courses import review, series
from elearn.courses import services as courses
from elearn.courses.models import Course
from elearn.extensions import db
from elearn.media import services as media
from elearn.media import uploads
from elearn.orgs.models import Organisation, User
from elearn.quiz import services as quiz
from elearn.readings import services as readings
from elearn.readings.models import Reading
from elearn.site import demo
from elearn.training import services as offline

DEMO_COURSE_THEORY = "学习贯彻习近平新时代中国特色社会主义思想"
DEMO_COURSE_RULES = "党章党规党纪专题教育"
DEMO_CLIP_SECONDS = 48

SUBTITLE_LINES = [
    "同志们好，今天我们学习党的创新理论。",
    "用党的创新理论武装头脑、指导实践、推动工作。",
    "坚持学思用贯通、知信行统一。",
    "把学习成效转化为推动高质量发展的实际行动。",
    "增强“四个意识”、坚定“四个自信”、做到“两个维护”。",
    "谢谢大家，请完成课后测验。",
]

QUESTIONS = [
    ("single", "党员教育培训规划的周期是哪几年？", ["2024—2028年", "2019—2023年", "2021—2025年"], [0]),
    ("truefalse", "党员每年参加集中学习培训时间一般不少于32学时。", ["正确", "错误"], [0]),
    ("multiple", "以下哪些属于党员教育培训的基本任务？",
     ["政治理论教育", "党章党规党纪教育", "革命传统教育", "娱乐活动"], [0, 1, 2]),
    ("single", "“三会一课”中的“一课”指的是什么？", ["党课", "网课", "选修课"], [0]),
    ("truefalse", "年老体弱、行动不便的党员可以不作硬性要求。", ["正确", "错误"], [0]),
]


def _make_clip(path: Path, seconds: int, pitch: int) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency={pitch}:duration={seconds}",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True)


def _srt(seconds: int) -> bytes:
    step = seconds / len(SUBTITLE_LINES)
    out = []
    for i, line in enumerate(SUBTITLE_LINES):
        def ts(t: float) -> str:
            ms = round(t * 1000)
            return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"
        out.append(f"{i + 1}\n{ts(i * step)} --> {ts((i + 1) * step - 0.2)}\n{line}\n")
    return "\n".join(out).encode("utf-8")


def _lesson_with_video(lecturer: User, course: Course, title: str, workdir: Path, pitch: int,
                       echo: Callable[[str], None]):
    lesson = courses.add_lesson(lecturer, course, title=title, description="")
    media.add_subtitle(lecturer, lesson, _srt(DEMO_CLIP_SECONDS), "demo.srt")
    clip = workdir / f"lesson-{lesson.id}.mp4"
    _make_clip(clip, DEMO_CLIP_SECONDS, pitch)
    upload = uploads.create_upload(lecturer, lesson, filename=clip.name, size=clip.stat().st_size)
    with open(clip, "rb") as fh:
        uploads.append_chunk(lecturer, upload, 0, fh)
    echo(f"  transcoding demo video for 《{title}》…")
    # Done here rather than by the worker so that the demo course is complete when `make run` opens the site;
    # the queued job then finds the asset ready and does nothing.
    media.transcode_asset(upload.asset_id)
    db.session.refresh(lesson)
    return lesson


def load(echo: Callable[[str], None] = print) -> bool:
    """Create the demo courses once. Returns False when they are already there."""
    if db.session.execute(select(Course).where(Course.title == DEMO_COURSE_THEORY)).scalar_one_or_none():
        return False
    admin = demo.account("admin")
    lecturer = demo.account("lecturer")
    secretary = demo.account("secretary")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        theory = courses.create_course(
            lecturer, title=DEMO_COURSE_THEORY, category="political_theory", innovative_theory=True,
            description="系统学习**党的创新理论**，深刻领悟“两个确立”的决定性意义。")
        _lesson_with_video(lecturer, theory, "第一讲：党的创新理论的时代意义", work, 440, echo)
        _lesson_with_video(lecturer, theory, "第二讲：以学促干，推动高质量发展", work, 523, echo)
        rules = courses.create_course(
            lecturer, title=DEMO_COURSE_RULES, category="party_rules", innovative_theory=False,
            description="学纪、知纪、明纪、守纪。")
        _lesson_with_video(lecturer, rules, "第一讲：学习《中国共产党纪律处分条例》", work, 330, echo)
    for question in QUESTIONS:
        kind, text, options, correct = question
        quiz.add_question(lecturer, theory, kind=kind, text=text, options=options, correct=correct)
    quiz.save_quiz(lecturer, theory, title="课后测验", question_count=3, pass_percent=60, max_attempts=3,
                   time_limit_minutes=10, hours=0.5, published=True)
    for course in (theory, rules):
        courses.submit_for_review(lecturer, course)
        review.approve(admin, course, "内容准确，同意发布。")
    load_demo_reading(admin, theory)

    today = clock.site_today()
    first = series.save(admin, None, title="2026年度党员集中学习专题", required=True, due_on=today + timedelta(days=45),
                        description="农村、机关和新就业群体党员必学。",
                        course_ids=[theory.id, rules.id],
                        audience=series.Audience(sectors=("rural", "government", "emerging.gig")))
    series.publish(admin, first)
    second = series.save(admin, None, title="城市社区党员学纪专题", required=False,
                         course_ids=[rules.id], audience=series.Audience(sectors=("community",)))
    series.publish(admin, second)

    city = db.session.execute(select(Organisation).where(Organisation.name == "示范市委")).scalar_one()
    offline.record_training(admin, organisation=city, title="基层党组织书记脱产培训班", organiser="示范市委组织部",
                            organiser_level="county_above", offjob=True, category="political_theory",
                            innovative_theory=True, starts_on=today - timedelta(days=60),
                            ends_on=today - timedelta(days=56), days=5, attendees=[secretary])  # in the trend
    return True


DEMO_READING_FILE = Path(__file__).resolve().parent / "demo_data" / \
    "national-member-education-plan-2024-2028.txt"


def load_demo_reading(admin_user: User, course: Course | None = None) -> Reading:
    """Import the national plan (2024–2028) as a reading by ``admin_user``, attached to ``course`` if given.

    Idempotent: returns the existing reading when one with the same file name was uploaded before.
    """
    existing = db.session.execute(select(Reading).where(Reading.filename == DEMO_READING_FILE.name)
                                  .limit(1)).scalar_one_or_none()
    if existing is not None:
        if course is not None:
            readings.attach(admin_user, existing, course)
        return existing
    return readings.upload(admin_user, DEMO_READING_FILE.read_bytes(), DEMO_READING_FILE.name, source_kind="document",
                  course=course)
