"""Forms of the secretary's pages: a meeting, its minutes, an attachment, an officer appointment."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from elearn.branch import meetings
from elearn.http.forms import Form
from elearn.policy import MEETINGS

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_ID = [Optional(), NumberRange(1, 2**31 - 1, message=_l("编号无效。"))]



class MeetingForm(Form):
    kind = SelectField(_l("会议类型"))
    title = StringField(_l("会议主题"), validators=[DataRequired(_l("请填写会议主题。")),
                                                    Length(max=MEETINGS.title_max)])
    starts_at = DateTimeLocalField(_l("开始时间"), format=LOCAL_FORMAT,
                                   validators=[DataRequired(_l("请填写有效的开始时间。"))])
    ends_at = DateTimeLocalField(_l("结束时间"), format=LOCAL_FORMAT,
                                 validators=[DataRequired(_l("请填写有效的结束时间。"))])
    place = StringField(_l("地点"), validators=[Optional(), Length(max=MEETINGS.place_max)])
    online_url = StringField(_l("或线上会议链接"), validators=[Optional(), Length(max=500)])
    host_id = SelectField(_l("主持人"), coerce=int, validate_choice=False)
    lecturer_id = IntegerField(_l("主讲人（师资库编号，可不填）"), validators=_ID)
    agenda = TextAreaField(_l("议程"), validators=[Optional(), Length(max=MEETINGS.agenda_max_chars)])
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, hosts: list[tuple[int, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = meetings.kind_choices()
        self.host_id.choices = [(0, "—"), *(hosts or [])]


class MinutesForm(Form):
    minutes = TextAreaField(_l("会议记录"), validators=[Optional(), Length(max=MEETINGS.minutes_max_chars)])
    submit = SubmitField(_l("保存会议记录"))


class AttachmentForm(Form):
    file = FileField(_l("照片或文件（JPEG、PNG、PDF、DOCX、XLSX）"), validators=[FileRequired(_l("请选择文件。"))])
    submit = SubmitField(_l("上传"))


class AppointForm(Form):
    user_id = SelectField(_l("党员"), coerce=int, validate_choice=False)
    post = SelectField(_l("职务"))
    submit = SubmitField(_l("任命"))
