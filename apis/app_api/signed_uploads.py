"""The body of a PUT to one of the local backend's signed upload URLs, read no further than its grant allows."""

from __future__ import annotations

from fastapi import Request

from apis.shared.files import FileTooLarge
from apis.shared.files.upload_tokens import UploadGrant


async def read_granted_body(request: Request, grant: UploadGrant) -> bytes:
    """The request's bytes; 413 as soon as they pass the size the grant names (declared or sent)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > grant.size_bytes:
        raise FileTooLarge(f"this upload takes at most {grant.size_bytes} bytes")
    received = bytearray()
    async for chunk in request.stream():
        received.extend(chunk)
        if len(received) > grant.size_bytes:
            raise FileTooLarge(f"this upload takes at most {grant.size_bytes} bytes")
    return bytes(received)
