"""The plain text of a document: an attachment for a provider that cannot read its format, or a knowledge-base
document to be chunked and indexed.

Synchronous and deterministic: the caller runs it in a worker thread. pypdf, python-docx and openpyxl are imported
on the first document of their kind, so neither service pays for them at start. Each extractor is a generator of
text blocks that stops being read once the cap is reached, so a long document costs little more than the part the
model is sent. A damaged, protected or inflating file becomes AttachmentUnusable with a message of our own: the
libraries' exception text never reaches a user.
"""

from __future__ import annotations

import contextlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from apis.shared.files import AttachmentUnusable, FileType

if TYPE_CHECKING:
    from docx.table import Table

TRUNCATION_NOTICE = "[… truncated: the document has more text than the model is sent]"

# An Office file is a zip: refuse one that would expand past this before a library inflates it.
_ZIP_EXPANSION_RATIO = 50
_ZIP_EXPANSION_ALLOWANCE = 10 * 1024 * 1024

# What pypdf raises on a damaged file: its own errors, and (being a lenient parser of untrusted input) the
# built-in ones that a malformed object tree or stream provokes in its code.
_PDF_DAMAGE = (ValueError, KeyError, IndexError, TypeError, AttributeError, ArithmeticError, RecursionError)
# What zipfile raises on a damaged archive, in our check and inside python-docx and openpyxl alike; RuntimeError is
# an encrypted member, and its subclass NotImplementedError an unknown compression method or format version.
_ZIP_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error, KeyError, ValueError, RuntimeError)

Blocks = Generator[str, None, None]


def extract_text(file_type: FileType, data: bytes, *, max_chars: int) -> str:
    """The document's text within `max_chars`, for a model that is sent text instead of the file; "" if it has none."""
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    extractor = _EXTRACTORS.get(file_type.name)
    if extractor is None:
        raise ValueError(f"{file_type.name} files have no text to extract")
    return _capped(extractor(data), max_chars)


@dataclass(frozen=True, slots=True)
class ExtractedText:
    """A document's text up to a cap; `truncated` says the document had more."""

    text: str
    truncated: bool


def extract_document_text(file_type: FileType, data: bytes, *, max_chars: int) -> ExtractedText:
    """The document's text for indexing: at most `max_chars`, with no notice in the text (the caller reports it)."""
    extractor = _EXTRACTORS.get(file_type.name)
    if extractor is None:
        raise ValueError(f"{file_type.name} files have no text to extract")
    # One character past the cap tells a document that has more from one that fills it exactly.
    text = _capped(extractor(data), max_chars + 1, notice="")
    return ExtractedText(text=text[:max_chars], truncated=len(text) > max_chars)


def _capped(blocks: Blocks, max_chars: int, *, notice: str = TRUNCATION_NOTICE) -> str:
    """Join the blocks with line breaks, reading no more of them than the cap needs, and mark a cut."""
    parts: list[str] = []
    length = -1  # the joined length: one line break fewer than blocks
    with contextlib.closing(blocks):  # closes the document early when the cap is reached
        for block in blocks:
            parts.append(block)
            length += len(block) + 1
            if length > max_chars:
                break
    text = "\n".join(parts)
    if len(text) <= max_chars:
        return text
    if not notice:
        return text[:max_chars]
    suffix = "\n" + notice
    kept = text[: max(max_chars - len(suffix), 0)].rstrip()
    return (kept + suffix if kept else notice)[:max_chars]


def _decoded(data: bytes) -> str:
    """UTF-8 without its BOM; the upload check accepted only UTF-8, so a stray byte is replaced rather than fatal."""
    return data.decode("utf-8-sig", errors="replace")


def _plain_text(data: bytes) -> Blocks:
    """txt, md and csv are sent as they are."""
    yield _decoded(data)


def _html_text(data: bytes) -> Blocks:
    """The text a reader of the page would see."""
    collector = _VisibleText()
    try:
        collector.feed(_decoded(data))
        collector.close()
    except AssertionError as exc:  # how html.parser reports a declaration it cannot parse, e.g. `<![foo[`
        raise AttachmentUnusable("the HTML page has markup that cannot be read") from exc
    yield collector.text()


_HIDDEN_TAGS = frozenset({"script", "style", "template"})
_LINE_TAGS = frozenset(
    {"address", "article", "aside", "caption", "dd", "details", "dialog", "div", "dl", "dt", "fieldset",
     "figcaption", "figure", "footer", "form", "header", "li", "main", "nav", "section", "summary", "tr"}
)  # fmt: skip
_PARAGRAPH_TAGS = frozenset({"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre", "table", "ul"})
_CELL_TAGS = frozenset({"td", "th"})
_WHITESPACE = re.compile(r"\s+")


class _VisibleText(HTMLParser):
    """Collects the visible text of a page: no head, scripts or styles; a line per block, a blank line per paragraph."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._hidden_depth = 0
        self._in_head = False
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag == "head":
            self._in_head = True
        elif tag == "body":  # a head whose end tag was left out ends here
            self._in_head = False
        elif tag == "br":
            self._out.append("\n")
        elif tag in _CELL_TAGS and not self._at_line_start():
            self._trim_trailing_spaces()
            self._out.append(" | ")
        self._block_boundary(tag)
        if tag == "pre":
            self._pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth = max(self._hidden_depth - 1, 0)
        elif tag == "head":
            self._in_head = False
        elif tag == "pre":
            self._pre_depth = max(self._pre_depth - 1, 0)
        self._block_boundary(tag)

    def handle_data(self, data: str) -> None:
        if self._hidden_depth or self._in_head:
            return
        if not self._pre_depth:
            data = _WHITESPACE.sub(" ", data)
            if self._at_line_start() or self._out[-1].endswith(" "):
                data = data.lstrip(" ")
        if data:
            self._out.append(data)

    def text(self) -> str:
        """The collected text, lines stripped at the end and runs of blank lines collapsed to one."""
        lines: list[str] = []
        for line in "".join(self._out).split("\n"):
            line = line.rstrip()
            if line or (lines and lines[-1]):
                lines.append(line)
        return "\n".join(lines).strip("\n")

    def _block_boundary(self, tag: str) -> None:
        if self._hidden_depth or self._in_head:
            return
        if tag in _PARAGRAPH_TAGS:
            self._out.append("\n\n")
        elif tag in _LINE_TAGS and not self._at_line_start():
            self._out.append("\n")

    def _at_line_start(self) -> bool:
        return not self._out or self._out[-1].endswith("\n")

    def _trim_trailing_spaces(self) -> None:
        while self._out and self._out[-1].endswith(" "):
            trimmed = self._out.pop().rstrip(" ")
            if trimmed:
                self._out.append(trimmed)
                return


def _pdf_text(data: bytes) -> Blocks:
    """Each page's text, pages apart by a blank line; pages with no text (scans) are left out."""
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise AttachmentUnusable("the PDF is protected by a password and cannot be read")
        first = True
        for page in reader.pages:
            text = page.extract_text().strip()
            if text:
                if not first:
                    yield ""
                first = False
                yield text
    except DependencyError as exc:
        raise AttachmentUnusable("the PDF is encrypted in a way this server cannot read") from exc
    except (PyPdfError, *_PDF_DAMAGE) as exc:
        raise AttachmentUnusable("the PDF is damaged and cannot be read") from exc


def _refuse_zip_bomb(data: bytes, what: str) -> None:
    """Check an Office file's zip directory before a library inflates any of it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except _ZIP_DAMAGE as exc:
        raise AttachmentUnusable(f"the {what} is damaged and cannot be read") from exc
    expanded = sum(member.file_size for member in members)
    compressed = sum(member.compress_size for member in members)
    if expanded > _ZIP_EXPANSION_RATIO * compressed + _ZIP_EXPANSION_ALLOWANCE:
        raise AttachmentUnusable(f"the {what} expands to far more data than its size allows and is refused")


def _docx_text(data: bytes) -> Blocks:
    """Paragraphs and tables in document order; a table row is its cells joined by ` | `."""
    _refuse_zip_bomb(data, "Word document")
    from docx import Document
    from docx.opc.exceptions import OpcError
    from docx.table import Table

    try:
        document = Document(io.BytesIO(data))
        written, after_table = False, False
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                rows = list(_table_rows(block))
                if rows and written:
                    yield ""  # a table stands apart from what precedes it
                yield from rows
                written, after_table = written or bool(rows), after_table or bool(rows)
            elif block.text.strip():
                if after_table:
                    yield ""
                yield block.text
                written, after_table = True, False
    except (OpcError, SyntaxError, *_ZIP_DAMAGE) as exc:  # lxml's XMLSyntaxError is a SyntaxError
        raise AttachmentUnusable("the Word document is damaged and cannot be read") from exc


def _table_rows(table: Table) -> Blocks:
    """Each non-empty row as its cells joined by ` | `; a cell spanning columns is written once."""
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell is not previous:  # python-docx repeats the same cell object for each column it spans
                cells.append(" ".join(cell.text.split()))
            previous = cell
        if any(cells):
            yield " | ".join(cells)


def _xlsx_text(data: bytes) -> Blocks:
    """Each sheet under `## Sheet: <name>`, then its non-empty rows as comma-separated values."""
    _refuse_zip_bomb(data, "spreadsheet")
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for index, sheet in enumerate(workbook.worksheets):
                if index:
                    yield ""
                yield f"## Sheet: {sheet.title}"
                if isinstance(sheet, ReadOnlyWorksheet):
                    # The stored dimensions may claim a million empty rows or columns: read only what is there.
                    sheet.reset_dimensions()
                for values in sheet.iter_rows(values_only=True):
                    cells = [_csv_field(value) for value in values]
                    while cells and not cells[-1]:
                        cells.pop()
                    if cells:
                        yield ",".join(cells)
        finally:
            workbook.close()
    except (InvalidFileException, SyntaxError, TypeError, *_ZIP_DAMAGE) as exc:
        raise AttachmentUnusable("the spreadsheet is damaged and cannot be read") from exc


def _csv_field(value: object) -> str:
    """A cell as CSV writes it, quoted only when its text holds a comma, a quote or a line break."""
    text = "" if value is None else str(value)
    if any(char in text for char in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


_EXTRACTORS: dict[str, Callable[[bytes], Blocks]] = {
    "txt": _plain_text,
    "md": _plain_text,
    "csv": _plain_text,
    "html": _html_text,
    "pdf": _pdf_text,
    "docx": _docx_text,
    "xlsx": _xlsx_text,
}
