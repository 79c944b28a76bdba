"""The subtitle upload form of the studio's lesson page."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    SelectField,
    SubmitField,
)

from elearn.http.forms import Form
from elearn.policy import SUBTITLE_LANGUAGES


class SubtitleForm(Form):
    file = FileField(_l("字幕文件（.srt 或 .vtt）"), validators=[FileRequired(_l("请选择字幕文件。"))],
                     render_kw={"accept": ".srt,.vtt"})
    lang = SelectField(_l("语言"))
    submit = SubmitField(_l("上传字幕"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lang.choices = [(k, str(v)) for k, v in SUBTITLE_LANGUAGES.items()]
