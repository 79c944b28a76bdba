"""Party lectures in the JSON API: the 优秀党课 and branch lectures published to me, and one of them."""
from __future__ import annotations

from flask_login import current_user

from elearn.branch import lectures
from elearn.branch.lecture_schemas import LectureItem, LectureList
from elearn.http.api import api_blueprint, operation

bp = api_blueprint("lectures_api", __name__)


def _item(view: lectures.LectureView) -> LectureItem:
    return LectureItem(id=view.id, title=view.title, speaker=view.speaker, branch=view.branch,
                       given_on=view.given_on, status=view.status, showcase_year=view.showcase_year,
                       lesson_id=view.lesson_id, rating_average=view.rating[0] if view.rating else None,
                       rating_count=view.rating[1] if view.rating else 0)


@operation(bp, "/lectures", operation_id="listLectures", response=LectureList,
           summary="The party lectures published to me: 优秀党课 and my branch's")
def list_lectures() -> LectureList:
    """Only lectures whose recording plays are listed."""
    showcased, others = lectures.member_lectures(current_user)
    return LectureList(showcased=[_item(v) for v in showcased], others=[_item(v) for v in others])


@operation(bp, "/lectures/<int:lecture_id>", operation_id="getLecture", response=LectureItem,
           errors={404: "no such lecture published to me"}, summary="One party lecture published to me")
def get_lecture(lecture_id: int) -> LectureItem:
    """A lecture the member may watch."""
    return _item(lectures.member_lecture(current_user, lecture_id))
