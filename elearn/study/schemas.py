"""Payloads of the study API: the heartbeats players and readers send, and what they get back."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from elearn.http.schemas import Payload
from elearn.policy import POLICY

SESSION_ID_PATTERN = r"^[A-Za-z0-9-]{8,64}$"
MAX_SEQ = 2**31 - 1
MIN_RATE_ACCEPTED = 0.0625  # the slowest rate any player offers is 0.25; below 1/16 it is not playing
MAX_RATE_ACCEPTED = 16.0  # a declared rate above this is nonsense rather than a fast player
MAX_POSITION_S = 10**7

SessionId = Annotated[str, Field(pattern=SESSION_ID_PATTERN, description="the player's playback session (a UUID)")]
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ, description="report number within the session, increasing")]
Seconds = Annotated[float, Field(ge=0, le=MAX_POSITION_S)]
# [start, end] of media played (a JSON array of two numbers)
Interval = Annotated[list[Seconds], Field(min_length=2, max_length=2)]


class LessonReport(Payload):
    """A playback heartbeat: media intervals played since the last report, where the player is, at what
    rate, and whether the page is visible."""

    playback_session: SessionId
    seq: Seq
    intervals: Annotated[list[Interval], Field(max_length=POLICY.report_max_intervals)]
    position: Seconds
    rate: Annotated[float, Field(ge=MIN_RATE_ACCEPTED, le=MAX_RATE_ACCEPTED)]
    visible: bool
    ended: bool = False

    @field_validator("intervals")
    @classmethod
    def _intervals_are_ordered(cls, value: list[list[float]]) -> list[list[float]]:
        span = 0.0
        for start, end in value:
            if end < start:
                raise ValueError("each interval must satisfy 0 ≤ start ≤ end")
            span += end - start
        if span > POLICY.report_max_span_s:
            raise ValueError("a single report claims too much playback")
        return value


class ReadingReport(Payload):
    """A reading heartbeat: active (visible, recently scrolled) seconds since the last report."""

    playback_session: SessionId
    seq: Seq
    active_seconds: Annotated[float, Field(ge=0, le=POLICY.report_max_span_s)]
    position: Annotated[float, Field(ge=0, le=1, description="scroll fraction")]
    visible: bool


RefusalReason = Literal["duplicate", "hidden", "rate", "budget", "evidence", "early", "attention"]


class LessonProgress(BaseModel):
    lesson_id: int
    accepted: bool
    credited_seconds: float = Field(description="newly credited by this report (0 for reads)")
    watched_seconds: float
    duration_seconds: float
    coverage: float
    position: float
    completed: bool
    reason: RefusalReason | None = None
    hours_credited: float = Field(0.0, description="学时 written to the ledger by this report (on completion)")
    attention: str | None = Field(None, description="an open attention check: show a prompt, answer with this")


class AttentionAnswer(Payload):
    """The member answered an attention check."""

    token: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


class AttentionAnswered(BaseModel):
    answered: bool


class ReadingProgress(BaseModel):
    reading_id: int
    accepted: bool
    credited_seconds: float
    active_seconds: float
    required_seconds: float
    position: float
    completed: bool
    reason: str | None = None
