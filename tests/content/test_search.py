import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.filedb.filestore import RamStorage

from content import (
    IndexDoc,
    QueryError,
    SearchIndex,
    parse_query,
    reading_documents,
    subtitle_documents,
)
from content.documents import make_schema
from content.searcher import search_whoosh


def doc(n, body, **extra):
    values = {"doc_id": f"d{n}", "kind": "lesson", "title": f"课程{n}", "body": body, "lesson_id": n}
    values.update(extra)
    return IndexDoc(**values)


@pytest.fixture
def index(tmp_path):
    ix = SearchIndex(tmp_path / "index").create_or_open()
    ix.update_documents([
        doc(1, "因地制宜发展新质生产力，建设现代化产业体系。", series=["a"], sectors=["企业"], audience=["course:1"]),
        doc(2, "新质的生产力与传统生产力不同。", series=["b"], sectors=["农村"], audience=["course:2"]),
        doc(3, "认真开展三会一课和主题党日活动。", kind="course", series=["a"], sectors=["机关"],
            audience=["public"]),
        doc(4, "开展主题党日，地点在泷澜湾。Party School training.", series=["b"], audience=["course:1"]),
        doc(5, "流动党员教育培训由流入地党组织负责。", kind="reading", reading_id=9, anchor="p-1"),
    ])
    return ix


def ids(page):
    return sorted(h.doc_id for h in page.hits)


def test_phrase_matches_exact_sequence_only(index):
    assert ids(index.search('"新质生产力"')) == ["d1"]
    assert ids(index.search("新质 生产力")) == ["d1", "d2"]
    assert ids(index.search('"生产力"')) == ["d1", "d2"]
    assert index.search('"质生产"').total == 1  # across jieba's word boundary


def test_single_character_and_out_of_dictionary_queries(index):
    assert ids(index.search("泷")) == ["d4"]
    assert ids(index.search("泷澜湾")) == ["d4"]
    assert ids(index.search("澜湾")) == ["d4"]
    assert ids(index.search("入")) == ["d5"]


def test_boolean_operators(index):
    assert ids(index.search("三会一课 AND 主题党日")) == ["d3"]
    assert ids(index.search("三会一课 主题党日")) == ["d3"]
    assert ids(index.search("三会一课 OR 泷澜湾")) == ["d3", "d4"]
    assert ids(index.search("主题党日 NOT 三会一课")) == ["d4"]
    assert ids(index.search("主题党日 -三会一课")) == ["d4"]
    assert ids(index.search("(三会一课 OR 泷澜湾) -training")) == ["d3"]


def test_english_is_case_insensitive(index):
    assert ids(index.search("PARTY school")) == ["d4"]
    assert ids(index.search('"party school"')) == ["d4"]


def test_filters_and_audience(index):
    assert ids(index.search("主题党日", kinds=["course"])) == ["d3"]
    assert ids(index.search("生产力", series=["a"])) == ["d1"]
    assert ids(index.search("生产力", sectors=["农村", "机关"])) == ["d2"]
    assert ids(index.search("主题党日", allowed={"course:1"})) == ["d4"]
    assert ids(index.search("主题党日", allowed={"course:1", "public"})) == ["d3", "d4"]
    page = index.search("主题党日", allowed=set())
    assert page.total == 0 and page.hits == []


def test_pagination(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([doc(n, f"第{n}条：党员学习。") for n in range(25)])
    pages = [ix.search("党员学习", pagelen=10, page=p) for p in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [25] * 4
    assert [len(p.hits) for p in pages] == [10, 10, 5, 0]
    seen = [h.doc_id for p in pages for h in p.hits]
    assert len(set(seen)) == 25
    assert pages[0].pagecount == 3


def test_snippet_highlights_and_escapes(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([doc(1, "<script>alert('x')</script> 发展新质生产力 & 创新")])
    hit = ix.search("新质生产力").hits[0]
    assert "<mark>新质生产力</mark>" in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html and "<script>" not in hit.snippet_html
    assert "&amp;" in hit.snippet_html
    hit = ix.search("alert -创造").hits[0]
    assert "<mark>alert</mark>" in hit.snippet_html
    assert "<mark>" not in ix.search("发展 -创造").hits[0].title_html


def test_excluded_words_are_not_highlighted(index):
    hit = index.search("主题党日 -三会一课").hits[0]
    assert "<mark>主题党日</mark>" in hit.snippet_html and "<mark>泷" not in hit.snippet_html


def test_reading_hit_links_to_paragraph_of_match(tmp_path, sample_reading):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    docs = reading_documents(sample_reading, 42, audience=["public"])
    assert len(docs) > 1 and all(len(d.body) <= 2000 for d in docs)
    ix.update_documents(docs)
    page = ix.search('"因地制宜发展新质生产力"')
    assert page.total == 1
    hit = page.hits[0]
    expected = next(p.id for p in sample_reading.paragraphs if "因地制宜发展新质生产力" in p.text)
    assert (hit.kind, hit.reading_id, hit.anchor) == ("reading", "42", expected)
    heading = ix.search('"明确工作责任"').hits[0]
    section = next(s for s in sample_reading.sections if s.title.endswith("明确工作责任"))
    assert heading.anchor == section.id  # the heading itself, where the reader marks the match


def test_subtitle_hit_links_to_cue_start(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    cues = [(0.0, "同志们好"), (12.5, "今天我们学习三会一课制度"), (30.0, "下面讲主题党日")]
    ix.update_documents(subtitle_documents(cues, 7, title="第一讲"))
    hit = ix.search("主题党日").hits[0]
    assert (hit.kind, hit.lesson_id, hit.anchor) == ("subtitle", "7", 30.0)
    assert ix.search("三会一课").hits[0].anchor == 12.5


@pytest.mark.parametrize("query, message", [
    ("", "Enter a word"),
    ("   ", "Enter a word"),
    ('"新质生产力', "quotation mark is not closed"),
    ("(党员 OR 干部", "not closed"),
    ("党员)", "no opening"),
    ("党员 OR", "both sides"),
    ("AND 党员", "both sides"),
    ("NOT 党员", "only excludes"),
    ("-党员", "only excludes"),
    ("党员 NOT", "followed by a word"),
    ("。，！", "no words"),
    ("()", "Empty parentheses"),
    ("党" * 600, "too long"),
])
def test_invalid_queries_raise_query_error(index, query, message):
    with pytest.raises(QueryError, match=message):
        index.search(query)


def test_invalid_paging_raises_query_error(index):
    with pytest.raises(QueryError):
        index.search("党员", page=0)
    with pytest.raises(QueryError):
        index.search("党员", pagelen=1000)


CHARS = "党员学习教育培训新质生产"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(alphabet=CHARS + "，", min_size=1, max_size=40), min_size=1, max_size=4),
       data=st.data())
def test_every_substring_is_found_exactly_by_phrase_query(texts, data):
    ix = RamStorage().create_index(make_schema())
    with ix.writer() as writer:
        for n, text in enumerate(texts):
            writer.add_document(**IndexDoc(doc_id=f"t{n}", kind="reading", title="", body=text).fields())
    with ix.searcher() as searcher:
        probes = set()
        for text in texts:
            for start in range(len(text)):
                for length in range(2, 7):
                    piece = text[start:start + length]
                    if len(piece) == length and "，" not in piece:
                        probes.add(piece)
        probes.add(data.draw(st.text(alphabet=CHARS, min_size=2, max_size=6)))
        for piece in sorted(probes)[:60]:
            found = {h.doc_id for h in search_whoosh(searcher, f'"{piece}"', pagelen=100).hits}
            expected = {f"t{n}" for n, text in enumerate(texts) if piece in text}
            assert found == expected, piece


def test_parse_query_collects_highlight_literals():
    parsed = parse_query('"新质生产力" 党员教育 -干部')
    assert "新质生产力" in parsed.literals and "党员教育" in parsed.literals
    assert "干部" not in parsed.literals
