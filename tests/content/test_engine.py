"""Exact matching, ranking and caching of ``content.engine`` behind ``SearchIndex.search``."""
import whoosh.index
from whoosh.fields import ID, STORED, TEXT, Schema

from content import IndexDoc, SearchIndex, engine
from content.analysis import BigramAnalyzer, CharAnalyzer, ChineseAnalyzer
from content.documents import make_schema
from content.searcher import match_docnums


def doc(n, body, title=None, **extra):
    return IndexDoc(doc_id=f"d{n}", kind="lesson", title=title or f"课程{n}", body=body, **extra)


def test_totals_are_exact_across_segments_and_deletions(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    with ix.searcher() as searcher:
        for n in range(6):  # one segment per commit
            ix.update_documents([doc(n, f"第{n}段：学习新质生产力。" if n % 2 else f"第{n}段：新质的生产力。")])
        assert searcher.search('"新质生产力"').total == 3
        ix.update_documents([doc(1, "改写后没有这个词。")])  # deletes d1 in an older segment
        ix.delete_by("doc_id", "d3")
        page = searcher.search('"新质生产力"')
        assert page.total == 1 and [h.doc_id for h in page.hits] == ["d5"]
        assert searcher.search("改写").total == 1
        assert ix.search("新质 生产力").total == 4  # d0 d2 d4 d5


def test_candidates_are_checked_against_the_text(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    # Every bigram of 教育培训 occurs in d1, but not the whole text.
    ix.update_documents([doc(1, "教育很好，育培是错字，培训很好。"), doc(2, "开展教育培训。")])
    assert [h.doc_id for h in ix.search('"教育培训"').hits] == ["d2"]
    with ix.searcher() as searcher:
        ids = {searcher._whoosh.stored_fields(n)["doc_id"] for n in match_docnums(searcher._whoosh, '"教育培训"')}
    assert ids == {"d2"}


def test_more_relevant_documents_rank_first(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([
        doc(1, "今天天气很好，大家去公园。党员也去了。" * 3),
        doc(2, "党员教育，党员管理，党员发展，党员服务。"),
        doc(3, "关于其他事项的说明。", title="党员须知"),
    ])
    page = ix.search("党员")
    assert page.total == 3
    order = [h.doc_id for h in page.hits]
    assert order.index("d2") < order.index("d1")  # more occurrences in a shorter text
    assert order.index("d3") < order.index("d1")  # a title match
    assert page.hits[0].score >= page.hits[1].score >= page.hits[2].score > 0


def test_cached_sets_follow_a_rebuild(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([doc(1, "泷澜湾的党员")])
    with ix.searcher() as searcher:
        assert searcher.search("泷澜湾").total == 1
        ix.rebuild([doc(2, "鲃鱼坝的党员"), doc(3, "泷澜湾和鲃鱼坝")])
        assert searcher.search("泷澜湾").total == 1
        assert [h.doc_id for h in searcher.search("泷澜湾").hits] == ["d3"]
        assert searcher.search("鲃鱼坝").total == 2


def test_index_without_text_column_still_matches_exactly(tmp_path):
    # The schema of indexes written before the ``text`` column existed (grams had positions then).
    old = Schema(doc_id=ID(stored=True, unique=True), kind=ID(stored=True),
                 title=TEXT(analyzer=ChineseAnalyzer(), stored=True),
                 body=TEXT(analyzer=ChineseAnalyzer(), stored=True),
                 grams=TEXT(analyzer=BigramAnalyzer(), phrase=True),
                 chars=TEXT(analyzer=CharAnalyzer(), phrase=False),
                 anchor=STORED, anchors=STORED)
    ix = SearchIndex(tmp_path / "ix")
    gen = tmp_path / "ix" / "gen-00000000000000000001-old"
    gen.mkdir(parents=True)
    wix = whoosh.index.create_in(str(gen), old)
    with wix.writer() as writer:
        for d in (doc(1, "教育很好，培训很好。"), doc(2, "开展教育培训。")):
            fields = d.fields()
            writer.add_document(**{k: v for k, v in fields.items() if k in old.names()})
    (tmp_path / "ix" / "CURRENT").write_text(gen.name + "\n")
    engine.clear_caches()
    assert [h.doc_id for h in ix.search('"教育培训"').hits] == ["d2"]
    assert ix.search("培训").total == 2


def test_repeated_queries_use_the_caches(tmp_path, monkeypatch):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([doc(n, f"第{n}条：每年累计不少于四十学时。") for n in range(30)])
    with ix.searcher() as searcher:
        first = searcher.search('"累计不少于四十学时"', pagelen=5)
        calls = []
        real = engine._SegmentData.raw_postings
        monkeypatch.setattr(engine._SegmentData, "raw_postings",
                            lambda self, *a: calls.append(a) or real(self, *a))
        again = searcher.search('"累计不少于四十学时"', pagelen=5)
        assert again.total == first.total == 30
        assert [h.doc_id for h in again.hits] == [h.doc_id for h in first.hits]
        assert calls == []  # document sets and weights came from the reader view


def test_segments_of_removed_generations_are_forgotten(tmp_path):
    engine.clear_caches()
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([doc(1, "泷澜湾的党员")])
    old_gen = str(ix.current_generation())
    assert ix.search('"泷澜湾"').total == 1
    assert any(key.startswith(old_gen) for key in engine._segments)
    ix.rebuild([doc(2, "泷澜湾和鲃鱼坝")])
    assert ix.search('"泷澜湾"').total == 1
    assert not any(key.startswith(old_gen) for key in engine._segments)
    assert any(key.startswith(str(ix.current_generation())) for key in engine._segments)


def test_single_characters_are_found_anywhere_in_title_or_body(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([doc(1, "甲，乙。"), doc(2, "丙丁", title="廉政"), doc(3, "ＡＢ全角")])
    assert [h.doc_id for h in ix.search("乙").hits] == ["d1"]  # a one-character run between punctuation
    assert [h.doc_id for h in ix.search("廉").hits] == ["d2"]  # in the title only
    assert [h.doc_id for h in ix.search("b").hits] == ["d3"]  # width and case folded
    ix.delete_by("doc_id", "d1")
    assert ix.search("乙").total == 0


def test_caches_are_bounded_by_entries():
    lru = engine._LRU(10)
    lru.put("a", frozenset(range(4)))
    lru.put("b", frozenset(range(4)))
    assert lru.get_item("a") is not None  # "b" is now the least recently used
    lru.put("c", frozenset(range(4)))
    assert set(lru) == {"a", "c"} and lru.cost == 10
    lru.put("big", (list(range(50)), list(range(50))))  # larger than the bound: kept alone
    assert list(lru) == ["big"] and lru.cost == 51


def test_empty_index_finds_nothing(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    for query in ("党员", '"新质生产力"', "廉", "a OR b"):
        page = ix.search(query)
        assert page.total == 0 and page.hits == []


def _stored_only_index(tmp_path, docs):
    """An index whose ``title``/``body`` are stored only (no word postings), as newer generations write."""
    schema = make_schema()
    names = schema.names()
    slim = Schema(**{name: (STORED() if name in ("title", "body") else schema[name]) for name in names})
    gen = tmp_path / "ix" / "gen-00000000000000000001-slim"
    gen.mkdir(parents=True)
    wix = whoosh.index.create_in(str(gen), slim)
    with wix.writer() as writer:
        for d in docs:
            writer.add_document(**d.fields())
    (tmp_path / "ix" / "CURRENT").write_text(gen.name + "\n")
    engine.clear_caches()
    return SearchIndex(tmp_path / "ix")


def test_index_without_word_postings_matches_compounds_apart(tmp_path):
    ix = _stored_only_index(tmp_path, [
        doc(1, "组织党员参加脱产的培训。"), doc(2, "党员培训班开班。"), doc(3, "只有培训。"),
    ])
    assert {h.doc_id for h in ix.search("党员培训").hits} == {"d1", "d2"}  # d1: the words apart
    assert [h.doc_id for h in ix.search('"党员培训"').hits] == ["d2"]


def test_matching_and_ranking_read_only_the_bigram_postings(tmp_path, monkeypatch):
    ix = SearchIndex(tmp_path / "ix").create_or_open()  # an index that still has word postings
    ix.update_documents([doc(1, "组织党员参加脱产的培训。"), doc(2, "党员培训班开班。", title="党员培训")])
    fields = []
    real = engine._SegmentData.raw_postings
    monkeypatch.setattr(engine._SegmentData, "raw_postings",
                        lambda self, segreader, field, text: fields.append(field) or real(self, segreader, field, text))
    engine.clear_caches()
    page = ix.search("党员培训 OR 脱产")
    assert {h.doc_id for h in page.hits} == {"d1", "d2"} and all(h.score > 0 for h in page.hits)
    assert fields and set(fields) == {"grams"}
