"""Ranking of ``content.engine`` (the formula of its module docstring): exact texts, then titles, then BM25."""
import pytest

from content import IndexDoc, SearchIndex, engine, parse_query
from content.query import MAX_QUERY_TERMS


def doc(n, body, title=None):
    return IndexDoc(doc_id=f"d{n}", kind="lesson", title=title or f"第{n}课", body=body)


@pytest.fixture
def index(tmp_path):
    return SearchIndex(tmp_path / "ix").create_or_open()


def order(index, query):
    return [h.doc_id for h in index.search(query, pagelen=50).hits]


def test_the_query_text_exactly_ranks_above_its_words_apart(index):
    index.update_documents([
        # The words apart, many times: BM25 alone would put this first.
        doc(1, "党员参加活动，学习培训制度。党员要学习，培训要跟上。党员、培训、党员、培训。"),
        doc(2, "开展教育活动的一段很长的说明文字，其中提到一次党员培训，其他内容与此无关，篇幅较长，仅作填充之用。"),
    ])
    assert order(index, "党员培训") == ["d2", "d1"]  # an unquoted compound
    assert order(index, "党员 培训") == ["d2", "d1"]  # several words: the text as typed, without the space


def test_a_phrase_found_ranks_above_a_document_matching_only_the_other_side_of_or(index):
    index.update_documents([doc(1, "主题党日主题党日主题党日"), doc(2, "推进新质生产力发展，主题党日。")])
    assert order(index, '"新质生产力" OR 主题党日') == ["d2", "d1"]


def test_a_title_match_ranks_above_a_body_only_match(index):
    index.update_documents([
        doc(1, "流动党员流动党员流动党员，短文。"),
        doc(2, "本课讲述一般事项，篇幅很长很长很长很长很长很长很长很长很长，最后提到流动党员。", title="流动党员管理"),
    ])
    assert order(index, "流动党员") == ["d2", "d1"]
    hits = index.search("流动党员").hits
    assert hits[0].score > hits[1].score > 0


def test_bm25_orders_what_the_bonuses_leave_equal(index):
    index.update_documents([
        doc(1, "今天天气很好，大家去公园。党员也去了。" * 3),
        doc(2, "党员教育，党员管理，党员发展，党员服务。"),
    ])
    assert order(index, "党员") == ["d2", "d1"]  # more occurrences in a shorter text


def test_equal_scores_keep_index_order(index):
    index.update_documents([doc(n, "学习三会一课。", title="同题") for n in range(5)])
    assert order(index, "三会一课") == [f"d{n}" for n in range(5)]


def test_rank_spec_lists_the_exact_texts_and_bigrams():
    spec = engine.rank_spec(parse_query('党员 教育 -干部 "Party  School"').tree)
    assert spec.texts == ("党员", "教育", "party school", "党员教育party school")
    assert spec.grams == ("党员", "教育", "pa", "ar", "rt", "ty", "sc", "ch", "ho", "oo", "ol")
    assert engine.rank_spec(parse_query("party school").tree).texts == ("party", "school", "party school")
    assert engine.rank_spec(parse_query("(党员 OR 干部) 教育").tree).texts == ("党员", "干部", "教育")


def test_bonuses_order_lexicographically_for_the_longest_query():
    # At most one exact text per word plus one per AND of words: fewer than PHRASE_BONUS / TITLE_BONUS,
    # and the saturated BM25 part stays below one TITLE_BONUS.
    assert 2 * MAX_QUERY_TERMS * engine.TITLE_BONUS < engine.PHRASE_BONUS
    assert engine.TITLE_BONUS >= 1.0
