"""Demo data: an organisation tree over several sectors and a user of every role and category."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from elearn.access import Role
from elearn.extensions import db
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User

DEMO_PASSWORD = "Demo2024pass"

# (key, name, kind, sector, parent key, county level or above)
ORGS = [
    ("city", "示范市委", "committee", "government", None, True),
    ("office", "市委办公室党支部", "branch", "government", "city", False),
    ("town", "城关镇党委", "committee", "rural", "city", False),
    ("east", "东山村党支部", "branch", "rural", "town", False),
    ("west", "西河村党支部", "branch", "rural", "town", False),
    ("street", "和平街道党工委", "committee", "community", "city", False),
    ("happy", "幸福社区党支部", "branch", "community", "street", False),
    ("school", "市第一中学党总支", "general_branch", "institution.education", "city", False),
    ("teachers", "教师第一党支部", "branch", "institution.education", "school", False),
    ("hospital", "市人民医院党委", "committee", "institution.health", "city", False),
    ("medicine", "内科党支部", "branch", "institution.health", "hospital", False),
    ("soe", "市城投集团党委", "committee", "enterprise.soe", "city", False),
    ("works", "工程部党支部", "branch", "enterprise.soe", "soe", False),
    ("gig", "快递外卖行业党委", "committee", "emerging.gig", "city", False),
    ("riders", "骑手党支部", "branch", "emerging.gig", "gig", False),
]

# (username, name, org key, role, category, exempt reason, label)
USERS = [
    ("admin", "系统管理员", "city", Role.SITE_ADMIN, "member", None, "site admin / 系统管理员"),
    ("orgadmin", "王组织", "town", Role.ORG_ADMIN, "member", None, "org admin of 城关镇党委 / 组织管理员"),
    ("lecturer", "李讲师", "office", Role.LECTURER, "member", None, "lecturer / 讲师"),
    ("member", "张党员", "east", "member", "member", None, "member, rural / 党员（农村）"),
    ("secretary", "赵书记", "east", "member", "branch_secretary", None, "branch secretary / 支部书记"),
    ("cadre", "孙干部", "office", "member", "cadre", None, "cadre / 党员干部"),
    ("elder", "周老党员", "west", "member", "member", "年老体弱，行动不便", "exempt elderly member / 免予要求"),
    ("community", "吴社区", "happy", "member", "member", None, "member, community / 党员（城市社区）"),
    ("rider", "郑骑手", "east", "member", "member", None, "mobile member → 骑手党支部 / 流动党员"),
]


def account(username: str) -> User:
    """The demo account ``username`` (see USERS), which :func:`load` creates; LookupError before that."""
    user = users.by_username(username)
    if user is None:
        raise LookupError(f"the demo account {username!r} is missing: load the demo users first")
    return user


def load(skip_if_present: bool = False) -> tuple[bool, list[tuple[str, str, str]]]:
    """Create what is missing of the demo data. Returns (anything created, printed logins)."""
    logins = [(u[0], DEMO_PASSWORD, u[6]) for u in USERS]
    present = db.session.execute(select(User).where(User.username == "admin")).scalar_one_or_none()
    if present is not None and skip_if_present:
        return False, logins
    created = False
    by_key: dict[str, Organisation] = {}
    for key, name, kind, sector, parent_key, county in ORGS:
        parent = by_key.get(parent_key) if parent_key else None
        same_parent = Organisation.parent_id == parent.id if parent else Organisation.parent_id.is_(None)
        existing = db.session.execute(
            select(Organisation).where(Organisation.name == name, same_parent)).scalar_one_or_none()
        if existing is None:
            existing = orgs.create(None, name=name, kind=kind, sector=sector, parent=parent,
                                   county_level_or_above=county, commit=False)
            created = True
        by_key[key] = existing
    for username, name, org_key, role, category, exempt_reason, _label in USERS:
        if users.by_username(username) is None:
            users.create(None, username=username, name=name, password=DEMO_PASSWORD, organisation=by_key[org_key],
                         role=role, category=category, exempt=bool(exempt_reason), exempt_reason=exempt_reason,
                         joined_on=date(2024, 1, 1), commit=False)
            created = True
    db.session.commit()
    rider = account("rider")
    if not any(m.kind == "inflow" for m in rider.memberships):
        users.transfer(account("admin"), rider, by_key["riders"], on=date(2025, 3, 1), mobile=True,
                       note="外出务工，流入骑手党支部")
        created = True
    return created, logins
