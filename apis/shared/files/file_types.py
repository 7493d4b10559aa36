"""The attachment types Colloquy accepts, and the check that bytes really are what they were declared to be.

A declared type is only a claim: a client can call a PNG `report.pdf`. `complete` and inline attachments
therefore look at the content itself (the magic bytes of binary formats, the zip members of Office files, and
for text formats that the bytes are UTF-8 with no NUL). The list is closed and short, so each rule is a few
lines here rather than a general-purpose sniffing library that knows thousands of types we refuse anyway.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from apis.shared.files.exceptions import FileTypeNotAllowed

_PDF_HEADER_WINDOW = 1024  # the PDF header may follow a few bytes of junk, within the first kilobyte


class AttachmentKind(StrEnum):
    IMAGE = "image"
    DOCUMENT = "document"


def _is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:_PDF_HEADER_WINDOW]


def _zip_with(member: str) -> Callable[[bytes], bool]:
    def check(data: bytes) -> bool:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return member in archive.namelist()
        # NotImplementedError: a directory entry that claims an unknown zip version or compression method.
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
            return False

    return check


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def _is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


@dataclass(frozen=True, slots=True)
class FileType:
    """One accepted type: its name (also its Converse `format`), MIME types, file extensions and content rule."""

    name: str
    mime_types: tuple[str, ...]
    extensions: tuple[str, ...]
    kind: AttachmentKind
    matches: Callable[[bytes], bool]

    @property
    def mime_type(self) -> str:
        return self.mime_types[0]

    @property
    def is_text(self) -> bool:
        return self.matches is _is_text


_DOCUMENT, _IMAGE = AttachmentKind.DOCUMENT, AttachmentKind.IMAGE
FILE_TYPES: dict[str, FileType] = {
    file_type.name: file_type
    for file_type in (
        FileType("pdf", ("application/pdf",), (".pdf",), _DOCUMENT, _is_pdf),
        FileType(
            "docx",
            ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
            (".docx",),
            _DOCUMENT,
            _zip_with("word/document.xml"),
        ),
        FileType(
            "xlsx",
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
            (".xlsx",),
            _DOCUMENT,
            _zip_with("xl/workbook.xml"),
        ),
        FileType("txt", ("text/plain",), (".txt", ".text", ".log"), _DOCUMENT, _is_text),
        FileType("md", ("text/markdown", "text/x-markdown"), (".md", ".markdown"), _DOCUMENT, _is_text),
        FileType("html", ("text/html",), (".html", ".htm"), _DOCUMENT, _is_text),
        FileType("csv", ("text/csv", "application/csv"), (".csv",), _DOCUMENT, _is_text),
        FileType("png", ("image/png",), (".png",), _IMAGE, lambda data: data.startswith(b"\x89PNG\r\n\x1a\n")),
        FileType(
            "jpeg", ("image/jpeg", "image/jpg"), (".jpg", ".jpeg"), _IMAGE, lambda d: d.startswith(b"\xff\xd8\xff")
        ),
        FileType("gif", ("image/gif",), (".gif",), _IMAGE, lambda data: data[:6] in (b"GIF87a", b"GIF89a")),
        FileType("webp", ("image/webp",), (".webp",), _IMAGE, _is_webp),
    )
}
ALL_TYPE_NAMES: tuple[str, ...] = tuple(FILE_TYPES)


def _bare_mime(mime_type: str) -> str:
    """`Text/Plain; charset=utf-8` -> `text/plain`."""
    return mime_type.split(";", 1)[0].strip().lower()


def declared_type(filename: str, mime_type: str, allowed: Iterable[str]) -> FileType:
    """The accepted type that `mime_type` names, whose extensions include the file name's; else FileTypeNotAllowed."""
    bare = _bare_mime(mime_type)
    allowed_names = set(allowed)
    file_type = next(
        (candidate for candidate in FILE_TYPES.values() if bare in candidate.mime_types),
        None,
    )
    if file_type is None or file_type.name not in allowed_names:
        accepted = ", ".join(name for name in ALL_TYPE_NAMES if name in allowed_names)
        raise FileTypeNotAllowed(f"{filename}: type {bare or 'unknown'} is not allowed (accepted: {accepted})")
    extension = PurePosixPath(filename.lower()).suffix
    if extension not in file_type.extensions:
        raise FileTypeNotAllowed(
            f"{filename}: the name does not fit the declared type {bare} (expected {', '.join(file_type.extensions)})"
        )
    return file_type


def type_of(mime_type: str) -> FileType | None:
    """The accepted type of a stored record's MIME type."""
    bare = _bare_mime(mime_type)
    return next((candidate for candidate in FILE_TYPES.values() if bare in candidate.mime_types), None)
