"""Turn uploaded reading files into a normalised ``Reading``.

Every format is first reduced to a list of blocks (explicit headings with a level, and
paragraphs); plain text and PDF arrive as lines and go through page-break repair first.
Structure is then detected the same way for all formats: Chinese headings (第X章, 一、,
（一）, 1. …) are recognised in paragraphs that carry no explicit heading markup.
"""
from __future__ import annotations

import codecs
import io
import posixpath
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
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
_KIND_RANK = {kind: rank for rank, (kind, _) in enumerate(_HEADING_KINDS)}

# Sentence-final marks: a line ending in one of these is a complete paragraph.
_FINAL_MARKS = "。！？!?；;：:…."
_CLOSING_QUOTES = "”’」』\"'"
_PAGE_NUMBER_RES = [
    re.compile(r"^[-—–·\s]*\d{1,4}[-—–·\s]*$"),
    re.compile(r"^第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?$"),
    re.compile(r"^(?:page\s*)?\d{1,4}\s*(?:/|of)\s*\d{1,4}$", re.IGNORECASE),
]
_CJK_CLASS = r"\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_WRAP_BETWEEN_CJK_RE = re.compile(rf"(?<=[{_CJK_CLASS}])[ \t]*\n\s*(?=[{_CJK_CLASS}])")
_SPACES_RE = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")


@dataclass
class _Block:
    """A paragraph or heading before structure detection; ``level`` is set for explicit headings."""

    text: str
    level: int | None = None


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

    ``wrapped`` text (HTML, Markdown source) may have line breaks inside Chinese sentences
    that only come from source formatting; those are dropped rather than becoming spaces.
    """
    if wrapped:
        text = _WRAP_BETWEEN_CJK_RE.sub("", text)
    return _SPACES_RE.sub(" ", text).strip()


# --- plain text and page-break repair ------------------------------------------------------

def _read_txt(data: bytes) -> tuple[str, list[_Block]]:
    return _blocks_from_lines(decode_text(data).splitlines())


def _is_page_artefact(line: str) -> bool:
    return any(r.match(line) for r in _PAGE_NUMBER_RES)


def _heading_kind(text: str) -> str | None:
    for kind, pattern in _HEADING_KINDS:
        if pattern.match(text):
            return kind
    return None


def _is_standalone_heading(text: str) -> bool:
    return (
        _heading_kind(text) is not None
        and len(text) <= MAX_HEADING_CHARS
        and not any(mark in text for mark in "。！？；")
    )


def _ends_sentence(text: str) -> bool:
    last = text[-1]
    if last in _FINAL_MARKS:
        return True
    # A closing quote ends a sentence only when the sentence ended inside it: 。” but not “两个确立”.
    return last in _CLOSING_QUOTES and len(text) > 1 and text[-2] in _FINAL_MARKS


def _glue(before: str, after: str) -> str:
    if before[-1].isascii() and before[-1].isalnum() and after[0].isascii() and after[0].isalnum():
        return before + " " + after
    return before + after


def join_broken_lines(lines: list[str]) -> list[str]:
    """Re-join paragraphs that a page or line break split in the middle of a sentence.

    A line that does not end a sentence is continued by the next text line, across blank
    lines, form feeds and page-number lines, unless either line is a heading.

    Args:
        lines: raw lines (form feeds may be embedded).

    Returns:
        The paragraphs' text, whitespace-tidied, page numbers removed.
    """
    paragraphs: list[str] = []
    current: str | None = None
    for raw in lines:
        for piece in raw.split("\f"):
            line = _tidy(piece)
            if not line or _is_page_artefact(line):
                continue
            if (
                current is not None
                and not _ends_sentence(current)
                and not _is_standalone_heading(current)
                and _heading_kind(line) is None
            ):
                current = _glue(current, line)
                continue
            if current is not None:
                paragraphs.append(current)
            current = line
    if current is not None:
        paragraphs.append(current)
    return paragraphs


def _take_title_line(lines: list[str]) -> tuple[str, list[str]]:
    """Split off the first text line as the title when it reads like one."""
    for i, raw in enumerate(lines):
        line = _tidy(raw.replace("\f", " "))
        if not line or _is_page_artefact(line):
            continue
        if len(line) <= MAX_TITLE_CHARS and _heading_kind(line) is None and not _ends_sentence(line):
            return line, lines[i + 1:]
        return "", lines
    return "", lines


def _blocks_from_lines(lines: list[str]) -> tuple[str, list[_Block]]:
    title, rest = _take_title_line(lines)
    return title, [_Block(p) for p in join_broken_lines(rest)]


# --- HTML, Markdown, EPUB ------------------------------------------------------------------

class _HTMLBlocks(HTMLParser):
    """Collects headings and paragraphs of an HTML/XHTML document in order."""

    _BLOCK_TAGS = {
        "p", "div", "li", "ul", "ol", "br", "blockquote", "pre", "tr", "td", "th", "table",
        "section", "article", "header", "footer", "aside", "nav", "dt", "dd", "dl",
        "figcaption", "caption", "hr", "body", "main", "h1", "h2", "h3", "h4", "h5", "h6",
    }
    _SKIP_TAGS = {"script", "style", "head", "noscript", "template", "svg", "math"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.title = ""
        self._buffer: list[str] = []
        self._heading_level: int | None = None
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
            return
        if tag in self._SKIP_TAGS:
            self._skip_depth += 1
            return
        if tag in self._BLOCK_TAGS:
            self._flush()
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
        if tag in self._BLOCK_TAGS:
            self._flush()

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip_depth:
            self._buffer.append(data)

    def _flush(self) -> None:
        text = _tidy("".join(self._buffer), wrapped=True)
        self._buffer = []
        if text:
            self.blocks.append(_Block(text, self._heading_level))
        self._heading_level = None

    def close(self):
        super().close()
        self._flush()


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
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
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

    def add_paragraph(paragraph) -> None:
        nonlocal title
        text = _tidy(paragraph.text)
        if not text:
            return
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.lower() in ("title", "标题") and not title:
            title = text
            return
        match = _DOCX_HEADING_RE.match(style.strip())
        blocks.append(_Block(text, int(match.group(1)) if match else None))

    for item in items:
        if isinstance(item, Table):
            for row in item.rows:
                for cell in row.cells:
                    for paragraph in cell.paragraphs:
                        add_paragraph(paragraph)
        else:
            add_paragraph(item)
    if not title:
        title = _tidy(document.core_properties.title or "")
    return _title_from_first_heading(title, blocks)


# --- PDF -----------------------------------------------------------------------------------

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
            page_texts = [page.extract_text() or "" for page in pages]
            metadata_title = (reader.metadata.title if reader.metadata else None) or ""
        except ReadingError:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                OSError, RecursionError, ZeroDivisionError, NotImplementedError) as exc:
            raise ReadingError(f"The file is not a valid {kind}: it is damaged ({type(exc).__name__}).") from exc
    if not any(t.strip() for t in page_texts):
        raise ReadingError("The PDF has no text layer (is it a scanned image?); upload a text PDF.")
    page_lines = _drop_running_headers([t.splitlines() for t in page_texts])
    lines: list[str] = []
    for page in page_lines:
        lines.extend(page)
        lines.append("\f")
    title, blocks = _blocks_from_lines(lines)
    return _tidy(str(metadata_title)) or title, blocks


def _drop_running_headers(pages: list[list[str]]) -> list[list[str]]:
    """Remove a header/footer line repeated at the top or bottom of most pages."""
    if len(pages) < 3:
        return pages
    counts: dict[str, int] = {}
    for lines in pages:
        stripped = [_tidy(line) for line in lines if _tidy(line)]
        for candidate in set(stripped[:1] + stripped[-1:]):
            counts[candidate] = counts.get(candidate, 0) + 1
    running = {text for text, n in counts.items() if n > len(pages) / 2}
    return [[line for line in lines if _tidy(line) not in running] for lines in pages]


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


def _build_reading(title: str, blocks: list[_Block], fmt: str) -> Reading:
    explicit_levels = sorted({b.level for b in blocks if b.level is not None})
    # Explicit markup levels become 1..n; Chinese numbered headings nest below them, by custom order.
    explicit_rank = {level: i + 1 for i, level in enumerate(explicit_levels)}
    detected = [(b, _split_heading(b.text) if b.level is None else None) for b in blocks]
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
