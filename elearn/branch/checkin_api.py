"""Check-in in the JSON API (``POST /api/v1/checkin``): the app sends the code it scanned or the member typed."""
from __future__ import annotations

from datetime import datetime

from flask_login import current_user
from pydantic import BaseModel, Field

from elearn.branch import checkin
from elearn.branch.checkin_views import evidence, refused
from elearn.extensions import limiter
from elearn.http.api import api_blueprint, operation, per_user
from elearn.policy import CHECKIN

bp = api_blueprint("checkin_api", __name__)


class CheckinRequest(BaseModel):
    code: str = Field(min_length=1, max_length=80,
                      description="the scanned token (the last part of /c/<token>) or the typed 6-character short form")


class CheckinAnswer(BaseModel):
    kind: str = Field(description="group_session or meeting")
    target_id: int
    title: str
    checked_in_at: datetime = Field(description="UTC; the first check-in's time when already checked in")
    already: bool = Field(description="true when the member had checked in before (nothing changed)")


@operation(bp, "/checkin", method="POST", operation_id="checkIn", body=CheckinRequest, response=CheckinAnswer,
           scope="study",
           errors={400: "the code is wrong or expired", 403: "not in the audience",
                   409: "check-in has not opened yet or has closed", 429: "too many refused attempts"},
           summary="Check in to a meeting or group session with a rotating code")
# Below operation(): the limits wrap the view it calls (the route registered is operation's own wrapper).
@limiter.limit(CHECKIN.limit_per_address, deduct_when=refused)
@limiter.limit(CHECKIN.limit_per_user, key_func=per_user, deduct_when=refused)
def check_in(body: CheckinRequest) -> CheckinAnswer:
    """Once per member and target: a second check-in answers with the first one's time."""
    result = checkin.check_in(current_user, body.code, evidence=evidence())
    return CheckinAnswer(kind=result.kind, target_id=result.target_id, title=result.title,
                         checked_in_at=result.at, already=not result.new)
