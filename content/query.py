"""The search query language and its translation to whoosh queries.

Language (whitespace means AND, which suits Chinese users who type words separated by spaces)::

    党员 培训            both words
    "新质生产力"          exactly this text (also “…” quotes)
    三会一课 OR 主题党日   either
    党员 NOT 干部, 党员 -干部   exclude
    (农村 OR 社区) 培训    grouping

Matching is on text, not on jieba's segmentation, and on folded text (``content.analysis.fold``:
width, case, Traditional to Simplified): a quoted phrase matches exactly its text, punctuation
included, inner whitespace collapsed (``exact_text``; ``"（一）"`` matches "（一）" or "(一)",
not every "一"); an unquoted word matches where each of its runs (punctuation separates runs)
occurs as text, or, when jieba splits it into several words, where all those words occur.
Highlight literals follow the same meaning: a quoted phrase marks only the whole phrase; an
unquoted word marks its runs and its jieba words.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from whoosh import query as wq

from .analysis import bigrams, fold, query_words, text_runs

#: Longest query accepted, in characters.
MAX_QUERY_CHARS = 500
#: Most terms (words and phrases) in a query.
MAX_QUERY_TERMS = 32

_OPEN_QUOTES = {'"': '"', "“": "”", "「": "」"}
_OPERATORS = {"AND", "OR", "NOT"}


class QueryError(ValueError):
    """The query cannot be searched; ``str(error)`` says why, for the person searching."""


# --- tokens and syntax tree ----------------------------------------------------------------

@dataclass
class _Tok:
    kind: str  # WORD, PHRASE, AND, OR, NOT, MINUS, LPAREN, RPAREN
    text: str = ""


@dataclass
class TextNode:
    """A word or, with ``phrase``, a quoted text of the query."""

    text: str
    phrase: bool


@dataclass
class BoolNode:
    """Children joined by ``op``: "AND" or "OR"."""

    op: str
    children: list[QueryNode]


@dataclass
class NotNode:
    """Documents not matching ``child`` (only inside an AND with something positive)."""

    child: QueryNode


#: A node of the syntax tree ``content.engine`` evaluates.
QueryNode: TypeAlias = "TextNode | BoolNode | NotNode"


@dataclass
class ParsedQuery:
    """A parsed query.

    ``tree`` is the syntax tree ``content.engine`` evaluates exactly; ``query`` is a whoosh query
    over the same fields matching a superset (text of 3+ characters becomes "all its bigrams",
    without the order check), kept for callers that want whoosh's own machinery; ``literals``
    are the folded strings to highlight.
    """

    query: wq.Query
    literals: list[str] = field(default_factory=list)
    tree: QueryNode = field(kw_only=True)


def exact_text(text: str) -> str:
    """The folded text a quoted phrase must occur as: ``fold``ed, whitespace runs made one space, trimmed.

    Args:
        text: a phrase (or word) as typed, without its quotes.
    """
    return " ".join(fold(text).split())


def _lex(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch in _OPEN_QUOTES:
            close = source.find(_OPEN_QUOTES[ch], i + 1)
            if close == -1 and ch == "“":
                close = source.find('"', i + 1)
            if close == -1:
                raise QueryError(f"A quotation mark is not closed: {source[i:i + 20]}…")
            tokens.append(_Tok("PHRASE", source[i + 1:close]))
            i = close + 1
        elif ch in "”」":
            raise QueryError("A closing quotation mark has no opening one.")
        elif ch == "(":
            tokens.append(_Tok("LPAREN"))
            i += 1
        elif ch == ")":
            tokens.append(_Tok("RPAREN"))
            i += 1
        elif ch == "-" and i + 1 < n and not source[i + 1].isspace() and (i == 0 or source[i - 1].isspace()
                                                                          or source[i - 1] == "("):
            tokens.append(_Tok("MINUS"))
            i += 1
        else:
            j = i
            while j < n and not source[j].isspace() and source[j] not in '()"“”「」':
                j += 1
            word = source[i:j]
            tokens.append(_Tok(word, word) if word in _OPERATORS else _Tok("WORD", word))
            i = j
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Tok]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i].kind if self.i < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> QueryNode:
        node = self.or_expr()
        if self.peek() == "RPAREN":
            raise QueryError("A closing parenthesis ')' has no opening one.")
        if self.peek() is not None:  # pragma: no cover - every token kind is consumed above
            raise QueryError(f"Unexpected {self.peek()} in the query.")
        return node

    def or_expr(self) -> QueryNode:
        children = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, "RPAREN", "OR", "AND"):
                raise QueryError("OR needs a word or phrase on both sides.")
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else BoolNode("OR", children)

    def and_expr(self) -> QueryNode:
        if self.peek() in ("AND", "OR"):
            raise QueryError(f"{self.peek()} needs a word or phrase on both sides.")
        children = [self.unary()]
        while self.peek() not in (None, "OR", "RPAREN"):
            if self.peek() == "AND":
                self.take()
                if self.peek() in (None, "RPAREN", "OR", "AND"):
                    raise QueryError("AND needs a word or phrase on both sides.")
            children.append(self.unary())
        return children[0] if len(children) == 1 else BoolNode("AND", children)

    def unary(self) -> QueryNode:
        kind = self.peek()
        if kind in ("NOT", "MINUS"):
            self.take()
            if self.peek() in (None, "RPAREN", "OR", "AND", "NOT", "MINUS"):
                raise QueryError("NOT (or '-') must be followed by a word or phrase to exclude.")
            return NotNode(self.unary())
        return self.primary()

    def primary(self) -> QueryNode:
        kind = self.peek()
        if kind is None:
            raise QueryError("The query ends too early.")
        tok = self.take()
        if kind == "LPAREN":
            if self.peek() == "RPAREN":
                raise QueryError("Empty parentheses '()' in the query.")
            node = self.or_expr()
            if self.peek() != "RPAREN":
                raise QueryError("An opening parenthesis '(' is not closed.")
            self.take()
            return node
        if kind == "RPAREN":
            raise QueryError("A closing parenthesis ')' has no opening one.")
        return TextNode(tok.text, phrase=(kind == "PHRASE"))


# --- translation ---------------------------------------------------------------------------

def _run_query(run: str) -> wq.Query:
    if len(run) == 1:
        # Candidates only: the bigrams starting with the character (a character standing alone
        # between punctuation is missed); ``content.engine`` scans the texts instead.
        return wq.Prefix("grams", run)
    if len(run) == 2:
        return wq.Term("grams", run)
    # Candidates only: documents with every bigram. ``content.engine`` checks the text itself.
    return wq.And([wq.Term("grams", g) for g in dict.fromkeys(bigrams(run))])


def _text_query(node: TextNode, literals: list[str] | None) -> wq.Query | None:
    runs = [run for _, run in text_runs(node.text)]
    if not runs:
        return None
    exact = runs and (_run_query(runs[0]) if len(runs) == 1 else wq.And([_run_query(r) for r in runs]))
    if node.phrase:
        if literals is not None:
            # The phrase matched as a whole, punctuation included: only the whole is marked.
            literals.append(exact_text(node.text))
        return exact
    if literals is not None:
        literals.extend(runs)
    words = query_words(node.text)
    if len(words) < 2:
        return exact
    if literals is not None:
        literals.extend(words)
    # An unquoted compound also matches where its words occur apart, as users of search engines expect
    # (each word as text: the jieba word fields may have no postings).
    return wq.Or([exact, wq.And([_run_query(w) for w in words])])


def _count_terms(node: QueryNode) -> int:
    if isinstance(node, TextNode):
        return 1
    if isinstance(node, NotNode):
        return _count_terms(node.child)
    return sum(_count_terms(c) for c in node.children)


def _translate(node: QueryNode, literals: list[str] | None) -> wq.Query | None:
    """Translate a syntax node; ``literals`` collects highlight strings (None inside a NOT)."""
    if isinstance(node, TextNode):
        return _text_query(node, literals)
    if isinstance(node, NotNode):
        child = _translate(node.child, None)
        return None if child is None else wq.Not(child)
    parts = [q for q in (_translate(c, literals) for c in node.children) if q is not None]
    if not parts:
        return None
    positives = [q for q in parts if not isinstance(q, wq.Not)]
    negatives = [q.query for q in parts if isinstance(q, wq.Not)]
    if node.op == "OR":
        if negatives:
            raise QueryError("NOT cannot be one side of OR; write the words to keep and NOT the ones to exclude.")
        return positives[0] if len(positives) == 1 else wq.Or(positives)
    if not positives:
        return wq.Not(negatives[0] if len(negatives) == 1 else wq.Or(negatives))
    positive = positives[0] if len(positives) == 1 else wq.And(positives)
    if not negatives:
        return positive
    return wq.AndNot(positive, negatives[0] if len(negatives) == 1 else wq.Or(negatives))


def parse_query(source: str) -> ParsedQuery:
    """Parse a search query into a whoosh query and the literals to highlight.

    Args:
        source: the query as typed (see the module docstring for the language).

    Returns:
        ``ParsedQuery`` with ``query`` (over the field ``grams``; see ``ParsedQuery``) and
        ``literals`` (folded text to mark in snippets; excluded words are not marked).

    Raises:
        QueryError: empty or too long query, unbalanced quotes or parentheses, an operator
            without operands, or a query that only excludes.
    """
    if source is None or not source.strip():
        raise QueryError("Enter a word or phrase to search for.")
    if len(source) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is too long (more than {MAX_QUERY_CHARS} characters).")
    tree = _Parser(_lex(source.strip())).parse()
    if _count_terms(tree) > MAX_QUERY_TERMS:
        raise QueryError(f"The query has too many words (more than {MAX_QUERY_TERMS}).")
    literals: list[str] = []
    result = _translate(tree, literals)
    if result is None:
        raise QueryError("The query has no words to search for (only punctuation or symbols).")
    if isinstance(result, wq.Not):
        raise QueryError("The query only excludes words; add a word or phrase to search for.")
    return ParsedQuery(query=result, literals=literals, tree=tree)
