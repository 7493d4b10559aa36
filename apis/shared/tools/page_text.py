"""The readable text of a fetched page, for the model: HTML turned into text, plain text and JSON as they are.

The knowledge layer has an HTML extractor of its own (knowledge/text_extraction.py), but the import layers put
knowledge above the tools, so the tools cannot reach it; this one also keeps the title and leaves out what a
reader skips (navigation, footers, scripts, hidden SVG), and marks headings and list items as Markdown does,
which models read well. Both use the standard library's tolerant HTML parser: nothing to install, nothing that
fails on broken markup.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from apis.shared.tools.tool_results import ToolFailure

_HTML = frozenset({"text/html", "application/xhtml+xml"})
_JSON = frozenset({"application/json", "application/ld+json", "application/x-ndjson"})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_SNIFF_BYTES = 2048
_HTML_TAGS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title", b"<p>", b"<div")


@dataclass(frozen=True, slots=True)
class PageText:
    title: str | None
    text: str


def readable_text(body: bytes, content_type: str) -> PageText:
    """The page's text by its media type; ToolFailure for a type the tool does not read (images, PDFs...)."""
    media_type, charset = _media_type(content_type)
    if not media_type:
        media_type = "text/html" if _looks_like_html(body) else "text/plain"
    if media_type in _HTML:
        return _html_text(_decoded(body, charset or _meta_charset(body)))
    if media_type.startswith("text/") or media_type in _JSON or media_type.endswith("+json"):
        return PageText(title=None, text=_decoded(body, charset))
    raise ToolFailure(f"the page is {media_type}, which this tool cannot read: it reads HTML, plain text and JSON")


def _media_type(content_type: str) -> tuple[str, str | None]:
    media_type, _, parameters = content_type.partition(";")
    charset = None
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media_type.strip().lower(), charset


def _looks_like_html(body: bytes) -> bool:
    start = body[:_SNIFF_BYTES].lstrip().lower()
    return start.startswith(b"<") and any(tag in start for tag in _HTML_TAGS)


def _meta_charset(body: bytes) -> str | None:
    found = _META_CHARSET.search(body[:_SNIFF_BYTES])
    return found.group(1).decode("ascii") if found else None


def _decoded(body: bytes, charset: str | None) -> str:
    """The text in its declared charset; UTF-8 when none is declared or it is unknown; bad bytes replaced."""
    encoding = "utf-8"
    if charset:
        try:
            encoding = codecs.lookup(charset).name
        except LookupError:
            encoding = "utf-8"
    if encoding == "utf-8":
        encoding = "utf-8-sig"  # drops a byte order mark
    return body.decode(encoding, errors="replace")


def _html_text(html: str) -> PageText:
    reader = _Reader()
    try:
        reader.feed(html)
        reader.close()
    except AssertionError as exc:  # how html.parser reports a declaration it cannot parse, e.g. `<![foo[`
        raise ToolFailure("the page has markup that cannot be read") from exc
    return PageText(title=reader.title(), text=reader.text())


_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "canvas", "iframe", "nav", "footer", "head"})
_LINE = frozenset(
    {"address", "article", "aside", "caption", "dd", "details", "dialog", "div", "dl", "dt", "fieldset",
     "figcaption", "figure", "form", "header", "main", "section", "summary", "tr", "li"}
)  # fmt: skip
_PARAGRAPH = frozenset({"blockquote", "hr", "ol", "p", "pre", "table", "ul", "h1", "h2", "h3", "h4", "h5", "h6"})
_HEADINGS = {f"h{level}": "#" * level + " " for level in range(1, 7)}
_EMPTY_MARKERS = frozenset({"-", *(marker.strip() for marker in _HEADINGS.values())})
_WHITESPACE = re.compile(r"\s+")


class _Reader(HTMLParser):
    """Collects the title and the visible text: a line per block, a blank line per paragraph."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._title: list[str] = []
        self._in_title = False
        self._skipped_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self._title:
            self._in_title = True
        elif tag in _SKIPPED:
            self._skipped_depth += 1
        elif tag == "body":  # a head whose end tag was left out ends here
            self._skipped_depth = 0
        if self._skipped_depth:
            return
        if tag == "br":
            self._out.append("\n")
        elif tag in ("td", "th") and not self._at_line_start():
            self._out.append(" | ")
        self._boundary(tag)
        if tag in _HEADINGS:
            self._out.append(_HEADINGS[tag])
        elif tag == "li":
            self._out.append("- ")
        elif tag == "pre":
            self._pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIPPED:
            self._skipped_depth = max(self._skipped_depth - 1, 0)
            return
        if self._skipped_depth:
            return
        if tag == "pre":
            self._pre_depth = max(self._pre_depth - 1, 0)
        self._boundary(tag)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
            return
        if self._skipped_depth:
            return
        if not self._pre_depth:
            data = _WHITESPACE.sub(" ", data)
            if self._at_line_start() or self._out[-1].endswith(" "):
                data = data.lstrip(" ")
        if data:
            self._out.append(data)

    def title(self) -> str | None:
        title = _WHITESPACE.sub(" ", "".join(self._title)).strip()
        return title or None

    def text(self) -> str:
        """The text, each line stripped at its end and runs of blank lines collapsed to one."""
        lines: list[str] = []
        for line in "".join(self._out).split("\n"):
            line = line.rstrip()
            if line.strip() in _EMPTY_MARKERS:  # a list item or heading with nothing in it
                line = ""
            if line or (lines and lines[-1]):
                lines.append(line)
        return "\n".join(lines).strip("\n")

    def _boundary(self, tag: str) -> None:
        if tag in _PARAGRAPH:
            self._out.append("\n\n")
        elif tag in _LINE and not self._at_line_start():
            self._out.append("\n")

    def _at_line_start(self) -> bool:
        return not self._out or self._out[-1].endswith("\n") or self._out[-1] in ("- ", *_HEADINGS.values())
