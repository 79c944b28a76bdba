"""My study points in the JSON API (``/api/v1/me/points``)."""
from __future__ import annotations

from dataclasses import asdict

from flask_login import current_user

from elearn.http.api import api_blueprint, operation
from elearn.points import awards, ranking
from elearn.points.schemas import BranchRank, MyPoints, PointsAwardOut, PointsRules
from elearn.policy import POINTS

bp = api_blueprint("points_api", __name__)


@operation(bp, "/me/points", operation_id="getMyPoints", response=MyPoints,
           summary="My study points: totals, streak, the rules, recent awards and my branch rank when shown")
def my_points() -> MyPoints:
    """The current member's points; the branch rank only while their organisation's ranking is on."""
    found = awards.summary(current_user)
    rules = PointsRules(**{name: getattr(POINTS, name) for name in PointsRules.model_fields})
    place = ranking.my_place(current_user)
    rank = None if place is None else BranchRank(organisation_id=current_user.organisation_id, rank=place[0].rank,
                                                 members=place[1])
    return MyPoints(total=found.total, year=found.year, year_points=found.year_points,
                    today_points=found.today_points, streak_days=found.streak_days, rules=rules,
                    recent=[PointsAwardOut(**asdict(a)) for a in found.recent], branch_rank=rank)
