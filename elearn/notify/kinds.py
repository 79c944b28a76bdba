"""The kinds of notification, one registry: code → label (what the settings page shows) and whether it reaches
members by e-mail unless they choose otherwise. Every caller of :func:`elearn.notify.services.notify` passes one
of these codes; a member's :class:`~elearn.notify.models.NotificationPreference` overrides the default."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Kind:
    code: str
    label: object  # a lazy string
    email_default: bool


KINDS: dict[str, Kind] = {k.code: k for k in (
    Kind("series_required", _l("有必修专题发布给我"), True),
    Kind("series_due", _l("必修专题 7 天内截止"), True),
    Kind("behind_pace", _l("学时进度落后"), True),
    Kind("quiz_graded", _l("测验已评分"), False),
    Kind("transfer_recorded", _l("组织关系转接已登记"), True),
    Kind("group_session_scheduled", _l("为我安排了集中培训"), True),
    Kind("meeting_scheduled", _l("为我安排了支部会议"), True),
    Kind("survey_published", _l("有新的需求调查"), False),
    Kind("political_birthday", _l("政治生日"), False),
    Kind("question_answered", _l("我的提问有了回复"), False),
    Kind("announcement", _l("公告"), False),
)}

# Not a kind of message: the member's choice of one daily e-mail listing the day's notifications instead of
# one e-mail per message (off unless chosen).
DIGEST = "digest"


def is_kind(code: str) -> bool:
    return code in KINDS


def email_default(code: str) -> bool:
    """Whether ``code`` reaches a member by e-mail when they have not chosen (unknown kinds: never)."""
    kind = KINDS.get(code)
    return kind.email_default if kind is not None else False
