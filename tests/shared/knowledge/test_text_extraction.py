"""extract_text: the text a model is sent in place of a document whose format it cannot read."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from pypdf import PdfReader, PdfWriter

from apis.shared.files import FILE_TYPES, AttachmentUnusable
from apis.shared.knowledge.text_extraction import TRUNCATION_NOTICE, extract_text
from tests.attachments import pdf_document

CAP = 10_000


def extract(type_name: str, data: bytes, max_chars: int = CAP) -> str:
    return extract_text(FILE_TYPES[type_name], data, max_chars=max_chars)


def encrypted(pdf: bytes, *, user_password: str, owner_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def docx_document() -> bytes:
    """A Word document: a heading, an empty paragraph, a table with a merged header, a closing paragraph."""
    document = Document()
    document.add_heading("Quarterly report", level=1)
    document.add_paragraph("")
    document.add_paragraph("Revenue grew in every region.")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Region and quarter"
    table.cell(0, 2).text = "Revenue"
    for row, values in enumerate([("North", "Q1", "120"), ("South", "Q1", "95")], start=1):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    document.add_paragraph("Figures are unaudited.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_document() -> bytes:
    """A workbook of two sheets, with gaps, trailing blanks, numbers and a comma inside a cell."""
    workbook = Workbook()
    people = workbook.active
    assert people is not None
    people.title = "People"
    people.append(["name", "city", "age"])
    people.append(["Ada", "London", 36, None, None])
    people.append([None, None, None])
    people.append(["Grace", "Arlington, VA", 85])
    totals = workbook.create_sheet("Totals")
    totals.append(["count", 2])
    totals["D5"] = 1.5
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A docx-shaped zip with a 60 MB member of zeros: small on disk, far past the expansion limit."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        with archive.open("word/media/padding.bin", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(60):
                member.write(chunk)
    return buffer.getvalue()


# Plain text and HTML


@pytest.mark.parametrize("type_name", ["txt", "md", "csv"])
def test_plain_text_is_sent_as_it_is_without_its_bom(type_name: str) -> None:
    text = "a,b\n1,2 — naïve ✓\n"
    assert extract(type_name, b"\xef\xbb\xbf" + text.encode()) == text


def test_a_stray_invalid_byte_is_replaced_rather_than_failing_the_turn() -> None:
    assert extract("txt", b"caf\xe9 ok") == "caf\ufffd ok"


def test_html_sends_only_visible_text_with_a_line_per_block() -> None:
    page = b"""<!DOCTYPE html><html><head><title>Hidden title</title>
    <style>p { color: red }</style><script>var secret = 1;</script></head>
    <body><h1>Menu &amp; prices</h1>
      <div>Soup   of
        the day</div><div>Bread</div>
      <p>First<br>second line</p>
      <script type="module">alert("no")</script>
      <ul><li>one</li><li>two</li></ul>
      <table><tr><th>Dish</th> <th>Price</th></tr><tr><td>Tea</td><td>2</td></tr></table>
    </body></html>"""
    assert extract("html", page) == (
        "Menu & prices\n\nSoup of the day\nBread\n\nFirst\nsecond line\n\none\ntwo\n\nDish | Price\nTea | 2"
    )


def test_html_collapses_runs_of_blank_lines() -> None:
    assert extract("html", b"<p>a</p>\n\n<br><br><br><br><p></p><div></div><p>b</p>") == "a\n\nb"


def test_html_body_after_a_head_left_unclosed_is_kept() -> None:
    assert extract("html", b"<html><head><title>t</title><body><p>visible</p>") == "visible"


def test_html_preformatted_text_keeps_its_indentation() -> None:
    assert extract("html", b"<p>code:</p><pre>def f():\n    return 1</pre>") == "code:\n\ndef f():\n    return 1"


def test_html_markup_the_parser_rejects_is_unusable() -> None:
    with pytest.raises(AttachmentUnusable, match="HTML"):
        extract("html", b"<p>x</p><![bogus[ y ]]>")


# PDF


def test_the_handwritten_pdf_is_valid_for_a_strict_reader() -> None:
    pdf = pdf_document(["Hello"], [])
    xref = pdf[pdf.index(b"\nxref\n") + 1 :].split(b"\n")
    assert xref[1] == b"0 8"
    offsets = [int(entry[:10]) for entry in xref[3:10]]
    assert [pdf[offset:].split(b"\n", 1)[0] for offset in offsets] == [f"{n} 0 obj".encode() for n in range(1, 8)]
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    assert len(reader.pages) == 2
    assert reader.pages[0].extract_text().strip() == "Hello"


def test_pdf_text_is_extracted() -> None:
    assert (
        extract("pdf", pdf_document(["Invoice 2024-017", "Total: 42.00 EUR"])) == "Invoice 2024-017\nTotal: 42.00 EUR"
    )


def test_pdf_pages_are_separated_by_a_blank_line_and_pages_without_text_skipped() -> None:
    pdf = pdf_document(["Page one"], [], ["Page (three)"])
    assert extract("pdf", pdf) == "Page one\n\nPage (three)"


def test_a_pdf_with_no_text_gives_an_empty_string() -> None:
    assert extract("pdf", pdf_document([], [])) == ""


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + bytes(range(256)) * 4, b"%PDF-", pdf_document(["Hello"])[:200]],
    ids=["garbage", "header-only", "truncated"],
)
def test_a_malformed_pdf_is_unusable_with_our_own_message(data: bytes) -> None:
    with pytest.raises(AttachmentUnusable) as caught:
        extract("pdf", data)
    assert caught.value.detail == "the PDF is damaged and cannot be read"


def test_a_pdf_locked_by_a_user_password_is_unusable() -> None:
    pdf = encrypted(pdf_document(["secret plans"]), user_password="open sesame", owner_password="owner")
    with pytest.raises(AttachmentUnusable) as caught:
        extract("pdf", pdf)
    assert caught.value.detail == "the PDF is protected by a password and cannot be read"


def test_a_pdf_with_only_an_owner_password_opens_with_the_empty_one() -> None:
    pdf = encrypted(pdf_document(["printable notes"]), user_password="", owner_password="owner")
    assert extract("pdf", pdf) == "printable notes"


# Word and Excel


def test_docx_paragraphs_and_tables_come_in_document_order() -> None:
    assert extract("docx", docx_document()) == (
        "Quarterly report\n"
        "Revenue grew in every region.\n"
        "\n"
        "Region and quarter | Revenue\n"
        "North | Q1 | 120\n"
        "South | Q1 | 95\n"
        "\n"
        "Figures are unaudited."
    )


def test_xlsx_sheets_come_with_their_names_and_rows_as_comma_separated_values() -> None:
    assert extract("xlsx", xlsx_document()) == (
        '## Sheet: People\nname,city,age\nAda,London,36\nGrace,"Arlington, VA",85\n\n## Sheet: Totals\ncount,2\n,,,1.5'
    )


@pytest.mark.parametrize("type_name", ["docx", "xlsx"])
@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 not really a zip",
        zip_of({"hello.txt": b"hello"}),
        zip_of({"[Content_Types].xml": b"<Types", "word/document.xml": b"<w:document", "xl/workbook.xml": b"<x"}),
    ],
    ids=["not-a-zip", "other-zip", "broken-xml"],
)
def test_a_corrupt_office_file_is_unusable(type_name: str, data: bytes) -> None:
    with pytest.raises(AttachmentUnusable, match="damaged"):
        extract(type_name, data)


@pytest.mark.parametrize("type_name", ["docx", "xlsx"])
def test_a_truncated_office_file_is_unusable(type_name: str) -> None:
    data = docx_document() if type_name == "docx" else xlsx_document()
    with pytest.raises(AttachmentUnusable, match="damaged"):
        extract(type_name, data[: len(data) // 2])


@pytest.mark.parametrize("type_name", ["docx", "xlsx"])
def test_a_zip_bomb_is_refused_before_it_is_inflated(type_name: str, zip_bomb: bytes) -> None:
    assert len(zip_bomb) < 1024 * 1024
    with pytest.raises(AttachmentUnusable, match="expands to far more data"):
        extract(type_name, zip_bomb)


# The cap


def test_text_over_the_cap_is_cut_and_marked_within_the_cap() -> None:
    text = "\n".join(f"line {number:04d}" for number in range(2000))
    result = extract("txt", text.encode(), max_chars=1000)
    assert len(result) <= 1000
    assert result.endswith("\n" + TRUNCATION_NOTICE)
    body = result.removesuffix("\n" + TRUNCATION_NOTICE)
    assert text.startswith(body)
    assert len(body) > 900


def test_text_exactly_at_the_cap_is_not_marked() -> None:
    assert extract("md", b"x" * 1000, max_chars=1000) == "x" * 1000


def test_a_long_document_is_cut_at_the_cap() -> None:
    pages = [[f"Page {number} line {line}" for line in range(40)] for number in range(30)]
    result = extract("pdf", pdf_document(*pages), max_chars=2000)
    assert len(result) <= 2000
    assert result.startswith("Page 0 line 0\nPage 0 line 1\n")
    assert result.endswith(TRUNCATION_NOTICE)
    assert "Page 29" not in result


@given(text=st.text(), max_chars=st.integers(min_value=1, max_value=300))
def test_the_result_is_the_text_or_a_marked_prefix_within_the_cap(text: str, max_chars: int) -> None:
    result = extract("txt", text.encode(), max_chars=max_chars)
    assert len(result) <= max_chars
    if len(text) <= max_chars:
        assert result == text
    elif result != TRUNCATION_NOTICE[:max_chars]:  # a cap too small for any text beside the notice
        body = result.removesuffix("\n" + TRUNCATION_NOTICE)
        assert body != result
        assert body
        assert text.startswith(body)


# Damaged input never escapes as a library error


_SAMPLES = {"pdf": pdf_document(["Hello world"], ["Second"]), "docx": docx_document(), "xlsx": xlsx_document()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(type_name=st.sampled_from(sorted(_SAMPLES)), data=st.data())
def test_a_damaged_document_gives_text_or_attachment_unusable(type_name: str, data: st.DataObject) -> None:
    sample = bytearray(_SAMPLES[type_name])
    for _ in range(data.draw(st.integers(min_value=1, max_value=8), label="edits")):
        at = data.draw(st.integers(min_value=0, max_value=len(sample) - 1), label="at")
        sample[at] = data.draw(st.integers(min_value=0, max_value=255), label="byte")
    cut = data.draw(st.integers(min_value=len(sample) // 2, max_value=len(sample)), label="cut")
    result, refusal = "", "damaged"
    try:
        result = extract(type_name, bytes(sample[:cut]))
    except AttachmentUnusable as refused:
        refusal = refused.detail
    assert len(result) <= CAP
    assert "damaged" in refusal or "password" in refusal


# Misuse and start-up cost


@pytest.mark.parametrize("type_name", ["png", "jpeg", "gif", "webp"])
def test_an_image_is_a_programming_error(type_name: str) -> None:
    with pytest.raises(ValueError, match="no text"):
        extract(type_name, b"\x89PNG\r\n\x1a\n")


def test_a_cap_below_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        extract("txt", b"x", max_chars=0)


def test_importing_the_module_loads_none_of_the_document_libraries() -> None:
    probe = (
        "import sys, apis.shared.knowledge.text_extraction; "
        "print(sorted(name for name in ('pypdf', 'docx', 'openpyxl') if name in sys.modules))"
    )
    repository = Path(__file__).resolve().parents[3]
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=repository
    )
    assert completed.stdout.strip() == "[]"
