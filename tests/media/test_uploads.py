import hashlib
import io

import pytest

from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.http.errors import status_for
from elearn.media import tasks as media_tasks
from elearn.media import uploads
from elearn.media.models import MediaAsset, UploadSession
from elearn.storage import get_storage

DATA = bytes(range(256)) * 40  # 10 240 bytes


@pytest.fixture
def queued(enqueued):
    return enqueued


@pytest.fixture
def lesson(make_user, make_course, make_lesson):
    lecturer = make_user("lect", role="lecturer")
    return make_lesson(course=make_course(lecturer=lecturer, status="draft"))


def _send(user, upload, data, offset):
    return uploads.append_chunk(user, upload, offset, io.BytesIO(data))


def test_chunks_are_appended_in_order_then_the_job_is_queued(lesson, queued):
    user = lesson.course.lecturer
    upload = uploads.create_upload(user, lesson, filename="C:\\录像\\第一讲.MP4", size=len(DATA),
                                   sha256=hashlib.sha256(DATA).hexdigest())
    assert upload.filename == "第一讲.MP4" and uploads.current_offset(upload) == 0
    _send(user, upload, DATA[:4000], 0)
    assert uploads.current_offset(upload) == 4000 and upload.status == "open"
    assert queued == []
    _send(user, upload, DATA[4000:], 4000)
    asset = db.session.get(MediaAsset, upload.asset_id)
    assert upload.status == "complete" and asset.status == "queued"
    assert asset.source_key.endswith("/source.mp4")
    assert get_storage().path(asset.source_key).read_bytes() == DATA
    assert queued == [(media_tasks.transcode_asset, (asset.id,))]
    assert lesson.asset_id is None  # the lesson changes only when the transcode is ready


def test_wrong_offset_is_refused_with_the_offset_to_resume_from(lesson, queued):
    user = lesson.course.lecturer
    upload = uploads.create_upload(user, lesson, filename="a.mp4", size=len(DATA))
    _send(user, upload, DATA[:1000], 0)
    for wrong in (0, 500, 2000):
        with pytest.raises(uploads.OffsetMismatch) as exc:
            _send(user, upload, DATA[wrong:wrong + 100], wrong)
        assert exc.value.offset == 1000 and status_for(exc.value) == 409
    assert get_storage().path(upload.storage_key).read_bytes() == DATA[:1000]


def test_announcing_the_same_file_again_resumes_the_open_upload(lesson, queued):
    user = lesson.course.lecturer
    first = uploads.create_upload(user, lesson, filename="a.mp4", size=len(DATA))
    _send(user, first, DATA[:3000], 0)
    again = uploads.create_upload(user, lesson, filename="a.mp4", size=len(DATA))
    assert again.id == first.id and uploads.describe(again)["offset"] == 3000
    _send(user, again, DATA[3000:], 3000)
    assert again.status == "complete" and len(queued) == 1


def test_a_different_file_replaces_the_open_upload(lesson, queued):
    user = lesson.course.lecturer
    first = uploads.create_upload(user, lesson, filename="a.mp4", size=len(DATA))
    _send(user, first, DATA[:100], 0)
    second = uploads.create_upload(user, lesson, filename="b.mp4", size=5)
    assert second.id != first.id
    assert first.status == "aborted" and not get_storage().exists(first.storage_key)
    assert db.session.get(MediaAsset, first.asset_id).status == "failed"


def test_size_limit(app, lesson, queued):
    app.config["ELEARN_MAX_UPLOAD_MB"] = 1
    with pytest.raises(ServiceError) as exc:
        uploads.create_upload(lesson.course.lecturer, lesson, filename="big.mp4", size=1024 * 1024 + 1)
    assert status_for(exc.value) == 413
    for size in (0, -5, "12"):
        with pytest.raises(ServiceError):
            uploads.create_upload(lesson.course.lecturer, lesson, filename="x.mp4", size=size)
    assert db.session.query(UploadSession).count() == 0 and db.session.query(MediaAsset).count() == 0


def test_more_data_than_announced_is_refused(lesson, queued):
    user = lesson.course.lecturer
    upload = uploads.create_upload(user, lesson, filename="a.mp4", size=100)
    _send(user, upload, b"x" * 60, 0)
    with pytest.raises(ServiceError) as exc:
        _send(user, upload, b"y" * 60, 60)
    assert exc.value.code == "too_much_data"
    assert uploads.current_offset(upload) == 60 and queued == []


def test_checksum_mismatch_fails_the_upload_and_queues_nothing(lesson, queued):
    user = lesson.course.lecturer
    upload = uploads.create_upload(user, lesson, filename="a.mp4", size=len(DATA), sha256="0" * 64)
    _send(user, upload, DATA, 0)
    asset = db.session.get(MediaAsset, upload.asset_id)
    assert upload.status == "failed" and asset.status == "failed" and "SHA-256" in asset.error
    assert queued == [] and not get_storage().exists(upload.storage_key)
    with pytest.raises(ServiceError):
        _send(user, upload, b"", len(DATA))


def test_bad_checksum_format_is_refused(lesson):
    with pytest.raises(ServiceError):
        uploads.create_upload(lesson.course.lecturer, lesson, filename="a.mp4", size=10, sha256="abc")


def test_uploads_belong_to_their_user(lesson, make_user, queued):
    upload = uploads.create_upload(lesson.course.lecturer, lesson, filename="a.mp4", size=10)
    with pytest.raises(NotFound):
        uploads.get_upload(make_user(role="lecturer"), upload.id)
    with pytest.raises(NotFound):
        uploads.get_upload(lesson.course.lecturer, "no-such-upload")


def test_approved_course_takes_no_upload(make_user, make_course, make_lesson):
    lecturer = make_user(role="lecturer")
    lesson = make_lesson(course=make_course(lecturer=lecturer, status="approved"))
    with pytest.raises(ServiceError) as exc:
        uploads.create_upload(lecturer, lesson, filename="a.mp4", size=10)
    assert status_for(exc.value) == 403
