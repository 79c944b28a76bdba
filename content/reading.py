"""The normalised model of a reading: title, flat list of sections, paragraphs.

Every supported file format is parsed into this one shape so that the reader view,
the search index and the study-time estimate never care where a text came from.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

#: Reading speed for Chinese prose, characters per minute (policy number for study time).
CHINESE_CHARS_PER_MINUTE = 300
#: Reading speed for text in Latin script, words per minute.
LATIN_WORDS_PER_MINUTE = 200

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_LATIN_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")


class ReadingError(ValueError):
    """A file could not be turned into a reading; ``str(error)`` is a message for the uploader."""


@dataclass
class Paragraph:
    """One paragraph of running text.

    ``id`` ("p-1", "p-2", …) numbers paragraphs in document order, so the same file always
    yields the same ids and links/anchors into a reading survive re-indexing.
    """

    id: str
    section_id: str
    text: str

    def to_dict(self) -> dict:
        return {"id": self.id, "section_id": self.section_id, "text": self.text}


@dataclass
class Section:
    """A heading and the paragraphs up to the next heading.

    Sections form a flat list; ``level`` (1 = top) carries the hierarchy. Text that comes
    before the first heading lives in a preamble section with ``level`` 0 and an empty title.
    """

    id: str
    title: str
    level: int
    paragraphs: list[Paragraph] = field(default_factory=list)

    def to_dict(self, *, with_text: bool = False) -> dict:
        data = {
            "id": self.id,
            "title": self.title,
            "level": self.level,
            "paragraph_ids": [p.id for p in self.paragraphs],
        }
        if with_text:
            data["paragraphs"] = [p.to_dict() for p in self.paragraphs]
        return data


@dataclass
class Reading:
    """A parsed reading: ``title``, ``sections`` (flat, in order) and all ``paragraphs`` in order."""

    title: str
    sections: list[Section]
    paragraphs: list[Paragraph]
    source_format: str = ""

    @property
    def text(self) -> str:
        """All paragraph text, one paragraph per line."""
        return "\n".join(p.text for p in self.paragraphs)

    def section(self, section_id: str) -> Section:
        """Return the section with ``section_id``; raises ``KeyError`` if there is none."""
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)

    def to_dict(self, *, with_text: bool = False) -> dict:
        """A JSON-ready outline; ``with_text`` adds the paragraphs' text."""
        return {
            "title": self.title,
            "format": self.source_format,
            "paragraph_count": len(self.paragraphs),
            "character_count": sum(len(p.text) for p in self.paragraphs),
            "reading_minutes": estimate_reading_minutes(self),
            "sections": [s.to_dict(with_text=with_text) for s in self.sections],
        }


def estimate_reading_minutes(reading: Reading) -> int:
    """Estimate how long a reading takes to read, in whole minutes (rounded up).

    Chinese characters count at ``CHINESE_CHARS_PER_MINUTE``, words in Latin script at
    ``LATIN_WORDS_PER_MINUTE``; headings are included. A reading with any text takes at
    least one minute; an empty one takes 0.

    Args:
        reading: a parsed ``Reading``.
    """
    texts = [s.title for s in reading.sections] + [p.text for p in reading.paragraphs]
    cjk = sum(len(_CJK_RE.findall(t)) for t in texts)
    # Latin words are counted on the text with CJK removed so that "2024年" is one word, not glued to Chinese.
    latin = sum(len(_LATIN_WORD_RE.findall(_CJK_RE.sub(" ", t))) for t in texts)
    if cjk == 0 and latin == 0:
        return 0
    minutes = cjk / CHINESE_CHARS_PER_MINUTE + latin / LATIN_WORDS_PER_MINUTE
    return max(1, math.ceil(minutes))
