"""Quoted phrases match exactly their folded text, punctuation included; only the whole phrase is marked."""
import pytest

from content import IndexDoc, SearchIndex, parse_query
from content.highlight import find_matches


def doc(n, body, title=None):
    return IndexDoc(doc_id=f"d{n}", kind="reading", title=title or f"读物{n}", body=body)


@pytest.fixture
def index(tmp_path):
    ix = SearchIndex(tmp_path / "ix").create_or_open()
    ix.update_documents([
        doc(1, "（一）坚持党的全面领导。"),
        doc(2, "(一)半角括号的条目。"),
        doc(3, "一是加强学习，二是统一思想。"),
        doc(4, "泰山·大学生志愿服务队成立。"),
        doc(5, "泰山艺苑的大学生来访。"),
        doc(6, "泰山大学生宿舍。"),
        doc(7, "Party   School training"),
    ])
    return ix


def ids(page):
    return sorted(h.doc_id for h in page.hits)


def test_a_phrase_with_punctuation_matches_only_that_text(index):
    assert ids(index.search('"（一）"')) == ["d1", "d2"]  # full-width and its half-width fold
    assert ids(index.search('"(一)"')) == ["d1", "d2"]
    assert ids(index.search('"泰山·大学生"')) == ["d4"]
    assert index.search('"泰山·大学生"').total == 1


def test_unquoted_words_keep_matching_their_runs_apart(index):
    assert ids(index.search("泰山·大学生")) == ["d4", "d5", "d6"]
    assert ids(index.search("（一）")) == ["d1", "d2", "d3"]


def test_inner_whitespace_of_a_phrase_is_collapsed(index):
    assert ids(index.search('"school  training"')) == ["d7"]
    assert ids(index.search('"school\u3000training"')) == ["d7"]  # an ideographic space is whitespace too


def test_only_the_whole_phrase_is_highlighted(index):
    hit = index.search('"泰山·大学生"').hits[0]
    assert "<mark>泰山·大学生</mark>" in hit.snippet_html
    literals = parse_query('"泰山·大学生"').literals
    assert literals == ["泰山·大学生"]
    assert find_matches("泰山艺苑的大学生，泰山·大学生", literals) == [(9, 15)]


def test_phrase_literals_are_folded_and_collapsed():
    assert parse_query('"（一）"').literals == ["(一)"]
    assert parse_query('“Party   School”').literals == ["party school"]
    unquoted = parse_query("泰山·大学生").literals
    assert "泰山" in unquoted and "大学生" in unquoted
