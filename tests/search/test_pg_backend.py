"""The PostgreSQL backend: the same answers as the whoosh index, documents written in the content's own
transaction (visible to every connection at commit, gone with a rollback), no index files.

Runs in the PostgreSQL pass of CI (skipped on SQLite, where whoosh is the backend and the rest of tests/search
covers it)."""
from pathlib import Path

import pytest
from sqlalchemy import func, select

from content import IndexDoc, SearchIndex, parse_reading, pgsearch, reading_documents
from elearn.courses.models import Course, Lesson
from elearn.extensions import db
from elearn.search import services as search
from elearn.search.models import search_documents

SAMPLE = Path("/work/shared/samples/readings/national-member-education-plan-2024-2028.txt")
# Words, compounds (apart too), quoted phrases with punctuation, single characters, OR/NOT, Latin and digits.
QUERIES = [
    "党员", "廉", "新质生产力", "基层党组织书记", '"党的创新理论武装"', '"（一）"', '"三会一课"', "学习 OR 培训",
    "教育培训 NOT 干部", "(农村 OR 社区) 党员", "QX7", "泰山", '"泰山·大学生"', '"泰山 · 大学生"', "十四五",
    "学时", "党员-干部", "全国党员教育培训工作规划", "主题党日", '"每年"',
]


@pytest.fixture
def on_postgres(app):
    if not search.uses_database():
        pytest.skip("the PostgreSQL backend needs a PostgreSQL test database")


def _corpus() -> list[IndexDoc]:
    reading = parse_reading(SAMPLE.read_bytes(), SAMPLE.name)
    docs = reading_documents(reading, 1, audience=["course:1"], series=["7"], sectors=["rural"], chunk_chars=300)
    extra = [("泰山·大学生志愿服务队", "泰山艺苑举办展览。泰山·大学生宣讲团走进社区，QX7 型号。"),
             ("（一）总体要求", "坚持（一）以党的创新理论武装头脑。"),
             ("党员干部培训", "党员 干部 分开写的一段，以及党员教育。")]
    docs += [IndexDoc(doc_id=f"course:{n}", kind="course", title=title, body=body, course_id=n,
                      audience=[f"course:{n}"]) for n, (title, body) in enumerate(extra, start=100)]
    return docs


def _all_ids(search_fn, query, **filters) -> tuple[int, set[str]]:
    total, ids, page = None, set(), 1
    while True:
        found = search_fn(query, page=page, pagelen=100, **filters)
        total = found.total
        ids |= {hit.doc_id for hit in found.hits}
        if page >= found.pagecount:
            return total, ids
        page += 1


def test_same_matches_as_whoosh_for_every_query(on_postgres, tmp_path):
    docs = _corpus()
    index = SearchIndex(tmp_path / "ix")
    index.rebuild(docs)
    pg = pgsearch.PgSearch(db.session, search_documents)
    assert pg.rebuild(docs) == len(docs)
    db.session.commit()
    with index.searcher() as whoosh:
        for query in QUERIES:
            for filters in ({}, {"allowed": ["course:1"]}, {"kinds": ["course"], "allowed": ["course:100"]}):
                expected = _all_ids(whoosh.search, query, **filters)
                assert _all_ids(pg.search, query, **filters) == expected, (query, filters)
        assert _all_ids(pg.search, "党员", allowed=[])[0] == 0  # nothing allowed, nothing found
    # The exact text of a phrase, punctuation and width folded: （一） is not every 一.
    phrase_ids = _all_ids(pg.search, '"（一）"')[1]
    texts = dict(db.session.execute(select(search_documents.c.doc_id, search_documents.c.text)).tuples().all())
    assert "course:101" in phrase_ids and all("(一)" in texts[i] for i in phrase_ids)
    assert len(phrase_ids) < sum("一" in t for t in texts.values())
    marked = pg.search('"泰山·大学生"').hits[0]
    assert "<mark>泰山·大学生</mark>" in marked.snippet_html and "<mark>泰山</mark>艺苑" not in marked.snippet_html


def test_ranking_puts_exact_and_title_matches_first(on_postgres):
    pg = pgsearch.PgSearch(db.session, search_documents)
    pg.rebuild([
        IndexDoc(doc_id="a", kind="course", title="其他", body="学习在基层，培训在后面，" * 3),
        IndexDoc(doc_id="b", kind="course", title="其他", body="这里有学习培训的原文。"),
        IndexDoc(doc_id="c", kind="course", title="学习培训", body="标题里有。"),
        IndexDoc(doc_id="d", kind="course", title="学习", body="培训在正文。"),
    ])
    assert [h.doc_id for h in pg.search("学习培训").hits] == ["c", "b", "d", "a"]


def test_a_course_is_written_in_its_own_transaction(on_postgres, app, make_user):
    lecturer = make_user(role="lecturer")
    course = Course(title="乡村振兴专题", description="和美乡村", lecturer=lecturer, status="draft",
                    category="political_theory", innovative_theory=True)
    db.session.add(course)
    db.session.flush()
    with db.engine.connect() as other:  # another web node's connection
        assert other.execute(select(func.count()).select_from(search_documents)).scalar_one() == 0
    db.session.commit()  # no job has run: the hook wrote the documents in the course's transaction
    with db.engine.connect() as other:
        titles = other.execute(select(search_documents.c.title)).scalars().all()
    assert titles == ["乡村振兴专题"]

    course.lessons.append(Lesson(title="第一讲 宜居宜业", position=0))
    db.session.flush()
    db.session.rollback()  # a rolled-back lesson leaves no document
    assert db.session.execute(select(search_documents.c.doc_id)).scalars().all() == [f"course:{course.id}"]

    db.session.delete(db.session.get(Course, course.id))
    db.session.commit()
    assert db.session.execute(select(func.count()).select_from(search_documents)).scalar_one() == 0


def test_tsvector_keeps_runs_apart_and_positions_in_range():
    tsv = pgsearch.tsvector_literal("标题", "新质生产力，发展" + "党" * 20_000)
    assert "'标题':1A" in tsv and "'新质':4 " in tsv  # a gap of two positions after the title's run
    assert "'力发'" not in tsv  # punctuation separates runs
    lexemes = tsv.split(" ")
    assert {"'标'", "'题'", "'党'", "'力'"} <= set(lexemes)  # each character once, without positions
    with_positions = [lex for lex in lexemes if ":" in lex]
    positions = [int(p.rstrip("A")) for lex in with_positions for p in lex.rsplit(":", 1)[1].split(",")]
    assert max(positions) <= pgsearch.MAX_POSITION
    assert max(len(lex.rsplit(":", 1)[1].split(",")) for lex in with_positions) <= pgsearch.MAX_POSITIONS_PER_LEXEME
