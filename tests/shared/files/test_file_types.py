"""The accepted attachment types: what a declaration may name, and whether bytes really are of the declared type."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfWriter

from apis.shared.files import FILE_TYPES, AttachmentKind, FileTypeNotAllowed, declared_type, type_of
from apis.shared.files.file_types import ALL_TYPE_NAMES
from tests.attachments import word_document, workbook

ALL = list(ALL_TYPE_NAMES)
TEXT_TYPES = {"txt", "md", "html", "csv"}


def docx_bytes() -> bytes:
    return word_document("hello")


def xlsx_bytes() -> bytes:
    return workbook(["hello"])


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_bytes() -> bytes:
    """The signature and an IHDR chunk of a 1x1 RGBA image."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + b"\x1f\x15\xc4\x89"


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# declared_type


@pytest.mark.parametrize(
    ("filename", "mime_type", "expected"),
    [
        ("report.pdf", "application/pdf", "pdf"),
        ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        ("budget.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        ("notes.txt", "text/plain", "txt"),
        ("server.log", "text/plain", "txt"),
        ("README.md", "text/markdown", "md"),
        ("README.markdown", "text/x-markdown", "md"),
        ("page.htm", "text/html", "html"),
        ("data.csv", "application/csv", "csv"),
        ("photo.png", "image/png", "png"),
        ("photo.jpg", "image/jpeg", "jpeg"),
        ("photo.jpeg", "image/jpg", "jpeg"),
        ("anim.gif", "image/gif", "gif"),
        ("pic.webp", "image/webp", "webp"),
    ],
)
def test_an_accepted_type_with_a_matching_extension_is_declared(filename: str, mime_type: str, expected: str) -> None:
    assert declared_type(filename, mime_type, ALL) is FILE_TYPES[expected]


def test_mime_parameters_are_ignored() -> None:
    assert declared_type("notes.txt", "text/plain; charset=utf-8", ALL).name == "txt"


def test_the_mime_type_and_the_extension_are_case_insensitive() -> None:
    assert declared_type("SCAN.PDF", "Application/PDF", ALL).name == "pdf"


@pytest.mark.parametrize("mime_type", ["application/zip", "image/svg+xml", "application/x-msdownload", "", "text"])
def test_a_type_outside_the_list_is_not_allowed(mime_type: str) -> None:
    with pytest.raises(FileTypeNotAllowed) as refused:
        declared_type("payload.bin", mime_type, ALL)
    assert refused.value.detail.startswith("payload.bin: type ")


@pytest.mark.parametrize(
    ("filename", "mime_type"),
    [
        ("report.pdf", "image/png"),
        ("photo.png", "application/pdf"),
        ("report", "application/pdf"),
        (".pdf", "application/pdf"),
    ],
)
def test_a_name_that_does_not_fit_the_declared_type_is_not_allowed(filename: str, mime_type: str) -> None:
    with pytest.raises(FileTypeNotAllowed, match="does not fit"):
        declared_type(filename, mime_type, ALL)


def test_a_type_this_server_does_not_accept_is_not_allowed() -> None:
    with pytest.raises(FileTypeNotAllowed) as refused:
        declared_type("letter.docx", FILE_TYPES["docx"].mime_type, ["pdf", "png"])
    assert refused.value.detail.endswith("(accepted: pdf, png)")


def test_type_of_finds_a_stored_records_type() -> None:
    assert type_of("Text/CSV; header=present") is FILE_TYPES["csv"]
    assert type_of("application/zip") is None


def test_kinds_and_the_text_flag() -> None:
    images = {name for name, file_type in FILE_TYPES.items() if file_type.kind is AttachmentKind.IMAGE}
    assert images == {"png", "jpeg", "gif", "webp"}
    assert {name for name, file_type in FILE_TYPES.items() if file_type.is_text} == TEXT_TYPES


# matches


def matching_types(data: bytes) -> set[str]:
    return {name for name, file_type in FILE_TYPES.items() if file_type.matches(data)}


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (pdf_bytes, {"pdf"}),
        (docx_bytes, {"docx"}),
        (xlsx_bytes, {"xlsx"}),
        (png_bytes, {"png"}),
        (lambda: JPEG, {"jpeg"}),
        (lambda: GIF, {"gif"}),
        (lambda: WEBP, {"webp"}),
        (lambda: b"name,age\nAda,36\n", TEXT_TYPES),
        (lambda: "\ufeff# Titre — été\n".encode(), TEXT_TYPES),
        (lambda: b"\x00\x01junk %PDF-1.4 after junk", {"pdf"}),
    ],
    ids=["pdf", "docx", "xlsx", "png", "jpeg", "gif", "webp", "ascii", "utf8-bom", "pdf-after-junk"],
)
def test_real_content_matches_its_own_type_only(sample: Callable[[], bytes], expected: set[str]) -> None:
    assert matching_types(sample()) == expected


def test_a_pdf_header_past_the_first_kilobyte_does_not_count() -> None:
    assert not FILE_TYPES["pdf"].matches(b" " * 1024 + b"%PDF-1.4")


@pytest.mark.parametrize(
    ("type_name", "data"),
    [
        ("pdf", png_bytes()),
        ("xlsx", docx_bytes()),
        ("docx", xlsx_bytes()),
        ("docx", zip_of({"hello.txt": b"hello"})),
        ("xlsx", zip_of({"hello.txt": b"hello"})),
        ("docx", b"PK\x03\x04 a local header and nothing else"),
        ("txt", b"MZ\x90\x00\x03\x00\x00\x00"),
        ("csv", b"name,price\n\xff\xfe caf\xe9\n"),
        ("png", b"\x89PNG"),
        ("webp", b"RIFF\x1a\x00\x00\x00WAVEfmt "),
    ],
    ids=["png-as-pdf", "docx-as-xlsx", "xlsx-as-docx", "zip-as-docx", "zip-as-xlsx", "truncated-zip", "nul-as-txt",
         "invalid-utf8-as-csv", "short-png", "wave-as-webp"],
)  # fmt: skip
def test_spoofed_content_does_not_match(type_name: str, data: bytes) -> None:
    assert not FILE_TYPES[type_name].matches(data)


@pytest.mark.parametrize("type_name", ["docx", "xlsx"])
def test_a_zip_that_claims_an_unknown_format_version_does_not_match(type_name: str) -> None:
    data = bytearray(docx_bytes() if type_name == "docx" else xlsx_bytes())
    directory = data.index(b"PK\x01\x02")
    data[directory + 6 : directory + 8] = struct.pack("<H", 99)  # "version needed to extract": 9.9
    assert not FILE_TYPES[type_name].matches(bytes(data))


_OFFICE = {"docx": docx_bytes(), "xlsx": xlsx_bytes()}


@st.composite
def damaged_zips(draw: st.DrawFn) -> bytes:
    """A real Office file with a few bytes changed and perhaps its end cut off."""
    data = bytearray(_OFFICE[draw(st.sampled_from(sorted(_OFFICE)))])
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        data[draw(st.integers(min_value=4, max_value=len(data) - 1))] = draw(st.integers(min_value=0, max_value=255))
    return bytes(data[: draw(st.integers(min_value=4, max_value=len(data)))])


@given(
    data=st.one_of(
        st.binary(),
        st.binary().map(lambda tail: b"PK\x03\x04" + tail),
        st.binary().map(lambda tail: b"RIFF" + tail),
        damaged_zips(),
    )
)
def test_arbitrary_bytes_never_raise_from_any_type_check(data: bytes) -> None:
    for file_type in FILE_TYPES.values():
        assert file_type.matches(data) in (True, False)
