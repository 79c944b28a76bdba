"""Turn uploaded reading files into a normalised ``Reading``.

Every format is first reduced to a list of blocks (explicit headings with a level, and
paragraphs); plain text and PDF arrive as lines with what their layout says (blank lines,
page breaks; for PDF also first-line indents, gaps, type size and centring, with running
headers and footers removed) and are grouped into paragraphs first. Structure is then
detected the same way for all formats: Chinese headings (第X章, 一、, （一）, 1. …) are
recognised in paragraphs that carry no explicit heading markup; a short line standing
alone between paragraphs is an unnumbered subheading, and bylines (作者：…, ——在…上的讲话,
datelines) are paragraphs of their own. Soft line breaks join as a reader reads them: with
nothing between Chinese characters and punctuation, with a space between Latin words.
"""
from __future__ import annotations

import codecs
import io
import itertools
import math
import posixpath
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from urllib.parse import unquote
from xml.etree import ElementTree

from .reading import Paragraph, Reading, ReadingError, Section

#: Largest upload accepted, in bytes.
MAX_READING_BYTES = 50 * 1024 * 1024
#: Largest total unpacked size of a .docx/.epub archive (guards against zip bombs).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: Most PDF pages read.
MAX_PDF_PAGES = 3000
#: A stand-alone heading line is at most this long.
MAX_HEADING_CHARS = 60
#: A run-in heading ("（一）深化学习教育。突出…") is at most this long before its full stop.
MAX_RUN_IN_HEADING_CHARS = 40
#: A first line longer than this is text, not the reading's title.
MAX_TITLE_CHARS = 80
#: An unnumbered subheading (a short line standing alone: "坚持政治引领", "奋进新时代！") is at most this long.
MAX_SUBHEADING_CHARS = 30
#: A subheading of hard-wrapped text is at most this fraction of the text's longest line (a full line is a wrap).
SUBHEADING_LINE_FRACTION = 0.6

SUPPORTED_FORMATS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".pdf": "pdf",
    ".epub": "epub",
}

_CN_NUM = "一二三四五六七八九十百千零〇两"
# Ordered from the outermost to the innermost customary level of Chinese official documents.
_HEADING_KINDS: list[tuple[str, re.Pattern]] = [
    ("part", re.compile(rf"^第[{_CN_NUM}\d]+(?:编|部分)(?=\s|$|[^\s，。、])")),
    ("chapter", re.compile(rf"^第[{_CN_NUM}\d]+章")),
    ("section", re.compile(rf"^第[{_CN_NUM}\d]+节")),
    ("cn-enum", re.compile(rf"^[{_CN_NUM}]+、")),
    ("cn-paren", re.compile(rf"^[(（][{_CN_NUM}]+[)）]")),
    ("num", re.compile(r"^\d{1,3}(?:[、．]|\.(?!\d))")),
    ("num-paren", re.compile(r"^[(（]\d{1,3}[)）]")),
]
# Headings recognised by standing alone rather than by numbering nest below every numbered kind.
_PLAIN_HEADING = "plain"
_KIND_RANK = {kind: rank for rank, (kind, _) in enumerate(_HEADING_KINDS)}
_KIND_RANK[_PLAIN_HEADING] = len(_HEADING_KINDS)

# Sentence-final marks: a line ending in one of these is a complete paragraph.
_FINAL_MARKS = "。！？!?；;：:…."
_CLOSING_QUOTES = "”’」』\"'"
# Marks that end a heading which is an exclamation or a question ("奋进新时代！").
_HEADING_FINAL_MARKS = "！？!?"
# Punctuation inside a sentence; a heading has none ("、" and quotes are common in headings, so not these).
_SENTENCE_INTERNAL_MARKS = "，,；;。：:！？!?"
# A line ending in one of these is cut off mid-phrase, never a whole heading.
_OPEN_ENDINGS = "、，,（(《〈“‘「『—-…·"
_PAGE_NUMBER_RES = [
    re.compile(r"^[-—–·\s]*\d{1,4}[-—–·\s]*$"),
    re.compile(r"^第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?$"),
    re.compile(r"^(?:page\s*)?\d{1,4}\s*(?:/|of)\s*\d{1,4}$", re.IGNORECASE),
]
# A byline or subtitle stands on its own line and is a paragraph of its own, never glued to the text:
# a news dateline (新华社北京3月1日电（记者 张三）), a credit (作者：李四), a "——" subtitle (——在…上的讲话), a date.
_BYLINE_RES = [
    re.compile(r"^\S{0,12}?(?:\d{1,2}|[一二三四五六七八九十]{1,3})月(?:\d{1,2}|[一二三四五六七八九十]{1,3})日(?:电|讯)"
               r"\s*(?:[（(][^）)]{1,40}[）)])?$"),
    re.compile(r"^(?:本报|本刊|本网)讯\s*(?:[（(][^）)]{1,40}[）)])?$"),
    re.compile(r"^[（(](?:记者|通讯员|作者|特约记者)[^）)]{1,40}[）)]$"),
    re.compile(r"^(?:作者|来源|记者|通讯员|编辑|责任编辑|责编|审核|审校|校对|撰稿|撰文|供稿|文|图|摄影|摄|出处|"
               r"发布时间|发布日期|时间|日期)\s*[：:|｜/／]\s*\S.{0,40}$"),
    re.compile(r"^文\s*[|｜/／]\s*\S.{0,20}$"),
    re.compile(r"^[—―]{1,2}\s*[^—―\s].{0,58}$"),
    # A line wholly in brackets is a note or a dateline: （2024年3月1日中央政治局会议审议批准）.
    re.compile(rf"^[（(](?![{_CN_NUM}\d]+[）)])[^（()）]{{2,58}}[）)]$"),
    re.compile(r"^(?:\d{4}|[〇零一二三四五六七八九]{4})年(?:\d{1,2}|[一二三四五六七八九十]{1,3})月"
               r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})日$"),
]
# A speaker's name right under a "——" subtitle belongs to it (——在…上的讲话 / 张三, 张 三, 买买提·艾力).
_SPEAKER_RE = re.compile(r"^[\u4e00-\u9fff](?:[\s·]?[\u4e00-\u9fff]){1,4}$")
_SPACES_RE = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")
_LINE_BREAK_RE = re.compile(r"[ \t\r\f\v\u00a0\u3000]*\n\s*")
# Chinese, Japanese and Korean characters and their punctuation: no space is written between them.
_CJK_RE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0002ffff]")
# Marks shared by Chinese and Western text: whether a line break next to one is a space depends on the
# letters beyond it (“两个确立” joins, “yes” keeps its space).
_SHARED_MARKS = "“”‘’\"'·‧•—―–…⸺()[]"


@dataclass
class _Block:
    """A paragraph or heading before structure detection.

    ``level`` is set for explicit headings (markup). ``role`` is "heading" for a heading recognised
    from layout, "byline" for a byline, "" otherwise. ``plain`` marks a plain paragraph of markup
    (a <p>, a Normal-style paragraph) that may be an unmarked subheading; ``emphasised`` one set in bold.
    """

    text: str
    level: int | None = None
    role: str = ""
    plain: bool = False
    emphasised: bool = False


@dataclass
class _Line:
    """A printed or typed line of a plain-text or PDF source, with what its layout says.

    ``blank_before``: a blank line (text) or a wider gap than the line spacing (PDF) precedes it;
    ``page_break_before``: a page break or a page number precedes it; ``indent``: the line starts
    right of the left margin (PDF; None when the source has no usable indents); ``prominent``: set
    in a larger font than the body, or centred (PDF); ``larger``: set in a larger font.
    """

    text: str
    blank_before: bool = False
    page_break_before: bool = False
    indent: bool | None = None
    prominent: bool = False
    larger: bool = False


def parse_reading(data: bytes, filename: str) -> Reading:
    """Parse an uploaded reading into a ``Reading``.

    The format is chosen by the file name's extension: .txt (UTF-8, UTF-16 with BOM or
    GB18030, detected), .md, .html/.htm, .docx, .pdf, .epub.

    Args:
        data: the file's bytes.
        filename: the uploaded name; only its extension and stem (fallback title) are used.

    Returns:
        The reading with title, sections and paragraphs (ids "s-N"/"p-N" in document order).

    Raises:
        ReadingError: the file is empty, too large, of an unsupported type, corrupt,
            not decodable, binary, or has no readable text. The message is fit to show the uploader.
    """
    stem, ext = posixpath.splitext(posixpath.basename(filename.replace("\\", "/")))
    fmt = SUPPORTED_FORMATS.get(ext.lower())
    if fmt is None:
        supported = ", ".join(sorted(SUPPORTED_FORMATS))
        shown = ext or "(no extension)"
        raise ReadingError(f"Unsupported file type {shown}; readings can be {supported}.")
    if not data:
        raise ReadingError("The file is empty.")
    if len(data) > MAX_READING_BYTES:
        raise ReadingError(
            f"The file is too large ({len(data) / 1048576:.1f} MB); "
            f"the limit is {MAX_READING_BYTES // 1048576} MB."
        )
    reader = {
        "txt": _read_txt,
        "md": _read_markdown,
        "html": _read_html,
        "docx": _read_docx,
        "pdf": _read_pdf,
        "epub": _read_epub,
    }[fmt]
    title, blocks = reader(data)
    reading = _build_reading(title or stem, blocks, fmt)
    if not reading.paragraphs and not any(s.title for s in reading.sections):
        raise ReadingError("The file contains no readable text.")
    return reading


# --- text decoding -------------------------------------------------------------------------

def decode_text(data: bytes) -> str:
    """Decode a plain-text upload: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030.

    Args:
        data: the raw bytes.

    Raises:
        ReadingError: the bytes are empty, binary, or valid in none of these encodings.
    """
    if not data.strip():
        raise ReadingError("The file is empty.")
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", data)]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", data)]
    else:
        # GB18030 decodes many byte strings that are really UTF-8, so UTF-8 goes first.
        candidates = [("utf-8", data), ("gb18030", data)]
    for encoding, raw in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        _check_looks_like_text(text)
        return text
    raise ReadingError(
        "The file is not readable text: it is neither UTF-8 nor GB18030 encoded. "
        "Save it as UTF-8 text and upload it again."
    )


def _check_looks_like_text(text: str) -> None:
    if "\x00" in text:
        raise ReadingError("The file looks like a binary file, not text.")
    sample = text[:20000]
    odd = 0
    for ch in sample:
        if ch in "\t\n\r\f" or ch.isprintable():
            # GB18030 maps every 4-byte sequence somewhere: garbage decodes to rare scripts.
            cat = unicodedata.category(ch)
            if cat in ("Co", "Cn", "Cs"):
                odd += 1
            continue
        odd += 1
    if sample and odd / len(sample) > 0.02:
        raise ReadingError("The file looks like a binary file, not text.")


def _tidy(text: str, *, wrapped: bool = False) -> str:
    """Collapse whitespace to single spaces.

    ``wrapped`` text (HTML, Markdown source, a .docx manual line break) may have line breaks
    inside sentences that only come from formatting; they are joined as a reader reads them:
    without a space in Chinese, with one between Latin words (see ``_glue``).
    """
    if wrapped:
        pieces = [_SPACES_RE.sub(" ", piece).strip() for piece in _LINE_BREAK_RE.split(text)]
        joined = ""
        for piece in pieces:
            if piece:
                joined = _glue(joined, piece) if joined else piece
        return joined
    return _SPACES_RE.sub(" ", text).strip()


def _script_at_edge(text: str, *, from_end: bool) -> str:
    """"cjk" or "latin": the script of the letter nearest the edge, looking through shared marks."""
    chars = reversed(text) if from_end else iter(text)
    for ch in chars:
        if ch in _SHARED_MARKS or ch.isspace():
            continue
        return "cjk" if _CJK_RE.match(ch) else "latin"
    # Nothing but shared marks ("……", "——"): these are Chinese punctuation when they stand alone.
    return "cjk"


def _glue(before: str, after: str) -> str:
    """Join two pieces of one paragraph that a line or page break separated.

    Chinese is written without spaces, so a break next to a Chinese character or Chinese
    punctuation (also “ ” ‘ ’ · — … next to Chinese) joins with nothing; a break between
    two Latin words keeps one space.
    """
    if _script_at_edge(before, from_end=True) == "latin" and _script_at_edge(after, from_end=False) == "latin":
        return before + " " + after
    return before + after


# --- plain text and page-break repair ------------------------------------------------------

def _read_txt(data: bytes) -> tuple[str, list[_Block]]:
    return _blocks_from_lines(_lines_from_text(decode_text(data).splitlines()))


def _is_page_artefact(line: str) -> bool:
    return any(r.match(line) for r in _PAGE_NUMBER_RES)


def _is_byline(text: str) -> bool:
    return len(text) <= MAX_HEADING_CHARS and any(r.match(text) for r in _BYLINE_RES)


def _heading_kind(text: str) -> str | None:
    for kind, pattern in _HEADING_KINDS:
        if pattern.match(text):
            return kind
    return None


def _is_standalone_heading(text: str) -> bool:
    """A numbered heading on a line of its own: short, no sentence inside ("一、为什么要学？" is one)."""
    if _heading_kind(text) is None or len(text) > MAX_HEADING_CHARS or text[-1] in _OPEN_ENDINGS:
        # "1.认真学习党章党规，" ends mid-sentence: an item whose text goes on, not a heading.
        return False
    if text[-1] in _HEADING_FINAL_MARKS:
        # A heading may be a question or an exclamation; a sentence has commas or a second mark.
        return not any(mark in text[:-1] for mark in _SENTENCE_INTERNAL_MARKS)
    return not any(mark in text for mark in "。！？；")


def _ends_sentence(text: str) -> bool:
    last = text[-1]
    if last in _FINAL_MARKS:
        return True
    # A closing quote ends a sentence only when the sentence ended inside it: 。” but not “两个确立”.
    return last in _CLOSING_QUOTES and len(text) > 1 and text[-2] in _FINAL_MARKS


def _has_subheading_shape(text: str) -> bool:
    """Short, unnumbered, no sentence punctuation, not cut off: "坚持政治引领" (not "作者：李四", "各级党组织要")."""
    return (
        len(text) <= MAX_SUBHEADING_CHARS
        and text[-1] not in _OPEN_ENDINGS
        and not _ends_sentence(text)
        and not any(mark in text for mark in _SENTENCE_INTERNAL_MARKS)
        and _heading_kind(text) is None
        and not _is_byline(text)
        and not _is_page_artefact(text)
    )


def _has_exclaiming_heading_shape(text: str) -> bool:
    """A short heading that is a question or exclamation: "为什么要加强党员教育？", "奋进新时代！"."""
    return (
        1 < len(text) <= MAX_SUBHEADING_CHARS
        and text[-1] in _HEADING_FINAL_MARKS
        and not any(mark in text[:-1] for mark in _SENTENCE_INTERNAL_MARKS)
        and _heading_kind(text) is None
        and not _is_byline(text)
    )


def _is_body(text: str) -> bool:
    """Running text, as what must follow a heading: a sentence, or longer than a heading."""
    return len(text) > MAX_SUBHEADING_CHARS or _ends_sentence(text)


def _completes(block: _Block | None) -> bool:
    """Whether a subheading may follow ``block``: at the start, after a heading or a finished paragraph.

    Not after a paragraph ending in a colon: what follows "包括：" is a list or a quotation.
    """
    if block is None or block.level is not None or block.role:
        return True
    return _ends_sentence(block.text) and block.text[-1] not in "：:"


def join_broken_lines(lines: list[str]) -> list[str]:
    """Re-join paragraphs that a page or line break split in the middle of a sentence.

    A line that does not end a sentence is continued by the next text line, across blank
    lines, form feeds and page-number lines, unless either line is a heading or a byline, or
    the line is a short subheading standing alone between paragraphs.

    Args:
        lines: raw lines (form feeds may be embedded).

    Returns:
        The paragraphs' text (subheadings and bylines included), whitespace-tidied, page numbers removed.
    """
    return [block.text for block in _join_lines(_lines_from_text(lines))]


def _lines_from_text(lines: list[str]) -> list[_Line]:
    """Typed lines with the blank lines and page breaks between them; page numbers are dropped."""
    result: list[_Line] = []
    blank = page_break = False
    for raw in lines:
        for n, piece in enumerate(raw.split("\f")):
            if n:
                page_break = True
            text = _tidy(piece)
            if not text:
                blank = True
                continue
            if _is_page_artefact(text):
                page_break = True
                continue
            result.append(_Line(text, blank_before=blank or page_break, page_break_before=page_break))
            blank = page_break = False
    return result


def _join_lines(lines: list[_Line]) -> list[_Block]:
    """Group lines into paragraphs, headings and bylines.

    Text without indents: a line that does not end a sentence is continued by the next one (the
    page-break repair), except after a heading, a byline, or a subheading. Indented PDF text: a
    paragraph starts only at an indented line, so a printed line ending in 。 does not end it.
    """
    longest = max((len(line.text) for line in lines), default=0)
    blocks: list[_Block] = []
    current: list[_Line] = []
    text = ""

    def is_subheading(candidate: list[_Line], before: _Block | None, after: _Line | None) -> bool:
        # A short line standing alone between paragraphs: a heading, not the start of a broken paragraph
        # (a page break after it means the paragraph goes on overleaf).
        line = candidate[0]
        return (
            len(candidate) == 1
            and _has_subheading_shape(line.text)
            and (line.indent is not None or len(line.text) <= longest * SUBHEADING_LINE_FRACTION)
            and _completes(before)
            and after is not None
            and not after.page_break_before
            and _is_body(after.text)
        )

    def is_exclaiming_heading(candidate: list[_Line], before: _Block | None, after: _Line | None) -> bool:
        # "为什么要加强党员教育？" is a heading when set apart like one (blank lines around, a larger or
        # centred type); in the run of the text it is a sentence.
        line = candidate[0]
        set_apart = line.prominent or (line.blank_before and (after is None or after.blank_before))
        return (
            len(candidate) == 1
            and _has_exclaiming_heading_shape(line.text)
            and set_apart
            and _completes(before)
            and after is not None
            and _is_body(after.text)
        )

    def continues(line: _Line, after: _Line | None) -> bool:
        if _is_byline(text) or _is_byline(line.text) or _is_standalone_heading(text):
            return False
        if _heading_kind(line.text) is not None:
            return False
        if current[0].prominent or line.prominent:
            # A heading set large may wrap onto a second line; body text never joins it.
            return (current[0].prominent and line.prominent and not line.blank_before
                    and not _ends_sentence(text) and len(text) + len(line.text) <= MAX_HEADING_CHARS)
        if line.indent is not None:
            if line.indent:
                return False
            if _ends_sentence(text) and (line.blank_before or is_subheading([line], _Block(text), after)):
                return False
            return not is_subheading(current, previous(), line)
        if _ends_sentence(text):
            return False
        return not is_subheading(current, previous(), line)

    def previous() -> _Block | None:
        return blocks[-1] if blocks else None

    def finish(after: _Line | None) -> None:
        role = ""
        if _is_byline(text) or (
            blocks and blocks[-1].role == "byline" and blocks[-1].text[0] in "—―"
            and _SPEAKER_RE.match(text) and not current[0].page_break_before
        ):
            role = "byline"
        elif (is_subheading(current, previous(), after) or is_exclaiming_heading(current, previous(), after)
              or (current[0].larger and len(text) <= MAX_HEADING_CHARS and "。" not in text)):
            role = "heading"
        blocks.append(_Block(text, role=role))

    for i, line in enumerate(lines):
        after = lines[i + 1] if i + 1 < len(lines) else None
        if current and continues(line, after):
            current.append(line)
            text = _glue(text, line.text)
            continue
        if current:
            finish(line)
        current, text = [line], line.text
    if current:
        finish(None)
    return blocks


def _take_title_line(lines: list[_Line]) -> tuple[str, list[_Line]]:
    """Split off the first text line as the title when it reads like one."""
    if not lines:
        return "", lines
    first = lines[0]
    # An indented first line followed by one at the margin is the start of a paragraph (PDF).
    starts_paragraph = bool(first.indent and len(lines) > 1 and lines[1].indent is False
                            and not lines[1].blank_before)
    if (not starts_paragraph and len(first.text) <= MAX_TITLE_CHARS and _heading_kind(first.text) is None
            and not _ends_sentence(first.text) and first.text[-1] not in _OPEN_ENDINGS
            and not _is_byline(first.text)):
        taken = 1
        title = first.text
        # A title set large may wrap over several printed lines.
        while (first.prominent and taken < len(lines) and lines[taken].prominent
               and not lines[taken].blank_before and len(title) + len(lines[taken].text) <= MAX_TITLE_CHARS
               and not _is_byline(lines[taken].text)):
            title = _glue(title, lines[taken].text)
            taken += 1
        rest = lines[taken:]
        if rest:
            # The line after the title stands apart from it, whatever the gap.
            rest = [replace(rest[0], blank_before=True), *rest[1:]]
        return title, rest
    return "", lines


def _blocks_from_lines(lines: list[_Line]) -> tuple[str, list[_Block]]:
    title, rest = _take_title_line(lines)
    return title, _join_lines(rest)


# --- HTML, Markdown, EPUB ------------------------------------------------------------------

class _HTMLBlocks(HTMLParser):
    """Collects headings and paragraphs of an HTML/XHTML document in order."""

    _BLOCK_TAGS = {
        "p", "div", "li", "ul", "ol", "br", "blockquote", "pre", "tr", "td", "th", "table",
        "section", "article", "header", "footer", "aside", "nav", "dt", "dd", "dl",
        "figcaption", "caption", "hr", "body", "main", "h1", "h2", "h3", "h4", "h5", "h6",
    }
    _SKIP_TAGS = {"script", "style", "head", "noscript", "template", "svg", "math"}
    # Text inside these is a list item, a cell, a quotation or a caption: never an unmarked subheading.
    _NOT_PLAIN_TAGS = {"li", "td", "th", "dd", "dt", "blockquote", "pre", "figcaption", "caption", "table"}
    _BOLD_TAGS = {"b", "strong"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.title = ""
        self._buffer: list[str] = []
        self._heading_level: int | None = None
        self._skip_depth = 0
        self._in_title = False
        self._block_tag: str | None = None
        self._not_plain_depth = 0
        self._bold_depth = 0
        self._bold_chars = 0
        self._other_chars = 0

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
            return
        if tag in self._SKIP_TAGS:
            self._skip_depth += 1
            return
        if tag in self._BOLD_TAGS:
            self._bold_depth += 1
        if tag in self._BLOCK_TAGS:
            self._flush()
            if tag not in ("br", "hr"):
                self._block_tag = tag
            if tag in self._NOT_PLAIN_TAGS:
                self._not_plain_depth += 1
            if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
                self._heading_level = int(tag[1])

    def handle_startendtag(self, tag, attrs):
        if tag in self._BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
            return
        if tag in self._SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if tag in self._BOLD_TAGS:
            self._bold_depth = max(0, self._bold_depth - 1)
        if tag in self._BLOCK_TAGS:
            self._flush()
            if tag not in ("br", "hr"):
                self._block_tag = None
            if tag in self._NOT_PLAIN_TAGS:
                self._not_plain_depth = max(0, self._not_plain_depth - 1)

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip_depth:
            self._buffer.append(data)
            visible = len(data.strip())
            if self._bold_depth:
                self._bold_chars += visible
            else:
                self._other_chars += visible

    def _flush(self) -> None:
        plain = self._block_tag == "p" and not self._not_plain_depth and self._heading_level is None
        emphasised = self._bold_chars > 0 and self._other_chars == 0
        self.blocks.extend(_soft_blocks("".join(self._buffer), self._heading_level, plain, emphasised))
        self._buffer = []
        self._bold_chars = self._other_chars = 0
        self._heading_level = None

    def close(self):
        super().close()
        self._flush()


def _soft_blocks(raw: str, level: int | None, plain: bool, emphasised: bool) -> list[_Block]:
    """The block(s) of one paragraph of markup whose source lines were soft-wrapped.

    The lines are joined (see ``_tidy``), except that a byline on a line of its own ("作者：李四"
    above the text, "——在…上的讲话" under a title) is split off as a paragraph of its own.
    """
    pieces = [_tidy(piece) for piece in _LINE_BREAK_RE.split(raw)]
    pieces = [piece for piece in pieces if piece]
    if not pieces:
        return []
    if level is None and len(pieces) > 1 and any(_is_byline(piece) for piece in pieces):
        blocks: list[_Block] = []
        for piece in pieces:
            if _is_byline(piece):
                blocks.append(_Block(piece, role="byline"))
            elif blocks and not blocks[-1].role:
                blocks[-1].text = _glue(blocks[-1].text, piece)
            else:
                blocks.append(_Block(piece, plain=plain))
        return blocks
    text = _tidy(raw, wrapped=True)
    role = "byline" if level is None and _is_byline(text) else ""
    return [_Block(text, level, role=role, plain=plain and not role, emphasised=emphasised)]


def _html_blocks(markup: str) -> tuple[str, list[_Block]]:
    parser = _HTMLBlocks()
    parser.feed(markup)
    parser.close()
    return _tidy(parser.title), parser.blocks


def _title_from_first_heading(title: str, blocks: list[_Block]) -> tuple[str, list[_Block]]:
    """Use a leading top-level heading as the title; drop it when it repeats the title."""
    first = next((i for i, b in enumerate(blocks) if b.level is not None), None)
    if first is None:
        return title, blocks
    top = min(b.level for b in blocks if b.level is not None)
    heading = blocks[first]
    if heading.level == top and (not title or heading.text == title) and first == 0:
        # A document-level <h1> that is the title is not a section of the text.
        others_at_top = sum(1 for b in blocks if b.level == top)
        if others_at_top == 1:
            return heading.text, blocks[:first] + blocks[first + 1:]
    return title, blocks


def _read_html(data: bytes) -> tuple[str, list[_Block]]:
    markup = _decode_markup(data)
    title, blocks = _html_blocks(markup)
    return _title_from_first_heading(title, blocks)


def _decode_markup(data: bytes) -> str:
    head = data[:2048].lower()
    match = re.search(rb"charset\s*=\s*[\"']?([a-z0-9_\-]+)", head)
    if match:
        declared = match.group(1).decode("ascii")
        if declared.replace("-", "").replace("_", "") in ("gb2312", "gbk", "gb18030"):
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise ReadingError("The file declares a GB charset but is not valid GB18030 text.") from exc
            _check_looks_like_text(text)
            return text
    return decode_text(data)


def _read_markdown(data: bytes) -> tuple[str, list[_Block]]:
    # The format libraries are imported on first use: together (markdown, python-docx, pypdf) they
    # add about 150 ms to the start of every process that imports content, and few ever parse one.
    import markdown

    text = decode_text(data)
    markup = markdown.markdown(text, extensions=["tables"], output_format="html")
    _, blocks = _html_blocks(markup)
    return _title_from_first_heading("", blocks)


def _open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        # NotImplementedError: a (damaged) header asking for a zip version Python cannot read.
        raise ReadingError(f"The file is not a valid {kind}: it is damaged or not a zip package.") from exc
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise ReadingError(
            f"The {kind} unpacks to more than {MAX_UNPACKED_BYTES // 1048576} MB; it cannot be read."
        )
    return archive


def _zip_read(archive: zipfile.ZipFile, name: str, kind: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError as exc:
        raise ReadingError(f"The {kind} is incomplete: {name} is missing.") from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ReadingError(f"The {kind} is damaged ({name}: {exc}).") from exc


def _read_epub(data: bytes) -> tuple[str, list[_Block]]:
    kind = "EPUB e-book"
    archive = _open_zip(data, kind)
    ns = {
        "c": "urn:oasis:names:tc:opendocument:xmlns:container",
        "opf": "http://www.idpf.org/2007/opf",
        "dc": "http://purl.org/dc/elements/1.1/",
    }
    try:
        container = ElementTree.fromstring(_zip_read(archive, "META-INF/container.xml", kind))
        rootfile = container.find(".//c:rootfile", ns)
        opf_path = rootfile.get("full-path") if rootfile is not None else None
        if not opf_path:
            raise ReadingError(f"The {kind} has no package document (container.xml names none).")
        package = ElementTree.fromstring(_zip_read(archive, opf_path, kind))
    except ElementTree.ParseError as exc:
        raise ReadingError(f"The {kind} is damaged: its package XML is malformed ({exc}).") from exc
    title_el = package.find(".//dc:title", ns)
    title = _tidy(title_el.text or "") if title_el is not None else ""
    manifest = {
        item.get("id"): item.get("href")
        for item in package.findall(".//opf:manifest/opf:item", ns)
        if item.get("id") and item.get("href")
    }
    base = posixpath.dirname(opf_path)
    blocks: list[_Block] = []
    spine = package.findall(".//opf:spine/opf:itemref", ns)
    if not spine:
        raise ReadingError(f"The {kind} has no chapters (its spine is empty).")
    for itemref in spine:
        if itemref.get("linear") == "no":
            continue
        href = manifest.get(itemref.get("idref"))
        if not href:
            continue
        path = posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))
        markup = _zip_read(archive, path, kind)
        try:
            text = markup.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _decode_markup(markup)
        _, chapter_blocks = _html_blocks(text)
        blocks.extend(chapter_blocks)
    if blocks and blocks[0].level is not None and blocks[0].text == title:
        blocks = blocks[1:]
    return title, blocks


# --- DOCX ----------------------------------------------------------------------------------

_DOCX_HEADING_RE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
# Paragraph styles of running text; a short paragraph in one of these may be an unmarked subheading.
_DOCX_BODY_STYLES = {"", "normal", "body text", "正文", "no spacing", "default paragraph style"}


def _docx_all_bold(paragraph) -> bool:
    """Whether every visible character of the paragraph is bold (directly or by its style)."""
    try:
        style_bold = bool(paragraph.style is not None and paragraph.style.font.bold)
        runs = [run for run in paragraph.runs if run.text.strip()]
        return bool(runs) and all(
            run.bold or (run.bold is None and (style_bold or (run.style is not None and run.style.font.bold)))
            for run in runs)
    except Exception:  # a damaged on/off value (python-docx's InvalidXmlError): bold is then no signal
        return False


def _read_docx(data: bytes) -> tuple[str, list[_Block]]:
    # Imported on first use, as markdown (see _read_markdown): python-docx takes ~60 ms (lxml).
    import docx
    from docx.table import Table

    kind = "Word document (.docx)"
    _open_zip(data, kind).close()
    try:
        document = docx.Document(io.BytesIO(data))
        items = list(document.iter_inner_content())
    except ReadingError:
        raise
    except Exception as exc:  # python-docx raises many types (KeyError, lxml errors) for a damaged package
        raise ReadingError(f"The file is not a valid {kind}: {type(exc).__name__}.") from exc
    title = ""
    blocks: list[_Block] = []

    def add_paragraph(paragraph, *, in_table: bool = False) -> None:
        nonlocal title
        # python-docx gives a manual line break (<w:br/>, <w:cr/>) as "\n": a reader sees one
        # paragraph, so the lines join as soft-wrapped text does.
        raw = paragraph.text
        text = _tidy(raw, wrapped=True)
        if not text:
            return
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.lower() in ("title", "标题") and not title:
            title = text
            return
        match = _DOCX_HEADING_RE.match(style.strip())
        level = int(match.group(1)) if match else None
        plain = not in_table and style.strip().lower() in _DOCX_BODY_STYLES
        blocks.extend(_soft_blocks(raw, level, plain, _docx_all_bold(paragraph)))

    try:
        for item in items:
            if isinstance(item, Table):
                for row in item.rows:
                    for cell in row.cells:
                        for paragraph in cell.paragraphs:
                            add_paragraph(paragraph, in_table=True)
            else:
                add_paragraph(item)
        if not title:
            title = _tidy(document.core_properties.title or "")
    except Exception as exc:  # python-docx parses attribute values lazily: a damaged one raises here
        raise ReadingError(f"The {kind} is damaged: {type(exc).__name__}.") from exc
    return _title_from_first_heading(title, blocks)


# --- PDF -----------------------------------------------------------------------------------

#: A header or footer sits within this fraction of the page height from the top or bottom edge.
PDF_FURNITURE_BAND = 0.12
#: A header/footer is set off from the body by a gap of at least this many line spacings.
PDF_FURNITURE_GAP = 1.3
#: A gap of more than this many line spacings between two lines is a paragraph break, like a blank line.
PDF_PARAGRAPH_GAP = 1.5
#: A line whose first glyph is this many font sizes right of the margin is indented (the customary
#: first-line indent of Chinese paragraphs is two characters).
PDF_INDENT_EMS = 0.8
#: Type this much larger than the body's is a heading's (or the title's).
PDF_LARGER_FONT = 1.15
#: Type this much smaller than the body's, in the top or bottom band, is a running header or footer.
PDF_SMALLER_FONT = 0.95
# Producers' placeholders for a missing document title.
_PLACEHOLDER_TITLES = {"untitled", "unspecified", "无标题", "(anonymous)"}


@dataclass
class _PrintedLine:
    """A line as printed on a PDF page: its text, where its first glyph is, and its type size (points)."""

    text: str
    x: float | None
    y: float | None
    size: float


def _read_pdf(data: bytes) -> tuple[str, list[_Block]]:
    # Imported on first use, as markdown (see _read_markdown): pypdf takes ~70 ms.
    import pypdf
    from pypdf.errors import PyPdfError

    kind = "PDF"
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ReadingError("The file is not a valid PDF (it does not start with %PDF).")
    # pypdf warns about every irregularity of real-world PDFs; they are not actionable here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ReadingError("The PDF is password-protected; upload an unprotected copy.")
            pages = reader.pages
            if len(pages) > MAX_PDF_PAGES:
                raise ReadingError(f"The PDF has {len(pages)} pages; the limit is {MAX_PDF_PAGES}.")
            printed = [_printed_lines(page) for page in pages]
            boxes = [(float(page.mediabox.left), float(page.mediabox.bottom),
                      float(page.mediabox.right), float(page.mediabox.top)) for page in pages]
            metadata_title = (reader.metadata.title if reader.metadata else None) or ""
        except ReadingError:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                OSError, RecursionError, ZeroDivisionError, NotImplementedError) as exc:
            raise ReadingError(f"The file is not a valid {kind}: it is damaged ({type(exc).__name__}).") from exc
    if not any(line.text.strip() for page in printed for line in page):
        raise ReadingError("The PDF has no text layer (is it a scanned image?); upload a text PDF.")
    title, blocks = _blocks_from_lines(_pdf_lines(printed, boxes))
    metadata_title = _tidy(str(metadata_title))
    if metadata_title.lower() in _PLACEHOLDER_TITLES:
        metadata_title = ""
    return metadata_title or title, blocks


def _printed_lines(page) -> list[_PrintedLine]:
    """The page's lines in content order, each with the position and size of its first glyph.

    pypdf reports text in pieces with the text and current transformation matrices; a line ends
    where its text has a line break. The position is that of the line's first visible piece.
    """
    lines: list[_PrintedLine] = []
    parts: list[str] = []
    where: list[tuple[float | None, float | None, float]] = []

    def finish() -> None:
        text = "".join(parts)
        if text.strip():
            x, y, size = where[0] if where else (None, None, 0.0)
            lines.append(_PrintedLine(text, x, y, size))
        parts.clear()
        where.clear()

    def visit(text, cm, tm, font_dict, font_size) -> None:
        if not text:
            return
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = abs(float(font_size)) * (c * c + d * d) ** 0.5
        if not all(math.isfinite(value) for value in (x, y, size)):
            # A damaged matrix: the text is still read, its place is unknown.
            x = y = None
            size = 0.0 if not math.isfinite(size) else size
        for n, piece in enumerate(text.split("\n")):
            if n:
                finish()
                # A later line of the same piece: its own position is not reported.
                x = y = None
            if piece.strip() and not where:
                where.append((x, y, size))
            parts.append(piece)

    page.extract_text(visitor_text=visit)
    finish()
    if all(line.y is not None for line in lines):
        # Top to bottom as printed: producers may draw a title or a header after the body text.
        # (Stable, so pieces of one baseline keep their order; single-column text is assumed.)
        lines.sort(key=lambda line: -round(line.y or 0.0, 1))
    return lines


def _mode(values: list[float], default: float, weights: list[int] | None = None) -> float:
    """The most frequent value to half a point (the smaller one on a tie), or ``default`` for none."""
    counts: dict[float, int] = {}
    for n, value in enumerate(values):
        key = round(value * 2) / 2
        counts[key] = counts.get(key, 0) + (weights[n] if weights is not None else 1)
    return max(counts, key=lambda k: (counts[k], -k)) if counts else default


def _printed_width(text: str, size: float) -> float:
    # Chinese characters are one em wide, Latin letters and digits about half.
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size / 2 for ch in text)


def _pdf_lines(pages: list[list[_PrintedLine]], boxes: list[tuple[float, float, float, float]]) -> list[_Line]:
    """Turn printed lines into lines with layout signals: indents, gaps, prominence, page breaks.

    Running headers, footers and page numbers are dropped first: by repetition on most pages of a
    longer document, and by position on any page (the top or bottom band, set off by a gap, in small
    type, repeated on another page or a page number), which also works for one- and two-page files.
    """
    sized = [line for page in pages for line in page if line.size > 0]
    # The body's type is the size most characters are set in.
    body_size = _mode([line.size for line in sized], 12.0, [len(line.text.strip()) for line in sized])
    spacings = [
        upper.y - lower.y
        for page in pages
        for upper, lower in itertools.pairwise(page)
        if upper.y is not None and lower.y is not None and 0 < upper.y - lower.y < 3 * body_size
    ]
    pitch = _mode(spacings, 1.2 * body_size)
    pages = _drop_page_furniture(pages, [(bottom, top) for _, bottom, _, top in boxes], body_size, pitch)

    def is_body(line: _PrintedLine) -> bool:
        return line.x is not None and abs(line.size - body_size) <= 0.1 * body_size

    margins = {}
    for parity in (0, 1):
        xs = [line.x for page in pages[parity::2] for line in page if is_body(line) and line.x is not None]
        margins[parity] = min(xs) if xs else 0.0
    right_edges = [line.x + _printed_width(line.text.strip(), line.size)
                   for page in pages for line in page if is_body(line) and line.x is not None]
    # Where full lines end: a high percentile, not the longest (one overlong line would make every
    # line look left-aligned). Few lines may hold no full one, so the page's margins are taken as
    # symmetric when that reaches further.
    full_line_end = sorted(right_edges)[int(0.9 * (len(right_edges) - 1))] if right_edges else 0.0

    def indented(line: _PrintedLine, margin: float) -> bool:
        if line.text[:1] == "\u3000" or line.text.startswith("  "):
            return True
        return line.x is not None and line.x - margin >= PDF_INDENT_EMS * (line.size or body_size)

    def centred(line: _PrintedLine, margin: float, right: float) -> bool:
        # Gaps of three ems at least on both sides: an indented full line has two on the left.
        if line.x is None:
            return False
        left_gap = line.x - margin
        right_gap = right - (line.x + _printed_width(line.text.strip(), line.size))
        return min(left_gap, right_gap) >= 3 * body_size and abs(left_gap - right_gap) <= 2 * body_size

    lines: list[_Line] = []
    # Indented lines followed by one at the margin: after a finished sentence they start paragraphs;
    # after an unfinished one they are a hanging indent (a list item's second line), which says nothing.
    paragraph_indents = hanging_indents = 0
    for number, page in enumerate(pages):
        margin = margins[number % 2]
        page_left, _, page_right, _ = boxes[number]
        right = max(full_line_end, page_right - (margin - page_left))
        previous: _PrintedLine | None = None
        for line in page:
            text = _tidy(line.text)
            if not text or _is_page_artefact(text):
                continue
            gap = (previous is not None and previous.y is not None and line.y is not None
                   and previous.y - line.y > PDF_PARAGRAPH_GAP * pitch)
            larger = line.size >= PDF_LARGER_FONT * body_size
            prominent = larger or centred(line, margin, right)
            indent = indented(line, margin) and not prominent
            if (lines and previous is not None and not prominent and not indent
                    and lines[-1].indent and not lines[-1].prominent):
                before = lines[-2] if len(lines) > 1 else None
                if before is None or _ends_sentence(before.text) or _is_standalone_heading(before.text):
                    paragraph_indents += 1
                else:
                    hanging_indents += 1
            lines.append(_Line(text, blank_before=gap, page_break_before=previous is None and number > 0,
                               indent=indent, prominent=prominent, larger=larger))
            previous = line
    if paragraph_indents == 0 or hanging_indents > paragraph_indents:
        for typed in lines:
            typed.indent = None
    return lines


def _drop_page_furniture(pages: list[list[_PrintedLine]], bounds: list[tuple[float, float]],
                         body_size: float, pitch: float) -> list[list[_PrintedLine]]:
    """Remove running headers, footers and page numbers."""
    if len(pages) >= 3:
        running = _running_texts([[line.text for line in page] for page in pages])
        pages = [[line for line in page if _tidy(line.text) not in running] for page in pages]

    def key(line: _PrintedLine) -> str:
        return re.sub(r"\d+", "#", _tidy(line.text))

    def edge_lines(page: list[_PrintedLine]) -> list[_PrintedLine]:
        placed = sorted((line for line in page if line.y is not None), key=lambda line: -(line.y or 0.0))
        return placed[:2] + placed[-2:]

    edge_keys: dict[str, int] = {}
    for page in pages:
        for text in {key(line) for line in edge_lines(page)}:
            edge_keys[text] = edge_keys.get(text, 0) + 1

    def is_furniture(line: _PrintedLine, neighbour: _PrintedLine | None, in_band: bool) -> bool:
        # Larger type than the body's is a title (which a running header may repeat), never furniture.
        if not in_band or line.size >= PDF_LARGER_FONT * body_size:
            return False
        if (neighbour is not None and neighbour.y is not None and line.y is not None
                and abs(line.y - neighbour.y) < PDF_FURNITURE_GAP * pitch):
            return False
        text = _tidy(line.text)
        return (
            line.size < PDF_SMALLER_FONT * body_size
            or edge_keys.get(key(line), 0) >= 2
            or _is_page_artefact(text)
        )

    cleaned: list[list[_PrintedLine]] = []
    for page, (bottom, top) in zip(pages, bounds, strict=True):
        band = PDF_FURNITURE_BAND * (top - bottom)
        kept = list(page)
        for from_top in (True, False):
            for _ in range(2):
                placed = sorted((line for line in kept if line.y is not None),
                                key=lambda line: -(line.y or 0.0) if from_top else (line.y or 0.0))
                if not placed:
                    break
                edge = placed[0]
                neighbour = placed[1] if len(placed) > 1 else None
                edge_y = edge.y or 0.0
                in_band = edge_y >= top - band if from_top else edge_y <= bottom + band
                if not is_furniture(edge, neighbour, in_band):
                    break
                kept.remove(edge)
        cleaned.append(kept)
    return cleaned


def _running_texts(pages: list[list[str]]) -> set[str]:
    """The header/footer lines repeated at the top or bottom of most pages (three or more pages)."""
    counts: dict[str, int] = {}
    for lines in pages:
        stripped = [_tidy(line) for line in lines if _tidy(line)]
        for candidate in set(stripped[:1] + stripped[-1:]):
            counts[candidate] = counts.get(candidate, 0) + 1
    return {text for text, n in counts.items() if n > len(pages) / 2}


# --- structure detection -------------------------------------------------------------------

def _split_heading(text: str) -> tuple[str, str, str] | None:
    """Return (kind, heading, remaining text) when a paragraph is or starts with a Chinese heading."""
    kind = _heading_kind(text)
    if kind is None:
        return None
    if _is_standalone_heading(text):
        return kind, text, ""
    stop = text.find("。")
    if 0 < stop <= MAX_RUN_IN_HEADING_CHARS:
        head = text[:stop].strip()
        if not any(mark in head for mark in "，,；;！？"):
            return kind, head, text[stop + 1:].strip()
    return None


def _mark_plain_headings(blocks: list[_Block]) -> None:
    """Recognise unmarked subheadings among markup's plain paragraphs, in place.

    A plain paragraph (no heading markup, no list item, no table cell) that is short and has no
    sentence punctuation, between a finished paragraph (or a heading) and running text, is a
    subheading ("坚持政治引领"); one ending in ？ or ！ is, only when also set in bold.
    """
    for i, block in enumerate(blocks):
        if block.level is not None or block.role or not block.plain:
            continue
        before = blocks[i - 1] if i else None
        after = blocks[i + 1] if i + 1 < len(blocks) else None
        shaped = _has_subheading_shape(block.text) or (
            block.emphasised and _has_exclaiming_heading_shape(block.text))
        if (shaped and _completes(before) and after is not None and after.level is None
                and after.role != "byline" and _is_body(after.text)):
            block.role = "heading"


def _build_reading(title: str, blocks: list[_Block], fmt: str) -> Reading:
    _mark_plain_headings(blocks)
    explicit_levels = sorted({b.level for b in blocks if b.level is not None})
    # Explicit markup levels become 1..n; Chinese numbered headings nest below them, by custom order,
    # and headings recognised by standing alone nest below those.
    explicit_rank = {level: i + 1 for i, level in enumerate(explicit_levels)}
    detected: list[tuple[_Block, tuple[str, str, str] | None]] = []
    for b in blocks:
        if b.level is not None or b.role == "byline":
            detected.append((b, None))
        elif b.role == "heading":
            detected.append((b, (_heading_kind(b.text) or _PLAIN_HEADING, b.text, "")))
        else:
            detected.append((b, _split_heading(b.text)))
    kinds = sorted({d[0] for _, d in detected if d is not None}, key=_KIND_RANK.__getitem__)
    kind_level = {kind: len(explicit_levels) + i + 1 for i, kind in enumerate(kinds)}

    sections: list[Section] = []
    paragraphs: list[Paragraph] = []

    def new_section(heading: str, level: int) -> Section:
        section = Section(id=f"s-{sum(1 for s in sections if s.level) + 1}", title=heading, level=level)
        sections.append(section)
        return section

    current: Section | None = None
    for block, heading in detected:
        text = block.text
        if block.level is not None:
            current = new_section(text, explicit_rank[block.level])
            continue
        if heading is not None:
            kind, head, text = heading
            current = new_section(head, kind_level[kind])
            if not text:
                continue
        if current is None:
            # Text before the first heading: a preamble section so every paragraph has a section.
            current = Section(id="s-0", title="", level=0)
            sections.insert(0, current)
        paragraph = Paragraph(id=f"p-{len(paragraphs) + 1}", section_id=current.id, text=text)
        current.paragraphs.append(paragraph)
        paragraphs.append(paragraph)
    return Reading(title=title.strip(), sections=sections, paragraphs=paragraphs,
                   source_format=fmt)
