"""The pace rule has one home (elearn.ledger.requirements.Pace): the member's own page and the dashboards
judge every member alike, at the boundary too."""
from datetime import date

from elearn.analytics import dashboard as analytics
from elearn.extensions import db
from elearn.ledger import requirements
from elearn.ledger.models import StudyCredit
from elearn.ledger.requirements import Pace

TODAY = date(2026, 7, 2)


def test_member_page_and_dashboard_agree_on_who_is_behind(make_org, make_user):
    org = make_org("县委", sector="rural")
    admin = make_user("site", org=org, role="site_admin")
    expected = Pace(TODAY).expected(160.0)
    people = {}
    for i, hours in enumerate([0.0, expected - 0.01, expected, expected + 0.01, 160.0, 200.0]):
        member = make_user(f"member{i}", org=org)
        member.memberships[0].started_on = date(2023, 5, 1)  # a member since before the cycle
        if hours:
            db.session.add(StudyCredit(user_id=member.id, hours=hours, kind="lesson", source_kind="lesson",
                                       source_id=900 + i, title="t", innovative_theory=True,
                                       credited_on=date(2026, 3, 1), organisation_id=org.id))
        people[member.id] = hours
    # Joined two weeks ago with nothing yet (the pace and its grace days count from the joining day, on both
    # sides): not behind;
    # joined a year ago with nothing: behind.
    for name, joined in (("newcomer", date(2026, 6, 15)), ("lastyear", date(2025, 7, 1))):
        member = make_user(name, org=org)
        member.memberships[0].started_on = joined
        people[member.id] = {"newcomer": -1.0, "lastyear": -2.0}[name]
    db.session.commit()
    behind_on_their_page = {uid for uid in people
                            if requirements.status(db.session.get(type(admin), uid), TODAY).state == "behind"}
    behind_on_the_dashboard = {r["id"] for r in analytics.at_risk_members(admin, org, TODAY)}
    assert behind_on_their_page == behind_on_the_dashboard
    assert {people[uid] for uid in behind_on_their_page} == {0.0, expected - 0.01, -2.0}
    assert Pace(TODAY).on_pace(expected, 160.0) and not Pace(TODAY).on_pace(expected - 0.01, 160.0)
