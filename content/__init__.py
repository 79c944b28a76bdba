"""Readings and search for elearn: parse reading files, analyse Chinese text, index and search.

A pure library: no Flask, no database. The app (``elearn``) calls it; so does the
command line (``python -m content``).

Modules: ``reading``/``ingest`` (files to a ``Reading``), ``analysis`` (Chinese words, bigrams,
folding), ``documents`` (the index schema and ``IndexDoc``), ``store`` (``SearchIndex``: the
generations on disk and the single writer), ``searcher`` (``Searcher``: queries, filters, paging),
``query`` (the query language), ``engine`` (fast exact matching and ranking), ``highlight``
(snippets), ``whoosh_compat`` (every use of whoosh internals).
"""
from . import engine
from .analysis import ChineseAnalyzer, fold, jieba_tokenizer
from .documents import CHUNK_CHARS, KINDS, IndexDoc, reading_documents, subtitle_documents
from .highlight import Snippet, highlight
from .ingest import MAX_READING_BYTES, SUPPORTED_FORMATS, parse_reading
from .query import QueryError, parse_query
from .reading import (
    CHINESE_CHARS_PER_MINUTE,
    Paragraph,
    Reading,
    ReadingError,
    Section,
    estimate_reading_minutes,
)
from .searcher import Searcher, SearchHit, SearchPage
from .store import IndexBusyError, SearchIndex

__all__ = [
    "CHINESE_CHARS_PER_MINUTE", "CHUNK_CHARS", "KINDS", "MAX_READING_BYTES", "SUPPORTED_FORMATS",
    "ChineseAnalyzer", "IndexBusyError", "IndexDoc", "Paragraph", "QueryError", "Reading",
    "ReadingError", "SearchHit", "SearchIndex", "SearchPage", "Searcher", "Section", "Snippet",
    "engine", "estimate_reading_minutes", "fold", "highlight", "jieba_tokenizer", "parse_query",
    "parse_reading", "reading_documents", "subtitle_documents",
]
