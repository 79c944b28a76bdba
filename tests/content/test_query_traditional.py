"""Traditional-Chinese input finds Simplified text (and the other way), marking the original characters."""
from content import IndexDoc, SearchIndex, parse_query
from content.highlight import find_matches


def test_traditional_queries_find_simplified_text_and_mark_it(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([
        IndexDoc(doc_id="d1", kind="reading", title="学习强国平台", body="加强党员教育管理。"),
        IndexDoc(doc_id="d2", kind="reading", title="其他", body="组织生活会。"),
    ])
    for query in ("黨員教育", '"黨員教育"', "學習強國", "党员教育"):
        page = ix.search(query)
        assert [h.doc_id for h in page.hits] == ["d1"], query
    hit = ix.search("黨員教育").hits[0]
    assert "<mark>党员教育</mark>" in hit.snippet_html
    assert ix.search("學習強國").hits[0].title_html == "<mark>学习强国</mark>平台"


def test_traditional_text_is_found_and_its_own_characters_marked(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([IndexDoc(doc_id="t1", kind="reading", title="港澳讀物", body="加強黨員教育管理。")])
    hit = ix.search("党员教育").hits[0]
    assert hit.doc_id == "t1" and "<mark>黨員教育</mark>" in hit.snippet_html
    assert find_matches("加強黨員教育", parse_query("党员").literals) == [(2, 4)]
