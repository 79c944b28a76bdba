"""Evaluation-report benchmark: ``build_report`` and the PDF for a committee of 20,000 members.

Builds the same temporary SQLite tree as benchmarks/bench_analytics.py (committee → towns → branches, about
1 % exempt and 3 % branch secretaries, a year of ledger entries), adds county-level off-job training for most
secretaries and held meetings for the branches, then times ``evaluation.build_report`` for the committee and one
town over the five-year period and the mid-term one, and ``report_pdf`` for the committee.

    python benchmarks/bench_evaluation.py                    # 20,000 members
    python benchmarks/bench_evaluation.py --members 2000     # quick run

One run (SQLite, the shared 2-core machine under other engineers' load, 2026-12-02): build_report for the
committee of 20,000 members (230,685 ledger entries) median 3.8 s five-year, 3.5 s mid-term; a town of 1,011
members 0.3 s; report_pdf 1.3 s (49 KiB).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_analytics import SEED, build, timed


def add_branch_life(db, today: date) -> dict:
    """Off-job training for ~80 % of the secretaries and a few held meetings per branch."""
    from sqlalchemy import func, insert, select

    from elearn.branch.meeting_models import Meeting
    from elearn.ledger.models import StudyCredit
    from elearn.orgs.models import Organisation, User

    rng = random.Random(SEED + 1)
    conn = db.session.connection()
    secretaries = db.session.execute(select(User.id, User.organisation_id)
                                     .where(User.category == "branch_secretary")).all()
    first = db.session.execute(select(func.max(StudyCredit.source_id))).scalar() or 0
    rows = [{"user_id": uid, "hours": float(rng.choice((24, 40, 48))), "kind": "offline",
             "source_kind": "offline_training", "source_id": first + i + 1, "title": "书记轮训",
             "category": "political_theory", "innovative_theory": True, "offjob": True, "county_level": True,
             "credited_on": today - timedelta(days=rng.randrange(300)), "organisation_id": oid}
            for i, (uid, oid) in enumerate(secretaries) if rng.random() < 0.8]
    if rows:
        conn.execute(insert(StudyCredit), rows)
    branches = db.session.execute(select(Organisation.id).where(Organisation.kind == "branch")).scalars().all()
    meetings = []
    for bid in branches:
        for _k in range(rng.randrange(2, 8)):
            day = today - timedelta(days=rng.randrange(360))
            start = datetime.combine(day, datetime.min.time()) + timedelta(hours=2)
            meetings.append({"organisation_id": bid, "kind": rng.choice(("assembly", "committee", "lecture")),
                             "title": "会议", "starts_at": start, "ends_at": start + timedelta(hours=2),
                             "status": "held", "created_by_id": 1})
    conn.execute(insert(Meeting), meetings)
    db.session.commit()
    return {"offjob": len(rows), "meetings": len(meetings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--per-member", type=float, default=12.0, help="mean ledger entries per member-year")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-evaluation-")
    os.environ["ELEARN_INSTANCE"] = tmp
    from elearn import create_app
    from elearn.extensions import db

    app = create_app({"INSTANCE_PATH": tmp, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                      "WTF_CSRF_ENABLED": False})
    today = date(2024, 12, 31)
    with app.app_context():
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        sizes = build(db, args.members, args.per_member, today)
        extra = add_branch_life(db, today)
        from sqlalchemy import text

        from elearn.ledger import summaries
        summaries.rebuild_summaries()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"data: {sizes['orgs']} organisations, {sizes['members']:,} members, "
              f"{sizes['credits'] + extra['offjob']:,} ledger entries ({extra['offjob']:,} secretaries' off-job), "
              f"{extra['meetings']:,} meetings (built in {time.perf_counter() - t0:.1f} s)")

        from unittest import mock

        from elearn import clock
        from elearn.analytics import evaluation
        from elearn.analytics.evaluation_pdf import report_pdf
        from elearn.orgs.models import Organisation
        top, town = db.session.get(Organisation, 1), db.session.get(Organisation, 2)
        presets = evaluation.presets()
        with mock.patch.object(clock, "site_today", lambda: today):
            for label, org in (("committee", top), ("one town", town)):
                for name, (start, end) in (("five-year", presets["final"]), ("mid-term", presets["midterm"])):
                    med, best, r = timed(lambda org=org, start=start, end=end: evaluation.build_report(org, start,
                                                                                                         end))
                    print(f"build_report, {label} of {r.coverage.members:,} members, {name} "
                          f"({start}…{end}): median {med * 1000:.0f} ms, best {best * 1000:.0f} ms "
                          f"(coverage {r.coverage.covered:,}/{r.coverage.required:,}, at risk {r.at_risk:,}, "
                          f"{len(r.children)} children)")
            r = evaluation.build_report(top, *presets["final"])
            med, best, pdf = timed(lambda: report_pdf(r))
            print(f"report_pdf, committee ({len(pdf) // 1024} KiB): median {med * 1000:.0f} ms, "
                  f"best {best * 1000:.0f} ms")


if __name__ == "__main__":
    main()
