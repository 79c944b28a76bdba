"""The one rule for what members write here (notes, questions, answers, replies, comments): plain text, line
breaks kept, control characters dropped, a length limit. It is never HTML: templates escape it and show the
line breaks with CSS (``white-space: pre-line``), so there is nothing for a script to hide in."""
from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _

from elearn.errors import ServiceError

# C0/C1 controls except tab and newline, and the bidirectional overrides that can disguise text
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(raw: object, max_chars: int, *, required: bool = True) -> str:
    """``raw`` as stored plain text; ServiceError ("empty_text", "text_too_long") when it does not fit."""
    text = raw if isinstance(raw, str) else ""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROLS.sub("", text).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    if required and not text:
        raise ServiceError(_("内容不能为空。"), "empty_text")
    if len(text) > max_chars:
        raise ServiceError(_("内容过长：最多 %(n)d 个字符。", n=max_chars), "text_too_long")
    return text
