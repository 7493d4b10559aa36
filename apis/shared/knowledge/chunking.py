"""Cutting a document's text into the passages that are indexed and retrieved.

By structure first, then by size: Markdown headings (`#` to `######`) open sections and name them (the heading
path, "Setup › Database", goes with each chunk, so a passage keeps the context its heading gave it); a section's
paragraphs are packed into chunks of at most `max_chars`; a paragraph too long for one chunk is cut at line
ends, then sentence ends, then spaces. Within a section each chunk starts with the end of the one before
(`overlap_chars`, from a word boundary), so a sentence cut in two is still found whole in one of them. Sections
never share a chunk: their headings would be wrong for part of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from apis.shared.assistants import Chunk

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BLANK_LINES = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")
_HEADING_SEPARATOR = " › "


@dataclass
class _Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)


def chunk_text(text: str, *, document_id: str, filename: str, max_chars: int, overlap_chars: int) -> list[Chunk]:
    """The document's chunks in reading order, numbered from 0; none for a document with no text."""
    if overlap_chars * 2 > max_chars:
        raise ValueError("the overlap must be at most half a chunk")
    chunks: list[Chunk] = []
    for section in _sections(text):
        for body in _pack(section.paragraphs, max_chars=max_chars, overlap_chars=overlap_chars):
            chunks.append(
                Chunk(document_id=document_id, index=len(chunks), text=body, filename=filename, heading=section.heading)
            )
    return chunks


def _sections(text: str) -> Iterator[_Section]:
    """Headed sections with their paragraphs; text before the first heading is a section with no heading.

    A heading with no text of its own and no deeper heading under it (a title alone at the end, or two headings
    in a row) is a section whose text is its title, so no word of the document is left out of the index.
    """
    path: list[tuple[int, str]] = []
    section = _Section(heading="")
    lines: list[str] = []

    def flush_paragraphs() -> None:
        block = "\n".join(lines).strip()
        lines.clear()
        if block:
            section.paragraphs.extend(p.strip() for p in _BLANK_LINES.split(block) if p.strip())

    def finished(next_level: int) -> Iterator[_Section]:
        flush_paragraphs()
        if section.paragraphs:
            yield section
        elif path and next_level <= path[-1][0]:
            yield _Section(heading=section.heading, paragraphs=[path[-1][1]])

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        heading = _HEADING.match(line)
        if heading is None:
            lines.append(line)
            continue
        level = len(heading.group(1))
        yield from finished(level)
        path = [(lvl, title) for lvl, title in path if lvl < level] + [(level, heading.group(2))]
        section = _Section(heading=_HEADING_SEPARATOR.join(title for _, title in path))
    yield from finished(0)


def _pack(paragraphs: list[str], *, max_chars: int, overlap_chars: int) -> Iterator[str]:
    """Paragraphs joined into chunks of at most `max_chars`, each after the first opening with an overlap."""
    current = ""
    for piece in (part for paragraph in paragraphs for part in _fit(paragraph, max_chars - overlap_chars)):
        candidate = f"{current}\n\n{piece}" if current else piece
        if len(candidate) <= max_chars:
            current = candidate
            continue
        yield current
        tail = _tail(current, overlap_chars)
        current = f"{tail} {piece}" if tail else piece
    if current:
        yield current


def _fit(paragraph: str, limit: int) -> Iterator[str]:
    """The paragraph in parts of at most `limit`: cut at line ends, then sentence ends, then spaces, then anywhere."""
    if len(paragraph) <= limit:
        yield paragraph
        return
    for splitter in (re.compile(r"\n"), _SENTENCE_END, re.compile(r"\s+")):
        parts = [part for part in splitter.split(paragraph) if part.strip()]
        if len(parts) > 1:
            yield from _merge(parts, limit)
            return
    for start in range(0, len(paragraph), limit):
        yield paragraph[start : start + limit]


def _merge(parts: list[str], limit: int) -> Iterator[str]:
    """Consecutive parts joined while they fit; a part that alone is too long is cut further."""
    current = ""
    for part in parts:
        part = part.strip()
        candidate = f"{current} {part}" if current else part
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            yield current
        if len(part) <= limit:
            current = part
        else:
            yield from _fit(part, limit)
            current = ""
    if current:
        yield current


def _tail(text: str, overlap_chars: int) -> str:
    """The last `overlap_chars` of `text`, starting at a word."""
    if overlap_chars <= 0 or not text:
        return ""
    tail = text[-overlap_chars:]
    if len(tail) < len(text) and not text[-overlap_chars - 1].isspace():
        space = tail.find(" ")
        tail = tail[space + 1 :] if space >= 0 else ""
    return tail.strip()
