"""The PostgreSQL backend of the search: the same documents, query language and results as the whoosh index,
held in a table of the caller's database.

Why a second backend: with PostgreSQL, every web node sees an index write the moment the transaction that made
it commits, and there are no index files to copy between nodes. The caller (the app) owns the database and the
transaction; this module only defines the table (:func:`document_table`, added to the caller's ``MetaData``) and
reads and writes it through the connection or session it is given, so a write lands in the same transaction as
the content it describes.

What is stored, per document (one per reading chunk, course, lesson or subtitle chunk, as for whoosh):

* ``tsv`` — a ``tsvector`` of the project's own analysis, not PostgreSQL's parser: the overlapping character
  bigrams of each run of ``text_runs(title + "\\n" + body)``, at the positions ``BigramTokenizer`` gives them (a
  gap of two positions between runs, so a phrase never spans punctuation), title positions weighted ``A``.
  A GIN index answers a run of two characters exactly and narrows longer text to candidates with a positional
  ``tsquery`` (``'新质' <-> '质生' <-> '生产' <-> '产力'``);
* ``text`` — ``fold(title + "\\n" + body)``, what exact matching checks (``LIKE``), with a ``pg_trgm`` GIN index
  so a quoted text whose runs are too short for bigrams (``"（一）"``) is still found through an index;
* the ids, anchors and the filter tokens (``kind``, ``series``, ``sectors``, ``audience`` as ``text[]``).

Semantics are those of ``content.engine``: a run of three or more characters matches where the folded text
contains it (the bigram query only selects candidates), a quoted phrase where the folded text contains the whole
phrase (punctuation included), an unquoted compound also where its jieba words occur apart. Ranking follows the
formula of ``content.engine`` with ``ts_rank`` over the bigrams in place of BM25 (see :func:`_score_sql`).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    Column,
    Index,
    MetaData,
    Table,
    Text,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from . import engine
from .analysis import bigrams, fold, query_words, text_runs
from .documents import IndexDoc
from .highlight import SNIPPET_CHARS, highlight
from .query import NotNode, ParsedQuery, QueryError, QueryNode, TextNode, exact_text, parse_query
from .searcher import SearchHit, SearchPage, _anchor_for, check_paging

#: The table's name in the caller's database.
TABLE_NAME = "search_document"
#: tsvector positions run from 1 to 16383 (PostgreSQL caps larger ones); documents are chunks of ~1,500
#: characters, so only an over-long course description reaches the cap, and exact checks keep it correct.
MAX_POSITION = 16383
#: A lexeme keeps at most 256 positions in a tsvector.
MAX_POSITIONS_PER_LEXEME = 256
#: Fields ``replace_by``/``delete_by`` accept (as for ``SearchIndex``).
DELETE_FIELDS = ("doc_id", "kind", "reading_id", "course_id", "lesson_id")
#: Rows written per INSERT statement of a rebuild.
REBUILD_BATCH = 500

#: Out of line but uncompressed: every match's folded text is scanned and its tsvector ranked, and decompressing
#: them (pglz, the default) was half the cost of a query.
STORAGE_DDL = (f"ALTER TABLE {TABLE_NAME} ALTER COLUMN text SET STORAGE EXTERNAL, "
               "ALTER COLUMN tsv SET STORAGE EXTERNAL, ALTER COLUMN body SET STORAGE EXTERNAL")

_FILTER_COLUMNS = {"kinds": "kind", "series": "series", "sectors": "sectors", "allowed": "audience"}


def _tokens_type() -> TypeEngine[Any]:
    return JSON().with_variant(postgresql.ARRAY(Text), "postgresql")


def document_table(metadata: MetaData) -> Table:
    """Define the documents table in ``metadata`` (the caller's, so that its schema tools create it).

    On other databases than PostgreSQL the table is created with plain types and stays unused.

    Args:
        metadata: the ``MetaData`` to add the table to (once).

    Returns:
        The ``Table``.
    """
    table = Table(
        TABLE_NAME, metadata,
        Column("doc_id", Text, primary_key=True),
        Column("kind", Text, nullable=False),
        Column("title", Text, nullable=False),
        Column("body", Text, nullable=False),
        Column("reading_id", Text),
        Column("course_id", Text),
        Column("lesson_id", Text),
        Column("anchor", JSON),
        Column("anchors", JSON),
        Column("series", _tokens_type()),
        Column("sectors", _tokens_type()),
        Column("audience", _tokens_type()),
        Column("title_folded", Text, nullable=False),
        Column("text", Text, nullable=False),
        Column("tsv", Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=False),
    )
    Index(f"ix_{TABLE_NAME}_tsv", table.c.tsv, postgresql_using="gin")
    Index(f"ix_{TABLE_NAME}_text_trgm", table.c.text, postgresql_using="gin",
          postgresql_ops={"text": "gin_trgm_ops"})
    Index(f"ix_{TABLE_NAME}_audience", table.c.audience, postgresql_using="gin")
    for name in ("reading_id", "course_id", "lesson_id"):
        Index(f"ix_{TABLE_NAME}_{name}", table.c[name])
    event.listen(table, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(
        dialect="postgresql"))
    event.listen(table, "after_create", DDL(STORAGE_DDL).execute_if(dialect="postgresql"))
    return table


# --- analysis ----------------------------------------------------------------------------------

def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(title: str, body: str) -> str:
    """The ``tsvector`` (in its text form) of a document: bigrams at ``BigramTokenizer``'s positions, and every
    character once, without positions (a single character is then found through the index too, exactly).

    Args:
        title: the document's title (its bigrams are weighted ``A``).
        body: its body.

    Returns:
        Text to cast to ``tsvector`` (empty for a document without word characters).
    """
    positions: dict[str, list[str]] = {}
    chars: set[str] = set()
    pos = 1
    title_end = len(title)
    for run_start, run in text_runs(f"{title}\n{body}"):
        weight = "A" if run_start < title_end else ""
        chars.update(run)
        for i in range(len(run) - 1):
            held = positions.setdefault(run[i:i + 2], [])
            if len(held) < MAX_POSITIONS_PER_LEXEME:
                held.append(f"{min(pos, MAX_POSITION)}{weight}")
            pos += 1
        pos += 2
    grams = [f"{_lexeme(term)}:{','.join(held)}" for term, held in positions.items()]
    return " ".join(grams + [_lexeme(ch) for ch in sorted(chars)])


def _chain(run: str) -> str:
    """A ``tsquery`` matching the bigrams of ``run`` at consecutive positions (a run of 2+ characters)."""
    return " <-> ".join(_lexeme(gram) for gram in bigrams(run))


def _like(literal: str) -> str:
    return "%" + literal.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def document_row(doc: IndexDoc | Mapping[str, Any]) -> dict[str, Any]:
    """The table row of one document.

    Raises:
        ValueError, TypeError: the document is invalid (see ``IndexDoc.validate``).
    """
    doc = IndexDoc.coerce(doc)
    doc.validate()
    row: dict[str, Any] = {
        "doc_id": str(doc.doc_id), "kind": doc.kind, "title": doc.title, "body": doc.body,
        "anchor": doc.anchor, "anchors": [list(a) for a in doc.anchors],
        "series": [str(t) for t in doc.series], "sectors": [str(t) for t in doc.sectors],
        "audience": [str(t) for t in doc.audience],
        "title_folded": fold(doc.title), "text": fold(f"{doc.title}\n{doc.body}"),
        "tsv": tsvector_literal(doc.title, doc.body),
    }
    for name in ("reading_id", "course_id", "lesson_id"):
        value = getattr(doc, name)
        row[name] = None if value is None else str(value)
    return row


# --- query translation -------------------------------------------------------------------------

@dataclass
class _Sql:
    """Bound parameters of a statement under construction."""

    params: dict[str, Any] = field(default_factory=dict)

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def _run_conditions(runs: Sequence[str], sql: _Sql) -> list[str]:
    """Conditions for folded text containing every run (exactly, as ``engine.text_docs`` checks)."""
    conditions = []
    terms = [_chain(run) if len(run) >= 2 else _lexeme(run) for run in runs]
    if terms:
        conditions.append(f"d.tsv @@ CAST({sql.param(' & '.join(terms))} AS tsquery)")
    # One and two characters are exact as lexemes; a longer run's chain of bigrams selects candidates (its
    # positions cap in over-long documents), and the text check makes it exact.
    conditions.extend(f"d.text LIKE {sql.param(_like(run))}" for run in runs if len(run) > 2)
    return conditions


def _leaf(node: TextNode, sql: _Sql) -> str | None:
    runs = [run for _, run in text_runs(node.text)]
    if not runs:
        return None
    conditions = _run_conditions(runs, sql)
    if node.phrase:
        exact = exact_text(node.text)
        if exact not in runs:
            conditions.append(f"d.text LIKE {sql.param(_like(exact))}")
        return "(" + " AND ".join(conditions) + ")"
    words = query_words(node.text)
    exact_sql = "(" + " AND ".join(conditions) + ")"
    if len(words) < 2:
        return exact_sql
    apart = _run_conditions(words, sql)
    return f"({exact_sql} OR (" + " AND ".join(apart) + "))"


def _where(node: QueryNode, sql: _Sql) -> str | None:
    if isinstance(node, TextNode):
        return _leaf(node, sql)
    if isinstance(node, NotNode):
        child = _where(node.child, sql)
        return None if child is None else f"(NOT {child})"
    parts = [p for p in (_where(child, sql) for child in node.children) if p is not None]
    if not parts:
        return None
    return "(" + f" {node.op} ".join(parts) + ")"


def _score_sql(tree: QueryNode, sql: _Sql) -> str:
    """The ranking expression: ``content.engine``'s formula, with ``ts_rank`` standing in for its BM25 part.

    ``PHRASE_BONUS`` for each exact text E(q) the folded text contains, ``TITLE_BONUS`` for each the folded title
    contains, plus ``ts_rank`` over the bigrams G(q) (title bigrams weighted ``A``), normalised by the
    document's length and into [0, 1) (flags 1 | 32) as the saturated BM25 part is, so the order stays
    lexicographic: more exact texts first, then more of them in the title, then the bigram rank.
    """
    spec = engine.rank_spec(tree)
    implied = _implied_text(tree)
    parts = []
    if spec.grams:
        query = " | ".join(_lexeme(g) for g in spec.grams)
        parts.append(f"ts_rank(d.tsv, CAST({sql.param(query)} AS tsquery), 33)")
    for exact in spec.texts:
        like = sql.param(_like(exact))
        if exact != implied:  # every match contains the implied text: its bonus would be the same for all
            parts.append(f"{engine.PHRASE_BONUS!r} * (d.text LIKE {like})::int")
        parts.append(f"{engine.TITLE_BONUS!r} * (d.title_folded LIKE {like})::int")
    return " + ".join(parts) if parts else "0"


def _implied_text(tree: QueryNode) -> str | None:
    """The exact text every match of a one-term query contains (then scanning the text for it again is waste)."""
    if not isinstance(tree, TextNode):
        return None
    exact = exact_text(tree.text)
    if tree.phrase:
        return exact
    runs = [run for _, run in text_runs(tree.text)]
    return exact if runs == [exact] and len(query_words(tree.text)) < 2 else None


def _filters_sql(filters: Mapping[str, Sequence[str] | str | None], sql: _Sql) -> tuple[list[str], bool]:
    """Filter conditions and whether a filter excludes everything."""
    conditions = []
    for name, column in _FILTER_COLUMNS.items():
        values = filters.get(name)
        if values is None:
            continue
        tokens = [values] if isinstance(values, str) else [str(v) for v in values]
        if not tokens:
            return [], True
        if column == "kind":
            conditions.append(f"d.kind = ANY(CAST({sql.param(tokens)} AS text[]))")
        else:
            conditions.append(f"d.{column} && CAST({sql.param(tokens)} AS text[])")
    return conditions, False


# --- the backend -------------------------------------------------------------------------------

@contextmanager
def _index_scans(bind: Any) -> Iterator[None]:
    """Have the planner use the GIN indexes where it can, for this search's statements only.

    Its cost model does not count reading a TOASTed tsvector: on a table of ten thousand documents it
    estimates a sequential scan cheaper than the index, then decompresses and checks every document's
    tsvector (about 200 ms instead of 2 ms for a rare word). ``set_config(…, true)`` is local to the
    transaction; the previous value comes back afterwards.
    """
    previous = bind.execute(text("SELECT current_setting('enable_seqscan')")).scalar_one()
    bind.execute(text("SELECT set_config('enable_seqscan', 'off', true)"))
    try:
        yield
    finally:
        bind.execute(text("SELECT set_config('enable_seqscan', :v, true)"), {"v": previous})


class PgSearch:
    """Search and index writes on the documents table, through ``bind``.

    Args:
        bind: a SQLAlchemy ``Connection`` or ``Session`` on PostgreSQL; writes join its transaction and are
            committed (or rolled back) by the caller.
        table: the table from :func:`document_table`.
    """

    def __init__(self, bind: Any, table: Table):
        self.bind = bind
        self.table = table

    # writing

    def replace_by(self, field_name: str | None, value: object,
                   docs: Iterable[IndexDoc | Mapping[str, Any]]) -> int:
        """Delete the documents whose ``field_name`` equals ``value`` and write ``docs`` (replacing same ids).

        Args:
            field_name: one of ``DELETE_FIELDS`` or None to delete nothing.
            value: compared as a string.
            docs: the documents to write.

        Returns:
            The number of documents written.

        Raises:
            ValueError: invalid field or document (nothing is written then).
        """
        rows = [document_row(d) for d in docs]
        if field_name is not None:
            self._check_field(field_name)
            self.bind.execute(delete(self.table).where(self.table.c[field_name] == str(value)))
        if rows:
            ids = [r["doc_id"] for r in rows]
            self.bind.execute(delete(self.table).where(self.table.c.doc_id.in_(ids)))
            self._insert(rows)
        return len(rows)

    def update_documents(self, docs: Iterable[IndexDoc | Mapping[str, Any]]) -> int:
        """Add or replace documents by ``doc_id``; returns how many were written."""
        return self.replace_by(None, None, docs)

    def delete_by(self, field_name: str, value: object) -> int:
        """Delete every document whose ``field_name`` (one of ``DELETE_FIELDS``) equals ``value``.

        Raises:
            ValueError: ``field_name`` is not one of those.
        """
        self._check_field(field_name)
        result = self.bind.execute(delete(self.table).where(self.table.c[field_name] == str(value)))
        return int(result.rowcount or 0)

    def rebuild(self, docs: Iterable[IndexDoc | Mapping[str, Any]]) -> int:
        """Replace every document by ``docs`` (in the caller's transaction: readers see the old set until commit).

        Raises:
            ValueError: a document is invalid.
        """
        self.bind.execute(delete(self.table))
        count = 0
        batch: list[dict[str, Any]] = []
        for doc in docs:
            batch.append(document_row(doc))
            if len(batch) >= REBUILD_BATCH:
                self._insert(batch)
                count += len(batch)
                batch = []
        if batch:
            self._insert(batch)
            count += len(batch)
        return count

    def doc_count(self) -> int:
        """Number of documents."""
        return int(self.bind.execute(select(func.count()).select_from(self.table)).scalar_one())

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        self.bind.execute(insert(self.table), rows)

    @staticmethod
    def _check_field(field_name: str) -> None:
        if field_name not in DELETE_FIELDS:
            raise ValueError(f"can only delete by {', '.join(DELETE_FIELDS)}, not {field_name!r}")

    # searching

    @staticmethod
    def _where_sql(parsed: ParsedQuery, sql: _Sql, *, kinds: Sequence[str] | None, series: Sequence[str] | None,
                   sectors: Sequence[str] | None, allowed: Iterable[str] | None) -> str | None:
        """The WHERE clause of a query and its filters (None: a filter excludes everything)."""
        conditions, nothing = _filters_sql(
            {"kinds": kinds, "series": series, "sectors": sectors,
             "allowed": None if allowed is None else sorted({str(a) for a in allowed})}, sql)
        if nothing:
            return None
        where = _where(parsed.tree, sql)
        if where is None:  # pragma: no cover - parse_query refuses a query without words
            raise QueryError("The query has no words to search for (only punctuation or symbols).")
        return " AND ".join([*conditions, where])

    def match_ids(self, query_string: str, *, kinds: Sequence[str] | None = None,
                  series: Sequence[str] | None = None, sectors: Sequence[str] | None = None,
                  allowed: Iterable[str] | None = None) -> set[str]:
        """The ids of every matching document (no ranking), as ``content.searcher.match_docnums`` for whoosh.

        Raises:
            QueryError: the query is invalid.
        """
        sql = _Sql()
        where_sql = self._where_sql(parse_query(query_string), sql, kinds=kinds, series=series, sectors=sectors,
                                    allowed=allowed)
        if where_sql is None:
            return set()
        with _index_scans(self.bind):
            return set(self.bind.execute(text(f"SELECT d.doc_id FROM {TABLE_NAME} d WHERE {where_sql}"),
                                         sql.params).scalars())

    def search(self, query_string: str, *, kinds: Sequence[str] | None = None, series: Sequence[str] | None = None,
               sectors: Sequence[str] | None = None, allowed: Iterable[str] | None = None, page: int = 1,
               pagelen: int = 10, snippet_chars: int = SNIPPET_CHARS) -> SearchPage:
        """Search, with the arguments and results of ``content.Searcher.search``.

        Raises:
            QueryError: the query or paging arguments are invalid; the message is for the user.
        """
        check_paging(page, pagelen)
        parsed = parse_query(query_string)
        sql = _Sql()
        where_sql = self._where_sql(parsed, sql, kinds=kinds, series=series, sectors=sectors, allowed=allowed)
        if where_sql is None:
            return SearchPage(total=0, page=page, pagelen=pagelen, hits=[])
        with _index_scans(self.bind):
            return self._search_page(parsed, sql, where_sql, page, pagelen, snippet_chars)

    def _search_page(self, parsed: ParsedQuery, sql: _Sql, where_sql: str, page: int, pagelen: int,
                     snippet_chars: int) -> SearchPage:
        score = _score_sql(parsed.tree, sql)
        limit, offset = sql.param(pagelen), sql.param((page - 1) * pagelen)
        # One pass over the matches ranks them and counts them; only the page's rows are read whole.
        rows = self.bind.execute(text(
            f"WITH ranked AS (SELECT d.doc_id, {score} AS score, count(*) OVER () AS total"
            f" FROM {TABLE_NAME} d WHERE {where_sql} ORDER BY score DESC, d.doc_id LIMIT {limit} OFFSET {offset})"
            f" SELECT r.total, r.score, d.doc_id, d.kind, d.title, d.body, d.reading_id, d.course_id, d.lesson_id,"
            f" d.anchor, d.anchors, d.series, d.sectors FROM ranked r JOIN {TABLE_NAME} d ON d.doc_id = r.doc_id"
            f" ORDER BY r.score DESC, d.doc_id"), sql.params).mappings().all()
        if rows:
            total = int(rows[0]["total"])
        else:  # no match, or a page past the end: the total still counts
            total = int(self.bind.execute(text(f"SELECT count(*) FROM {TABLE_NAME} d WHERE {where_sql}"),
                                          sql.params).scalar_one())
            return SearchPage(total=total, page=page, pagelen=pagelen, hits=[])
        hits = []
        for row in rows:
            snippet = highlight(row["body"], parsed.literals, size=snippet_chars)
            stored = {"anchor": row["anchor"], "anchors": row["anchors"] or ()}
            hits.append(SearchHit(
                doc_id=row["doc_id"], kind=row["kind"], title=row["title"], score=float(row["score"]),
                snippet_html=snippet.html, title_html=highlight(row["title"], parsed.literals, size=0).html,
                reading_id=row["reading_id"], course_id=row["course_id"], lesson_id=row["lesson_id"],
                anchor=_anchor_for(stored, snippet.first_match), series=list(row["series"] or []),
                sectors=list(row["sectors"] or [])))
        return SearchPage(total=total, page=page, pagelen=pagelen, hits=hits)
