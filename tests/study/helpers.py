"""Helpers for the study tests: deliver segments and post reports at chosen wall-clock times."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from elearn.study import services as study

T0 = datetime(2025, 3, 1, 8, 0, 0)
SEGMENT = 6.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def deliver(user, lesson, sid, upto=None, when=0.0, segment=SEGMENT):
    """Record delivery of every segment of ``lesson`` (or those starting before ``upto``) to ``sid``."""
    duration = lesson.duration_s
    for i in range(math.ceil(duration / segment)):
        start = i * segment
        if upto is not None and start >= upto:
            break
        study.record_segment_delivery(user, lesson.asset, "720p", i, start, min(duration, start + segment), sid,
                                      now=at(when))


def report(user, lesson, sid, seq, intervals, when, position=None, rate=1.0, visible=True):
    data = {"playback_session": sid, "seq": seq, "intervals": [list(p) for p in intervals],
            "position": position if position is not None else (intervals[-1][1] if intervals else 0),
            "rate": rate, "visible": visible}
    return study.report_lesson_progress(user, lesson, study.parse_lesson_report(data), now=at(when))
