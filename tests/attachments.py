"""Sample attachments and the client side of an upload, shared by the files and turn tests."""

from __future__ import annotations

import struct
import zlib
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


def tiny_pdf(text: str = "Quarterly report: revenue grew") -> bytes:
    """A one-page PDF that draws `text` in Helvetica, with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def put_bytes(services: Services, url: str, data: bytes, content_type: str) -> httpx.Response:
    """PUT to an upload URL: the app API's own (a path) or a presigned storage URL (absolute), no bearer token."""
    headers = {"Content-Type": content_type}
    if url.startswith("/"):
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
    put = await put_bytes(services, presigned.json()["uploadUrl"], data, mime_type)
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
