"""Readings and search for elearn: parse reading files, analyse Chinese text, index and search.

A pure library: no Flask, no database. The app (``elearn.services``) calls it; so does the
command line (``python -m content``).
"""
from .analysis import ChineseAnalyzer, fold, jieba_tokenizer
from .highlight import Snippet, highlight
from . import engine
from .index import (
    CHUNK_CHARS,
    KINDS,
    IndexBusyError,
    IndexDoc,
    Searcher,
    SearchHit,
    SearchIndex,
    SearchPage,
    reading_documents,
    subtitle_documents,
)
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

__all__ = [
    "CHINESE_CHARS_PER_MINUTE", "CHUNK_CHARS", "KINDS", "MAX_READING_BYTES", "SUPPORTED_FORMATS",
    "ChineseAnalyzer", "IndexBusyError", "IndexDoc", "Paragraph", "QueryError", "Reading",
    "ReadingError", "SearchHit", "SearchIndex", "SearchPage", "Searcher", "Section", "Snippet",
    "estimate_reading_minutes", "fold", "highlight", "jieba_tokenizer", "parse_query",
    "parse_reading", "reading_documents", "subtitle_documents",
]
