import shutil
from pathlib import Path

import pytest

from elearn.readings import services as readings
from elearn.search import services as search
from elearn.search.models import search_documents

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()


@pytest.fixture
def app_config():
    # The index generations on disk are whoosh's; on a PostgreSQL test database the whoosh backend is chosen
    # explicitly here (test_reindex_on_the_database covers the other one).
    return {"ELEARN_SEARCH_BACKEND": "whoosh"}


def test_reindex_rebuilds_a_lost_index_into_a_new_generation(app, db, runner, make_user, make_course):
    admin = make_user(role="site_admin")
    course = make_course(title="红色教育基地巡礼")
    readings.upload(admin, PLAN, "plan.txt", course=course)
    index_dir = Path(app.config["ELEARN_INDEX_DIR"])
    old_generation = search.get_index().current_generation()
    # Simulate an index that fell behind: everything in it is gone.
    search.get_index().delete_by("kind", "reading")
    assert search.search(admin, '"三会一课"').total == 0

    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "search index rebuilt" in result.output
    new_generation = search.get_index().current_generation()
    assert new_generation != old_generation and not old_generation.exists()
    assert new_generation.parent == index_dir
    assert search.search(admin, '"三会一课"').total == 1
    assert search.search(admin, "红色教育基地", kind="course").total == 1


def test_reindex_from_scratch_and_search_command(app, db, runner, make_user, make_course):
    admin = make_user(role="site_admin", username="boss")
    member = make_user(username="plain")
    readings.upload(admin, PLAN, "plan.txt")
    shutil.rmtree(app.config["ELEARN_INDEX_DIR"])
    assert runner.invoke(args=["reindex"]).exit_code == 0
    out = runner.invoke(args=["search", '"三会一课"'])
    assert out.exit_code == 0 and out.output.startswith("1 results") and "[三会一课]" in out.output
    assert "/readings/" in out.output and "#p-" in out.output
    as_member = runner.invoke(args=["search", '"三会一课"', "--user", "plain"])
    assert as_member.exit_code == 0 and as_member.output.startswith("0 results")
    bad = runner.invoke(args=["search", 'AND "'])
    assert bad.exit_code != 0 and "无法理解这个搜索" in bad.output
    assert runner.invoke(args=["search", "党员", "--user", "nobody"]).exit_code != 0
    assert member.id


@pytest.mark.parametrize("app_config", [{"ELEARN_SEARCH_BACKEND": "auto"}])
def test_reindex_on_the_database(app, db, runner, make_user, make_course):
    """On PostgreSQL the documents are rows: rows removed behind the app's back come back with reindex."""
    if not search.uses_database():
        pytest.skip("the database backend needs PostgreSQL")
    admin = make_user(role="site_admin")
    course = make_course(title="红色教育基地巡礼")
    readings.upload(admin, PLAN, "plan.txt", course=course)
    assert search.search(admin, '"三会一课"').total == 1
    db.session.execute(search_documents.delete())
    db.session.commit()
    assert search.search(admin, '"三会一课"').total == 0
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert search.search(admin, '"三会一课"').total == 1
    assert search.search(admin, "红色教育基地", kind="course").total == 1
    assert not any(Path(app.config["ELEARN_INDEX_DIR"]).iterdir())  # no index files at all


def test_an_index_of_older_code_is_rebuilt_by_the_job(app, db, make_user, make_course):
    """After an upgrade that changed the analysis, the worker's job rebuilds what older code wrote."""
    admin = make_user(role="site_admin")
    readings.upload(admin, PLAN, "plan.txt", course=make_course(title="红色教育基地巡礼"))
    index = search.get_index()
    assert index.format_is_current()
    assert search.rebuild_if_outdated() == 0  # current: nothing to do
    stamp = index.current_generation() / "FORMAT.json"
    stamp.unlink()  # as a generation written before format stamps existed
    assert not index.format_is_current()
    assert search.rebuild_if_outdated() > 0
    assert index.format_is_current()
    assert search.search(admin, '"三会一课"').total == 1
