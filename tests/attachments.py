"""Sample attachments and the client side of an upload, shared by the files and turn tests."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import httpx

from tests.fixtures.services import Services


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of grey pixels, built by hand: signature, IHDR, one IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def _page_content(lines: Sequence[str]) -> bytes:
    """A content stream that writes `lines` in Helvetica, or draws one line (no text) when there are none."""
    if not lines:
        return b"0.5 w 72 72 m 540 720 l S"
    body = b"\n".join(_pdf_string(line) + b" Tj T*" for line in lines)
    return b"BT /F1 12 Tf 14 TL 72 720 Td\n" + body + b"\nET"


def pdf_document(*pages: Sequence[str]) -> bytes:
    """A PDF written by hand: catalog, page tree, Helvetica, a page and a content stream per page, xref, trailer."""
    page_numbers = [4 + 2 * index for index in range(len(pages))]
    kids = " ".join(f"{number} 0 R" for number in page_numbers)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for number, lines in zip(page_numbers, pages, strict=True):
        content = _page_content(lines)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            + f"/Resources << /Font << /F1 3 0 R >> >> /Contents {number + 1} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def tiny_pdf(text: str = "Quarterly report: revenue grew") -> bytes:
    """A one-page PDF that says `text`."""
    return pdf_document([text])


def word_document(*paragraphs: str) -> bytes:
    """A real DOCX with one paragraph per argument."""
    from docx import Document

    document = Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def workbook(*rows: Sequence[object]) -> bytes:
    """A real XLSX whose one sheet holds `rows`."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def put_bytes(services: Services, url: str, data: bytes, content_type: str) -> httpx.Response:
    """PUT to an upload URL, no bearer token: the app API's own (absolute, or a path) or a presigned S3 URL."""
    headers = {"Content-Type": content_type}
    if url.startswith(("/", str(services.app.base_url))):
        return await services.app.put(url, content=data, headers=headers)
    async with httpx.AsyncClient() as client:
        return await client.put(url, content=data, headers=headers)


async def presign(
    services: Services, user_id: str, session_id: str, filename: str, mime_type: str, size: int
) -> httpx.Response:
    body = {"sessionId": session_id, "filename": filename, "mimeType": mime_type, "sizeBytes": size}
    return await services.app.post("/files/presign", json=body, headers=services.auth(user_id))


async def upload(
    services: Services, user_id: str, session_id: str, filename: str, mime_type: str, data: bytes
) -> dict[str, Any]:
    """Presign, PUT and complete one file; the completed file's JSON."""
    presigned = await presign(services, user_id, session_id, filename, mime_type, len(data))
    assert presigned.status_code == 200, presigned.text
    put = await put_bytes(services, presigned.json()["presignedUrl"], data, mime_type)
    assert put.status_code == 200, put.text
    upload_id = presigned.json()["uploadId"]
    completed = await services.app.post(f"/files/{upload_id}/complete", headers=services.auth(user_id))
    assert completed.status_code == 200, completed.text
    result: dict[str, Any] = completed.json()
    return result


async def download(services: Services, user_id: str, upload_id: str) -> httpx.Response:
    """GET the bytes, following a redirect to a presigned storage URL as a browser would (without the token)."""
    response = await services.app.get(f"/files/{upload_id}/download", headers=services.auth(user_id))
    if response.status_code == 307:
        async with httpx.AsyncClient() as client:
            return await client.get(response.headers["location"])
    return response
